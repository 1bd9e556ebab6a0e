"""Latent vectors: seeds -> z, walks between keyframes, directions and vector arithmetic.

Tile i of a grid requested with seed s is drawn from seed s + i alone, so any tile can be
reproduced on its own. Slerp keeps the latent's magnitude: the generator eats raw N(0, I) noise,
whose norm concentrates near sqrt(nz), not unit vectors, so we interpolate the direction on the
sphere and the norm linearly. Everything here is pure tensor math on (N, nz) tensors; sampling
the generator is `sample` in this module, which sets eval mode and no_grad itself.
"""
from __future__ import annotations

import torch

from .errors import ConfigError


MAX_SEED = 2 ** 63 - 1  # seeds are non-negative 64-bit signed integers (and s + i stays below 2^64)


def z_from_seed(seed: int, nz: int = 100, truncation: float | None = None) -> torch.Tensor:
    """One latent (nz,) from its own seed, identical on every machine (drawn on CPU).

    truncation T (the truncation trick, Brock et al. 2019): every component outside ±T is drawn
    again, from the same seeded stream, until it falls inside, so z follows N(0, 1) truncated to
    [-T, T] (not a rescaled or clipped z) and a seed still names one latent. Smaller T trades
    variety for typical, cleaner samples; T >= 4 changes almost nothing."""
    if not 0 <= int(seed) <= MAX_SEED + 1024:
        raise ConfigError(f"seeds must lie between 0 and {MAX_SEED}, got {seed}")
    g = torch.Generator().manual_seed(int(seed))
    z = torch.randn(nz, generator=g)
    if truncation is not None:
        if not truncation > 0:
            raise ConfigError(f"truncation must be above 0 (got {truncation})")
        for _ in range(10_000):  # each round keeps a component with P(|z| <= T): few rounds unless T is tiny
            out = z.abs() > truncation
            if not out.any():
                break
            z[out] = torch.randn(int(out.sum()), generator=g)
        z.clamp_(-truncation, truncation)  # only reached for absurdly small T
    return z


def z_from_seeds(seeds, nz: int = 100, truncation: float | None = None) -> torch.Tensor:
    return torch.stack([z_from_seed(s, nz, truncation) for s in seeds])


def grid_seeds(seed: int, n: int) -> list[int]:
    return [int(seed) + i for i in range(n)]


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation of direction, linear of norm. z0, z1: (..., nz)."""
    n0, n1 = z0.norm(dim=-1, keepdim=True), z1.norm(dim=-1, keepdim=True)
    u0, u1 = z0 / n0.clamp_min(1e-12), z1 / n1.clamp_min(1e-12)
    dot = (u0 * u1).sum(-1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.arccos(dot)
    so = torch.sin(omega)
    # nearly parallel directions: slerp degenerates to lerp of the unit vectors
    near = so.abs() < 1e-6
    a = torch.where(near, 1.0 - t, torch.sin((1.0 - t) * omega) / torch.where(near, 1.0, so))
    b = torch.where(near, torch.full_like(so, t), torch.sin(t * omega) / torch.where(near, 1.0, so))
    u = a * u0 + b * u1
    u = u / u.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return u * ((1.0 - t) * n0 + t * n1)


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: float) -> torch.Tensor:
    return (1.0 - t) * z0 + t * z1


def walk(keys: torch.Tensor, frames: int, mode: str = "slerp", loop: bool = False) -> torch.Tensor:
    """keys (K, nz), K >= 2 -> (frames, nz) evenly spaced along the path through all keys."""
    if keys.shape[0] < 2:
        raise ConfigError("a walk needs at least two keyframes")
    if frames < 2:
        raise ConfigError("a walk needs at least two frames")
    fn = {"slerp": slerp, "lerp": lerp}.get(mode)
    if fn is None:
        raise ConfigError(f"mode must be 'slerp' or 'lerp', got {mode!r}")
    if loop:
        keys = torch.cat([keys, keys[:1]])
    segs = keys.shape[0] - 1
    out = []
    for i in range(frames):
        pos = i * segs / (frames - 1 if not loop else frames)
        k = min(int(pos), segs - 1)
        out.append(fn(keys[k], keys[k + 1], pos - k))
    return torch.stack(out)


def at(keys: torch.Tensor, t: float, mode: str = "slerp") -> torch.Tensor:
    """The point at t in [0, 1] along the keyframe path (for a scrubbing slider)."""
    segs = keys.shape[0] - 1
    pos = min(max(float(t), 0.0), 1.0) * segs
    k = min(int(pos), segs - 1)
    return (slerp if mode == "slerp" else lerp)(keys[k], keys[k + 1], pos - k)


def arithmetic(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """mean(A) - mean(B) + mean(C), each term a (k, nz) stack of latents (the paper's Fig. 7)."""
    return a.mean(0) - b.mean(0) + c.mean(0)


@torch.no_grad()
def principal_directions(generator: torch.nn.Module, k: int = 5, n: int = 2048, seed: int = 0) -> torch.Tensor:
    """Top-k directions in z of G's first-layer response (PCA, as GANSpace does): (k, nz) unit rows."""
    nz = generator.nz
    z = torch.randn(n, nz, generator=torch.Generator().manual_seed(seed))
    was = generator.training
    generator.eval()
    dev = next(generator.parameters()).device
    feats = generator.main[0:3](z.to(dev)[:, :, None, None]).flatten(1).double().cpu()
    generator.train(was)
    feats = feats - feats.mean(0)
    # principal axes of the features (a seeded randomized SVD: the top k of a (n, 4096+) matrix in a
    # fraction of a second, where the full SVD took ~15 s on one core), mapped back to z by least squares
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        _, _, v = torch.svd_lowrank(feats, q=min(k + 10, *feats.shape), niter=4)
    coords = feats @ v[:, :k]  # (n, k)
    dirs = torch.linalg.lstsq(coords, (z - z.mean(0)).double()).solution  # (k, nz)
    return (dirs / dirs.norm(dim=1, keepdim=True)).float()


def move_along(z: torch.Tensor, directions: torch.Tensor, alphas) -> torch.Tensor:
    """z (nz,) moved by sum_i alphas[i] * directions[i] (unit rows, (k, nz)), in steps of half a
    typical latent's length (0.5 * sqrt(nz)): alpha = 2 moves as far as z is long."""
    a = torch.as_tensor([float(x) for x in alphas], dtype=z.dtype)
    if a.shape[0] != directions.shape[0] or not torch.isfinite(a).all():
        raise ConfigError(f"give {directions.shape[0]} finite amounts, one per direction")
    return z + (a @ directions) * (0.5 * z.shape[-1] ** 0.5)


@torch.no_grad()
def sample(generator: torch.nn.Module, z: torch.Tensor, batch_size: int = 256, eval_mode: bool = True) -> torch.Tensor:
    """G(z) in (-1, 1) on CPU, in batches, with G in eval mode (BatchNorm running stats)."""
    was = generator.training
    generator.train(not eval_mode)
    dev = next(generator.parameters()).device
    try:
        outs = [generator(z[i:i + batch_size].to(dev)).float().cpu() for i in range(0, len(z), batch_size)]
    finally:
        generator.train(was)
    return torch.cat(outs)
