"""VGG-16 features for precision and recall, as Kynkäänniemi et al. (2019) and torch-fidelity use.

torchvision's VGG-16 (ImageNet weights `vgg16-397923af.pth`) up to the second fully connected layer
and its ReLU: 4096-d features of each image resized to 224x224 (bilinear) and normalised with
ImageNet's mean and standard deviation. Weights come the same way as the Inception's (weights.py):
`--pr-weights`, $DCGAN_VGG16_WEIGHTS, the torch hub cache, or a one-time hash-checked download.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .errors import WeightsUnavailable
from .weights import locate

WEIGHTS_NAME = "vgg16-397923af.pth"
WEIGHTS_URL = "https://download.pytorch.org/models/vgg16-397923af.pth"
DIMS = 4096
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


class VGG16Features(nn.Module):
    """uint8 (N, C, H, W) or float in (-1, 1) -> (N, 4096) fc2 activations (after ReLU)."""

    def __init__(self):
        super().__init__()
        from torchvision.models import vgg16

        net = vgg16(weights=None)
        self.features, self.avgpool = net.features, net.avgpool
        self.classifier = net.classifier[:5]  # fc1, ReLU, Dropout (identity in eval), fc2, ReLU

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x01 = x.float() / 255.0 if x.dtype == torch.uint8 else (x.float() + 1.0) / 2.0
        if x01.shape[1] == 1:
            x01 = x01.expand(-1, 3, -1, -1)
        x01 = F.interpolate(x01, size=(224, 224), mode="bilinear", align_corners=False)
        mean = torch.tensor(_MEAN, device=x01.device).view(1, 3, 1, 1)
        std = torch.tensor(_STD, device=x01.device).view(1, 3, 1, 1)
        h = self.avgpool(self.features((x01 - mean) / std))
        return self.classifier(torch.flatten(h, 1))


def weights_path(weights: str | os.PathLike | None = None, download: bool = True) -> Path:
    return locate("VGG-16 (precision/recall)", weights, "DCGAN_VGG16_WEIGHTS", WEIGHTS_NAME, WEIGHTS_URL,
                  "397923af", "--pr-weights", download)


def load(weights: str | os.PathLike | None = None, device: str | torch.device = "cpu") -> VGG16Features:
    path = weights_path(weights)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model = VGG16Features()
        # the file holds the whole classifier; we keep its first five modules (fc1 .. fc2's ReLU)
        keep = {k: v for k, v in state.items() if not k.startswith("classifier.6.")}
        model.load_state_dict(keep, strict=True)
    except Exception as e:  # noqa: BLE001 - a wrong or corrupt file is one clear message
        raise WeightsUnavailable(f"{path} is not a VGG-16 weights file "
                                 f"({type(e).__name__}: {str(e).splitlines()[0][:160]})") from None
    return model.eval().requires_grad_(False).to(device)


def make_random_weights(path: str | os.PathLike, seed: int = 0) -> Path:
    """A random-weight file in torchvision's VGG-16 layout, for tests (never for scores)."""
    from torchvision.models import vgg16

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.save(vgg16(weights=None).state_dict(), path)
    return Path(path)
