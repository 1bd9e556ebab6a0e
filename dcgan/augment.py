"""Differentiable augmentation for small datasets (Zhao et al. 2020, "Differentiable Augmentation
for Data-Efficient GAN Training").

D sees every image, real or generated, through the same random transformations, in both updates,
and G's gradients flow back through them; D can then no longer memorise a few hundred real images,
and G is not taught to produce the augmentations (they apply to both sides alike). A policy is a
comma list of:

    color        brightness (+-0.5), saturation (x0..2) and contrast (x0.5..1.5), per image
    translation  shift by up to 1/8 of the side, per image, padding with 0 (mid-grey)
    cutout       blank a square of half the side at a random place, per image

Each call draws fresh parameters from the `torch.Generator` it is given (the run's noise RNG, so a
resumed run stays bit-exact). Inputs and outputs are (N, C, H, W) in (-1, 1); nothing here is
specific to RGB, so grayscale works too. Not here: flips of the real images (data.flip).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .errors import ConfigError

OPS = ("color", "translation", "cutout")


def parse_policy(policy: str | None) -> tuple[str, ...]:
    """'translation,color' -> ('color', 'translation') (the canonical order); 'none' or '' -> ()."""
    names = [p.strip().lower() for p in str(policy or "none").split(",") if p.strip()]
    if names in ([], ["none"]):
        return ()
    unknown = [n for n in names if n not in OPS]
    if unknown:
        raise ConfigError(f"{{augment}} must be 'none' or a comma list of {', '.join(OPS)} (got {str(policy)[:40]!r})",
                          settings=("augment",))
    return tuple(op for op in OPS if op in names)


def _u(x: torch.Tensor, gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.rand(x.shape[0], *shape, generator=gen, device=x.device, dtype=torch.float32).to(x.dtype)


def color(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    x = x + (_u(x, gen, 1, 1, 1) - 0.5)
    mean_c = x.mean(dim=1, keepdim=True)
    x = (x - mean_c) * (_u(x, gen, 1, 1, 1) * 2) + mean_c
    mean_all = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean_all) * (_u(x, gen, 1, 1, 1) + 0.5) + mean_all


def translation(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (n, 1), generator=gen, device=x.device)
    dx = torch.randint(-sw, sw + 1, (n, 1), generator=gen, device=x.device)
    padded = F.pad(x, [sw, sw, sh, sh])  # zeros: mid-grey in (-1, 1)
    rows = torch.arange(h, device=x.device)[None, :] + sh - dy  # (N, H) source row of each output row
    cols = torch.arange(w, device=x.device)[None, :] + sw - dx  # (N, W)
    batch = torch.arange(n, device=x.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (N, H, W, C)
    return out.permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.5) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), generator=gen, device=x.device)
    cx = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), generator=gen, device=x.device)
    ys = torch.arange(h, device=x.device)[None, :, None]
    xs = torch.arange(w, device=x.device)[None, None, :]
    ry, rx = ys - cy + ch // 2, xs - cx + cw // 2  # position inside the square, when in [0, side)
    inside = (ry >= 0) & (ry < ch) & (rx >= 0) & (rx < cw)
    return x * (~inside)[:, None].to(x.dtype)


_FNS = {"color": color, "translation": translation, "cutout": cutout}


class Augment:
    """policy -> a callable (x, gen) -> x; the identity for the empty policy."""

    def __init__(self, policy: str | None):
        self.ops = parse_policy(policy)

    def __bool__(self) -> bool:
        return bool(self.ops)

    def __call__(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        for op in self.ops:
            x = _FNS[op](x, gen)
        return x
