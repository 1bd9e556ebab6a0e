"""Did the generator copy its training set? Each generated image's nearest real images, and a copy flag.

The descriptor is a colour thumbnail: the image area-averaged to 8x8 (192 numbers), its mean
removed, scaled to unit length. Averaging over 8x8-pixel cells (at 64 px) washes out what JPEG
or WebP re-encoding changes (block and ringing artefacts live inside those cells), and removing the
mean ignores a uniform brightness shift; a mirror flip is seen through by taking, for each pair,
the smaller of the distances from the generated image and from its mirror image. Measured on the
bundled faces (docs/fid.md): mirrored copies re-encoded as JPEG at quality 90/75/50 lie within
0.04/0.06/0.10 of their originals, while the real images' own nearest neighbours lie at 0.10 (1st
percentile) to 0.28 (median). Inception features were tried first and rejected: at 64 px a
quality-90 JPEG of an image moved its pool3 features as far as a different face's.

The copy threshold is calibrated on the real set itself: the distance from each of (up to) 2,000
real images to its nearest other real image; a generated image is a likely copy when it is closer
to a real image than 99% of real images are to their nearest distinct neighbour (the 1st
percentile; exact duplicates inside the real set are skipped), with a floor of a quarter of the
median so that a set full of near-duplicates still gets a usable bar. Pure tensor math;
no reading of files, no networks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

THUMB = 8  # the descriptor's side: 8x8 cells x 3 colours
CALIBRATION_IMAGES = 2000
QUANTILE = 0.01
FLOOR_OF_MEDIAN = 0.25


def describe(x: torch.Tensor) -> torch.Tensor:
    """uint8 (N, C, H, W) -> (N, C*64) unit-length, zero-mean colour thumbnails."""
    f = F.adaptive_avg_pool2d(x.float() / 255.0, THUMB).flatten(1)
    if f.shape[1] == THUMB * THUMB:  # grayscale: the same numbers in three channels, as RGB would read
        f = f.repeat(1, 3)
    return F.normalize(f - f.mean(1, keepdim=True), dim=1)


def mirror_distances(query: torch.Tensor, query_mirrored: torch.Tensor, ref: torch.Tensor,
                     chunk: int = 1024) -> torch.Tensor:
    """(Nq, Nr) distances between descriptors, each the smaller of query-ref and mirrored-query-ref."""
    rows = []
    exact = "donot_use_mm_for_euclid_dist"  # the matmul shortcut reads an identical pair as ~1e-3 apart
    for i in range(0, len(query), chunk):
        rows.append(torch.minimum(torch.cdist(query[i:i + chunk], ref, compute_mode=exact),
                                  torch.cdist(query_mirrored[i:i + chunk], ref, compute_mode=exact)))
    return torch.cat(rows) if rows else torch.empty(0, len(ref))


@dataclass(frozen=True)
class Calibration:
    threshold: float  # distances below it are likely copies
    quantile_distance: float  # the real images' nearest-neighbour distance at QUANTILE
    median_distance: float  # ... and at the median
    n_real: int  # images it was measured on


def calibrate(real: torch.Tensor, real_mirrored: torch.Tensor, seed: int = 0) -> Calibration:
    """The copy threshold from the real set's own nearest-neighbour distances (see the docstring)."""
    n = len(real)
    if n < 3:
        raise ValueError("calibrating the copy threshold needs at least 3 real images")
    pick = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:CALIBRATION_IMAGES]
    d = mirror_distances(real[pick], real_mirrored[pick], real)
    d[torch.arange(len(pick)), pick] = float("inf")  # not itself
    d[d < 1e-6] = float("inf")  # nor its exact duplicates: the bar is set by distinct neighbours
    nn = d.min(1).values.double().numpy()
    nn = nn[np.isfinite(nn)]
    if not len(nn):
        raise ValueError("the real images are all the same picture: there is nothing to calibrate the copy check on")
    q, med = float(np.quantile(nn, QUANTILE)), float(np.median(nn))
    return Calibration(max(q, FLOOR_OF_MEDIAN * med), q, med, len(pick))


def nearest(gen: torch.Tensor, gen_mirrored: torch.Tensor, real: torch.Tensor, k: int = 3
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """(distances, indices), each (N, k): every generated image's k nearest real images, nearest first."""
    d = mirror_distances(gen, gen_mirrored, real)
    vals, idx = d.topk(min(k, real.shape[0]), dim=1, largest=False)
    return vals, idx
