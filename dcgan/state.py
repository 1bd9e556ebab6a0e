"""The training state: models, optimisers, RNGs and position, to and from a checkpoint.

Everything needed to continue a run exactly lives in one `TrainState`: G and D, both Adam
optimisers, the epoch order RNG (`order_rng`, the same on every rank) and the noise RNG
(`noise_rng`, per rank: z, flips, augmentation), the current epoch's permutation and position in
it, the fixed noise of the sample grids, the metrics so far and the best diversity / FID seen.
`to_checkpoint` turns it into tensors and plain containers only, so a checkpoint loads with
`torch.load(weights_only=True)`; `TrainState.create` builds a fresh state or restores one.
Checkpoint keys: config, G, D, opt_g, opt_d, epoch, step, step_in_epoch, epoch_perm, rng (the
order RNG), rank_rng (the noise RNG of each rank), fixed_noise, metrics, best_diversity,
best_diversity_epoch, best_fid, world_size, and G_ema (the moving average of G's weights, with
`--ema`; None otherwise).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch

from .config import TrainConfig
from .distributed import Dist
from .latent import grid_seeds, z_from_seeds
from .models import Discriminator, Generator, build


def noise_seed(seed: int, rank: int) -> int:
    """Each rank's noise stream, distinct from the epoch order's (which is seeded with `seed`)."""
    return (seed * 1009 + rank + 1) % (1 << 63)


def ema_decay(decay: float, step: int) -> float:
    """The EMA's decay at G step `step` (counted from 0): `decay`, warmed up (see update_ema)."""
    return min(decay, (1.0 + step) / (10.0 + step))


@dataclass
class TrainState:
    g: Generator
    d: Discriminator
    opt_g: torch.optim.Adam
    opt_d: torch.optim.Adam
    order_rng: torch.Generator  # draws each epoch's permutation, identically on every rank
    noise_rng: torch.Generator  # draws z, flips and augmentation, per rank
    fixed_noise: torch.Tensor  # (n_samples, nz): the latents of every epoch's grid
    epoch: int = 0  # epochs completed
    step: int = 0  # optimiser steps completed
    step_in_epoch: int = 0  # where a mid-epoch checkpoint stopped
    perm: torch.Tensor | None = None  # this epoch's order, kept across a mid-epoch checkpoint
    metrics: list[dict] = field(default_factory=list)
    best_diversity: float | None = None
    best_diversity_epoch: int | None = None
    best_fid: float | None = None
    g_ema: Generator | None = None  # the moving average of G's weights (--ema), in eval mode

    @property
    def shown(self) -> Generator:
        """The run's generator: what its grids, FID, generator/ export and the page draw."""
        return self.g_ema if self.g_ema is not None else self.g

    @torch.no_grad()
    def update_ema(self, decay: float) -> None:
        """ema <- d * ema + (1 - d) * G after each G step, with d = min(decay, (1 + t) / (10 + t)) at
        step t: early on the average follows G closely instead of dragging its random init along
        for ~1/(1 - decay) steps (the warm-up of TensorFlow's ExponentialMovingAverage). BatchNorm's
        running statistics are copied from G, not averaged (as StyleGAN2-ADA does: they already
        are averages)."""
        d = ema_decay(decay, self.step)
        ema_p, g_p = list(self.g_ema.parameters()), list(self.g.parameters())
        torch._foreach_lerp_(ema_p, g_p, 1.0 - d)
        for b_ema, b in zip(self.g_ema.buffers(), self.g.buffers()):
            b_ema.copy_(b)

    @classmethod
    def create(cls, cfg: TrainConfig, device: torch.device, dist: Dist, checkpoint: dict | None = None,
               memory_format=torch.channels_last) -> "TrainState":
        """A fresh state from cfg.seed, or the one `checkpoint` holds, on `device`."""
        g, d = build(cfg.model(), seed=cfg.seed)
        if checkpoint is not None:
            g.load_state_dict(checkpoint["G"])
            d.load_state_dict(checkpoint["D"])
        g = g.to(device, memory_format=memory_format).train()
        d = d.to(device, memory_format=memory_format).train()
        adam = dict(lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), **({"fused": True} if device.type == "cuda" else {}))
        opt_g, opt_d = torch.optim.Adam(g.parameters(), **adam), torch.optim.Adam(d.parameters(), **adam)
        order_rng, noise_rng = torch.Generator(device), torch.Generator(device)
        g_ema = None
        if cfg.ema:  # starts as G itself; a resumed run continues the saved average
            g_ema = copy.deepcopy(g).eval().requires_grad_(False)
            if checkpoint is not None and checkpoint.get("G_ema") is not None:
                g_ema.load_state_dict(checkpoint["G_ema"])
        if checkpoint is None:
            order_rng.manual_seed(cfg.seed)
            noise_rng.manual_seed(noise_seed(cfg.seed, dist.rank))
            return cls(g, d, opt_g, opt_d, order_rng, noise_rng,
                       fixed_noise=z_from_seeds(grid_seeds(cfg.seed, cfg.n_samples), cfg.nz), g_ema=g_ema)
        if checkpoint["opt_g"] is not None:
            opt_g.load_state_dict(checkpoint["opt_g"])
            opt_d.load_state_dict(checkpoint["opt_d"])
            for opt in (opt_g, opt_d):  # Adam's moments carry over; a changed lr or betas applies from here
                for group in opt.param_groups:
                    group["lr"], group["betas"] = cfg.lr, (cfg.beta1, cfg.beta2)
        order_rng.set_state(checkpoint["rng"])
        ranks = checkpoint.get("rank_rng")
        if ranks and len(ranks) == dist.world:
            noise_rng.set_state(ranks[dist.rank])
        elif dist.world == 1:  # a format-1 checkpoint: one RNG served both purposes
            noise_rng.set_state(checkpoint["rng"])
        else:  # resumed on a different number of ranks: new per-rank streams
            noise_rng.manual_seed(noise_seed(cfg.seed, dist.rank) + checkpoint["step"])
        return cls(g, d, opt_g, opt_d, order_rng, noise_rng, fixed_noise=checkpoint["fixed_noise"],
                   epoch=checkpoint["epoch"], step=checkpoint["step"], step_in_epoch=checkpoint["step_in_epoch"],
                   perm=checkpoint["epoch_perm"], metrics=list(checkpoint["metrics"]),
                   best_diversity=checkpoint["best_diversity"], best_fid=checkpoint.get("best_fid"),
                   best_diversity_epoch=checkpoint.get("best_diversity_epoch"), g_ema=g_ema)

    def to_checkpoint(self, run_config: dict, dist: Dist, step_in_epoch: int = 0,
                      perm: torch.Tensor | None = None) -> dict:
        """Tensors and plain containers only. Under torchrun a collective: every rank calls it."""
        return {"config": run_config, "G": self.g.state_dict(), "D": self.d.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(), "epoch": self.epoch,
                "step": self.step, "step_in_epoch": step_in_epoch,
                "epoch_perm": None if perm is None else perm.cpu(), "rng": self.order_rng.get_state(),
                "rank_rng": dist.gather(self.noise_rng.get_state()), "fixed_noise": self.fixed_noise,
                "metrics": self.metrics, "best_diversity": self.best_diversity,
                "best_diversity_epoch": self.best_diversity_epoch, "best_fid": self.best_fid,
                "world_size": dist.world, "G_ema": None if self.g_ema is None else self.g_ema.state_dict()}
