"""How strongly images carry the periodic pattern a stride-2 upsampling leaves: the checkerboard.

A 4x4 stride-2 transposed convolution paints its output through kernels that overlap unevenly
(Odena, Dumoulin & Olah 2016), so every one of G's x2 steps can leave a pattern that repeats every
2 output pixels of that step: periods of 2, 4 and 8 px in a 64-px image. In the 2-D power spectrum
such a pattern is a set of sharp peaks on a lattice: at the bins whose frequencies (cycles per
image, on each axis) are multiples of S/p for period p. Natural images have a smooth spectrum
there (the 1/f falloff of Durall et al. 2020 and Frank et al. 2020), so the measure is *peak
contrast*: the power at each lattice bin over the mean power of its 8 neighbours, pooled per
period. About 1 means no pattern; the images of the run's own data give the yardstick (pixel-art
or upscaled data can carry peaks of their own).

Pure tensor functions, no I/O; the monitor compares samples against real images with them.
"""
from __future__ import annotations

import torch

PERIODS = (2, 4, 8)


def _gray(images: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) uint8 or float in (-1, 1) -> (N, H, W) float64, each image's mean removed."""
    x = images.detach().cpu()
    x = x.double() / 127.5 - 1 if x.dtype == torch.uint8 else x.double()
    x = x.mean(1)
    return x - x.mean((1, 2), keepdim=True)


def power(images: torch.Tensor) -> torch.Tensor:
    """The mean 2-D power spectrum (H, W) of the images' luminance, unshifted (bin (0, 0) is DC)."""
    f = torch.fft.fft2(_gray(images))
    return (f.real ** 2 + f.imag ** 2).mean(0)


def lattice(size: int, period: int) -> list[tuple[int, int]]:
    """The spectrum bins of an S x S image where a pattern of this period (and no shorter one of
    PERIODS) puts its peaks: both coordinates multiples of S/period, not all multiples of S/(period/2)."""
    step = size // period
    if step < 2:  # the peaks' neighbours would be peaks too: the period is too long for this size
        return []
    finer = size // (period // 2) if period > 2 else None
    out = []
    for ky in range(0, size, step):
        for kx in range(0, size, step):
            if (ky, kx) == (0, 0) or (finer and ky % finer == 0 and kx % finer == 0):
                continue
            out.append((ky, kx))
    return out


def peak_contrast(images: torch.Tensor, periods=PERIODS) -> dict[str, float]:
    """{"2": c2, "4": c4, "8": c8}: for each period, the summed power at its lattice bins over the
    summed mean power of each bin's 8 neighbours. ~1: no periodic pattern; 3: peaks three times
    their surroundings. Images (N, C, S, S), N >= 1, uint8 or float in (-1, 1)."""
    p = power(images)
    size = p.shape[-1]
    if p.shape[-2] != size:
        raise ValueError("peak_contrast expects square images")
    out = {}
    for period in periods:
        bins = lattice(size, period)
        if not bins:
            continue
        peak = base = 0.0
        for ky, kx in bins:
            ring = [p[(ky + dy) % size, (kx + dx) % size] for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
            peak += float(p[ky, kx])
            base += float(sum(ring)) / len(ring)
        out[str(period)] = peak / max(base, 1e-12)
    return out


def excess(samples: dict[str, float], real: dict[str, float]) -> dict[str, float]:
    """Each period's peak contrast in the samples over the real images' (1: as the data)."""
    return {k: v / max(real.get(k, 1.0), 1e-12) for k, v in samples.items()}
