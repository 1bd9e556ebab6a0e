"""The DCGAN generator and discriminator of Radford, Metz & Chintala (2015).

Layers follow the paper and pytorch/examples' dcgan: 4x4 kernels, stride 2, padding 1, no conv
bias, BatchNorm everywhere except G's output and D's input, ReLU/Tanh in G, LeakyReLU(0.2)/Sigmoid
in D. Image sizes 32, 64 and 128 remove or add one stride-2 block; at 64 the state-dict keys equal
pytorch/examples' (`main.0.weight`, ...), so its checkpoints load here.

Both classes are Hugging Face `PyTorchModelHubMixin` models: `save_pretrained` writes
model.safetensors + config.json and `from_pretrained` rebuilds them from that alone. This module
holds no training logic and no I/O beyond what the mixin provides.
"""
from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, replace

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .errors import ConfigError

SIZES = (32, 64, 128)
UPSAMPLING = ("transposed", "resize")
HUB_TAGS = ["gan", "dcgan", "unconditional-image-generation", "dcgan-studio"]


@dataclass
class ModelConfig:
    """Everything needed to rebuild G and D; stored in every checkpoint."""

    nz: int = 100  # latent size
    ngf: int = 64  # generator width (channels of its last hidden block)
    ndf: int = 64  # discriminator width (channels of its first block)
    nc: int = 3  # image channels
    image_size: int = 64
    upsample: str = "transposed"  # G's stride-2 blocks: the paper's transposed convolutions, or resize-conv

    def __post_init__(self):
        check_size(self.image_size)
        check_upsample(self.upsample)
        for name in ("nz", "ngf", "ndf", "nc"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")

    def to_dict(self) -> dict:
        return asdict(self)

    def half(self) -> "ModelConfig":
        """The blog's fix for mode collapse: half the channels of G and D (32 with the defaults)."""
        return replace(self, ngf=max(1, self.ngf // 2), ndf=max(1, self.ndf // 2))


def check_size(image_size: int) -> int:
    if image_size not in SIZES:
        raise ConfigError(f"image_size must be one of {SIZES}, got {image_size}")
    return int(image_size)


class _HubModel(PyTorchModelHubMixin):
    """`from_pretrained` that reads model.safetensors only and loads with strict=True.

    The stock mixin loads non-strictly (a missing key passes silently) and falls back to
    pickled .bin files; a GAN someone shares should fail loudly instead.
    """

    @classmethod
    def _from_pretrained(cls, *, model_id: str, revision=None, cache_dir=None, force_download=False,
                         local_files_only=False, token=None, map_location="cpu", strict=True, **model_kwargs):
        from huggingface_hub import hf_hub_download
        from safetensors.torch import load_file

        if os.path.isdir(model_id):
            path = os.path.join(model_id, "model.safetensors")
        else:
            path = hf_hub_download(model_id, "model.safetensors", revision=revision, cache_dir=cache_dir,
                                   force_download=force_download, local_files_only=local_files_only,
                                   token=token)
        model = cls(**model_kwargs)
        model.load_state_dict(load_file(path, device=str(map_location)), strict=True)
        return model.to(map_location).eval()


def check_upsample(upsample: str) -> str:
    if upsample not in UPSAMPLING:
        raise ConfigError(f"upsample must be one of {', '.join(UPSAMPLING)}, got {upsample!r}")
    return upsample


def _up(c_in: int, c_out: int, upsample: str) -> list[nn.Module]:
    """One of G's x2 steps: the paper's 4x4 stride-2 transposed convolution, or (resize) nearest-
    neighbour x2 then a 3x3 convolution, which cannot leave the uneven-overlap checkerboard of the
    transposed one (Odena, Dumoulin & Olah 2016)."""
    if upsample == "resize":
        return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False)]
    return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)]


def _n_blocks(image_size: int) -> int:
    """Stride-2 blocks after the first 4x4 stage: 3 at 32, 4 at 64, 5 at 128."""
    return int(math.log2(check_size(image_size))) - 2


class Generator(nn.Module, _HubModel, library_name="dcgan-studio", tags=HUB_TAGS,
                repo_url="https://huggingface.co/docs/hub/models-uploading"):
    """z (N, nz, 1, 1) -> image (N, nc, S, S) in (-1, 1).

    upsample="resize" departs from the paper: each stride-2 transposed convolution after the first
    4x4 stage becomes nearest-neighbour x2 + a 3x3 convolution (same widths, 9/16 of the weights)."""

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3, image_size: int = 64,
                 upsample: str = "transposed"):
        super().__init__()
        self.nz, self.ngf, self.nc, self.image_size = nz, ngf, nc, check_size(image_size)
        self.upsample = check_upsample(upsample)
        n = _n_blocks(image_size)
        ch = ngf * 2 ** (n - 1)  # 512 at 64x64 with ngf=64
        layers = [nn.ConvTranspose2d(nz, ch, 4, 1, 0, bias=False), nn.BatchNorm2d(ch), nn.ReLU(True)]
        # (ngf*8) x 4 x 4 at 64x64; each block below halves channels and doubles the side
        for _ in range(n - 1):
            layers += [*_up(ch, ch // 2, upsample), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        # ngf x S/2 x S/2 -> nc x S x S
        layers += [*_up(ch, nc, upsample), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() == 2:
            z = z[:, :, None, None]
        return self.main(z)


class Discriminator(nn.Module, _HubModel, library_name="dcgan-studio", tags=HUB_TAGS,
                    repo_url="https://huggingface.co/docs/hub/models-uploading"):
    """image (N, nc, S, S) in (-1, 1) -> probability of being real (N,).

    `logits` gives the pre-sigmoid score; training uses it with BCE-with-logits, which is the
    same loss as Sigmoid + BCELoss but stays finite when D is very sure, and is autocast-safe.
    """

    def __init__(self, nc: int = 3, ndf: int = 64, image_size: int = 64):
        super().__init__()
        self.nc, self.ndf, self.image_size = nc, ndf, check_size(image_size)
        n = _n_blocks(image_size)
        # nc x S x S -> ndf x S/2 x S/2, no BatchNorm on the input layer
        layers = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        ch = ndf
        for _ in range(n - 1):
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(ch * 2), nn.LeakyReLU(0.2, inplace=True)]
            ch *= 2
        # (ndf*8) x 4 x 4 at 64x64 -> 1 x 1 x 1
        layers += [nn.Conv2d(ch, 1, 4, 1, 0, bias=False), nn.Sigmoid()]
        self.main = nn.Sequential(*layers)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.main[:-1]:
            x = layer(x)
        return x.flatten()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))


def weights_init(m: nn.Module) -> None:
    """The paper's init: conv weights N(0, 0.02); BatchNorm weight N(1, 0.02), bias 0."""
    name = type(m).__name__
    if "Conv" in name:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def build(cfg: ModelConfig, seed: int | None = None) -> tuple[Generator, Discriminator]:
    """G and D for `cfg`, initialised with `weights_init` from `seed` (global RNG untouched)."""
    devices = []  # fork_rng on CPU only; the init runs on CPU
    with torch.random.fork_rng(devices=devices):
        if seed is not None:
            torch.manual_seed(seed)
        g = Generator(cfg.nz, cfg.ngf, cfg.nc, cfg.image_size, cfg.upsample)
        d = Discriminator(cfg.nc, cfg.ndf, cfg.image_size)
        g.apply(weights_init)
        d.apply(weights_init)
    return g, d


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())
