"""Image sources -> Inception features -> an FID/KID/precision/recall report with honest warnings.

A side is a folder, a .zip, `demo`, `celeba`, a pytorch-fid .npz, or a generator (run dir,
checkpoint, save_pretrained folder, Hub id) sampled `n` times in eval mode, seed s + i for image
i, quantised to uint8 as a PNG would be (never JPEG). Images are read at their native size, as
pytorch-fid reads them, and resized to 299 inside `inception.preprocess`. Statistics of image
sources are cached by source fingerprint + protocol + weights, so a training set is featurised
once. The math is in fid.py; this module only reads, batches and reports.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import data as datamod
from . import fid as F
from . import inception
from .errors import ConfigError

SMALL_N = 2048


@dataclass
class Side:
    spec: str
    kind: str  # images | generator | npz
    n: int = 0
    mu: np.ndarray | None = None
    sigma: np.ndarray | None = None
    features: np.ndarray | None = None  # kept rows for KID and precision/recall
    lossy: int = 0
    sizes: set = field(default_factory=set)
    skipped: int = 0


def protocol(n: int, resize: str, dims: int) -> str:
    label = f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)
    return f"fid{label}_{resize}_{dims}"


def is_generator(spec: str) -> bool:
    """Whether a side names a generator (sampled) rather than images or statistics: bundled and
    Hub dataset names are images; anything hub.resolve_checkpoint accepts is a generator."""
    from .hub import is_checkpoint

    return not datamod.is_named_source(spec) and is_checkpoint(spec)


def _batches_from_source(source, size: int | None, batch_size: int):
    """The shared decode pipeline (data.decode) -> uint8 (B, 3, H, W) batches of equal-sized images."""
    for chunk in datamod.decode(source, size, progress=None):
        groups: dict = {}
        for _, a in chunk:
            groups.setdefault(a.shape, []).append(a)
        for arrs in groups.values():
            for i in range(0, len(arrs), batch_size):
                yield torch.from_numpy(np.stack(arrs[i:i + batch_size])).permute(0, 3, 1, 2)


def _batches_from_generator(g, n: int, batch_size: int, seed: int):
    from .images import to_uint8
    from .latent import sample, z_from_seeds

    for i in range(0, n, batch_size):
        z = z_from_seeds(range(seed + i, seed + min(i + batch_size, n)), g.nz)
        yield to_uint8(sample(g, z, batch_size=batch_size))


@torch.no_grad()
def _featurise(batches, model, dims: int, resize: str, device, total: int, progress, keep: int) -> F.FeatureStats:
    stats = F.FeatureStats(dims, keep=keep)
    for x in batches:
        stats.update(model(inception.preprocess(x.to(device), resize), dims=dims).float())
        if progress:
            progress(stats.n, total)
    return stats


class Evaluator:
    """Holds the Inception network and the settings; `side(spec)` -> statistics of one side."""

    def __init__(self, weights=None, device="auto", batch_size: int = 50, resize: str = "legacy",
                 dims: int = 2048, keep: int = 10_000, progress=None):
        if dims not in inception.DIMS:
            raise ConfigError(f"--dims must be one of {inception.DIMS}")
        if resize not in ("legacy", "clean"):
            raise ConfigError("--resize must be legacy or clean")
        self.device = torch.device("cuda" if device == "auto" and torch.cuda.is_available()
                                   else "cpu" if device == "auto" else device)
        self.weights_file = inception.weights_path(weights)
        self.model = inception.load(self.weights_file, self.device)
        self.batch_size, self.resize, self.dims, self.keep = max(1, batch_size), resize, dims, keep
        self.progress = progress

    def generator_side(self, g, n: int, seed: int = 0, spec: str = "generator") -> Side:
        """Sample n images from an in-memory generator (eval mode) and featurise them."""
        stats = _featurise(_batches_from_generator(g, n, self.batch_size, seed), self.model, self.dims,
                           self.resize, self.device, n, self.progress, self.keep)
        return Side(spec, "generator", stats.n, stats.mu, stats.sigma, stats.kept,
                    sizes={(g.image_size, g.image_size)})

    def _cache_file(self, fingerprint: str) -> Path:
        wid = inception.weights_id(self.weights_file)
        return datamod.cache_dir() / "fid" / f"{fingerprint}-{self.resize}-{self.dims}-{wid}.npz"

    def side(self, spec: str, n: int | None = None, seed: int = 0, data_root: str | None = None,
             use_cache: bool = True) -> Side:
        spec = str(spec)
        if spec.endswith(".npz"):
            z = F.load_stats(spec, self.dims)
            return Side(spec, "npz", int(z.get("n", 0)), z["mu"], z["sigma"], z.get("features"))
        if is_generator(spec):
            from .hub import load_generator

            return self.generator_side(load_generator(spec, self.device), n or 10_000, seed, spec)
        source = datamod.open_source(spec, data_root)
        cache = self._cache_file(source.report.fingerprint)
        if use_cache and cache.exists():
            z = F.load_stats(cache, self.dims)
            return Side(spec, "images", int(z["n"]), z["mu"], z["sigma"], z["features"], int(z["lossy"]),
                        {tuple(s) for s in z["sizes"].tolist()}, int(z["skipped"]))
        stats = _featurise(_batches_from_source(source, None, self.batch_size), self.model, self.dims,
                           self.resize, self.device, source.count, self.progress, self.keep)
        rep = source.report
        if stats.n == 0:
            raise datamod.DataError(f"none of the {source.count} files in {spec} could be read as an image")
        side = Side(spec, "images", stats.n, stats.mu, stats.sigma if stats.n >= 2 else None, stats.kept,
                    rep.lossy, set(rep.sizes), len(rep.skipped))
        if use_cache and side.sigma is not None:
            F.save_stats(cache, side.mu, side.sigma, features=side.features, n=side.n, lossy=side.lossy,
                         sizes=np.array(sorted(side.sizes)), skipped=side.skipped)
        return side


def warnings_for(a: Side, b: Side, dims: int) -> list[str]:
    out = []
    for label, s in (("A", a), ("B", b)):
        if s.n and s.n < SMALL_N:
            out.append(f"N = {s.n} on side {label} is below {SMALL_N}: FID is biased upwards at small N "
                       "and not comparable with published numbers (10k-50k images)")
        if s.lossy:
            out.append(f"{s.lossy} images on side {label} are JPEG/WebP: compression artefacts raise FID")
        if len(s.sizes) > 1:
            out.append(f"side {label} mixes {len(s.sizes)} image sizes; each image was resized to 299 on its own")
        if s.skipped:
            out.append(f"{s.skipped} unreadable files on side {label} were skipped")
        if s.sigma is not None and s.n > dims:
            rank = F.effective_rank(s.sigma)
            if rank < dims // 2:
                out.append(f"side {label}'s feature covariance has rank {rank} of {dims}: the images are "
                           "nearly alike (a mode-collapse sign)")
    if a.sizes and b.sizes and a.sizes != b.sizes and len(a.sizes) == len(b.sizes) == 1:
        (ha, wa), (hb, wb) = next(iter(a.sizes)), next(iter(b.sizes))
        out.append(f"the sides have different native sizes ({wa}x{ha} vs {wb}x{hb}); resizing affects FID")
    return out


def compare(ev: Evaluator, a: Side, b: Side, kid_subsets: int = 100, extras: bool = True) -> dict:
    """The report: fid, kid_mean, kid_std, precision, recall, n_a, n_b, protocol, warnings.

    extras=False skips KID and precision/recall (FID alone, as tracked during training)."""
    for label, s in (("A", a), ("B", b)):
        if s.sigma is None:
            raise F.StatsError(f"side {label} ({s.spec}) has {s.n} image(s); FID needs at least 2")
    rep = {"fid": F.frechet_distance(a.mu, a.sigma, b.mu, b.sigma), "kid_mean": None, "kid_std": None,
           "precision": None, "recall": None, "n_a": a.n, "n_b": b.n,
           "protocol": protocol(min(a.n, b.n) if a.n and b.n else max(a.n, b.n), ev.resize, ev.dims),
           "resize": ev.resize, "dims": ev.dims, "weights": ev.weights_file.name,
           "warnings": warnings_for(a, b, ev.dims)}
    if not extras:
        pass
    elif a.features is not None and b.features is not None and len(a.features) > 3 and len(b.features) > 3:
        rep["kid_mean"], rep["kid_std"] = F.kid(a.features, b.features, subsets=kid_subsets)
        rep["precision"], rep["recall"] = F.precision_recall(a.features, b.features)
    else:
        rep["warnings"].append("KID and precision/recall need features on both sides (an .npz with only "
                               "mu and sigma has none)")
    return rep
