"""Projection: the latent z whose image G(z) best matches a given picture (GAN inversion).

How: G in eval mode and frozen; `restarts` latents start from seeds s, s+1, ... and are optimised
together with Adam (lr 0.05, betas 0.9/0.999) for `steps` steps on the pixel loss
  MSE(G(z), target) + MSE(pool16(G(z)), pool16(target)) + 0.01 (mean(z²) − 1)²
(the 16x16 term pulls colours and layout into place first; the last keeps z where N(0, I) puts
its mass, so walks and sliders from it behave as from a drawn latent); the restart with the lowest
MSE wins. PSNR is on the (-1, 1) range: 10 log10(2² / MSE). Pure tensors; reading the upload and
writing files is the use case's job (api/projecting.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from .latent import z_from_seeds

LR = 0.05
PRIOR = 0.01


@dataclass
class Projection:
    z: torch.Tensor  # (nz,) the winning latent
    image: torch.Tensor  # (C, H, W) G(z) in (-1, 1)
    mse: float
    psnr: float  # dB, on the (-1, 1) range
    steps: int
    restarts: int
    best_restart: int
    losses: list[float]  # the winner's pixel MSE every 10 steps


def psnr(mse: float) -> float:
    return 10.0 * math.log10(4.0 / max(mse, 1e-12))


def project(g, target: torch.Tensor, steps: int = 300, restarts: int = 4, seed: int = 0,
            progress: Callable[[int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> Projection:
    """target: (C, H, W) in (-1, 1) at G's size and channels. Returns the best of `restarts` runs."""
    dev = next(g.parameters()).device
    was = g.training
    g.eval().requires_grad_(False)
    t = target.to(dev).unsqueeze(0).expand(restarts, -1, -1, -1)
    t16 = F.adaptive_avg_pool2d(t, 16)
    z = z_from_seeds(range(seed, seed + restarts), g.nz).to(dev).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=LR)
    history: list[list[float]] = []
    try:
        for i in range(steps):
            if should_stop is not None and should_stop():
                from .errors import Cancelled

                raise Cancelled("stopped: the projection was cancelled")
            out = g(z.view(restarts, g.nz, 1, 1))
            mse = (out - t).pow(2).flatten(1).mean(1)  # (restarts,)
            loss = mse + (F.adaptive_avg_pool2d(out, 16) - t16).pow(2).flatten(1).mean(1) \
                + PRIOR * (z.pow(2).mean(1) - 1.0).pow(2)
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
            if i % 10 == 0 or i == steps - 1:
                history.append(mse.detach().cpu().tolist())
                if progress:
                    progress(i + 1, steps)
        with torch.no_grad():
            final = g(z.view(restarts, g.nz, 1, 1))
            mse = (final - t).pow(2).flatten(1).mean(1)
    finally:
        g.train(was)
    best = int(mse.argmin())
    m = float(mse[best])
    return Projection(z.detach()[best].cpu(), final[best].float().cpu(), m, psnr(m), steps, restarts, best,
                      [h[best] for h in history])
