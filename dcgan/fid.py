"""The math of FID, KID and precision/recall, on features; plus pytorch-fid compatible .npz stats.

Pure numpy/torch on arrays: no networks, no image reading (metrics.py does that). Statistics
accumulate in float64 as sums, so features never need to be held all at once; a seeded
reservoir keeps up to `keep` feature rows for KID and precision/recall.

The Fréchet distance avoids scipy.linalg.sqrtm: with Σ1 = L Lᵀ, the eigenvalues of Σ1Σ2 equal
those of the symmetric PSD matrix Lᵀ Σ2 L, so tr sqrt(Σ1Σ2) = Σ sqrt(eig(Lᵀ Σ2 L)), computed
with a symmetric eigensolver in float64 (fast, and real by construction).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .errors import StatsError


class FeatureStats:
    """Running mean and covariance of feature rows, in float64, plus a reservoir sample.

    The sums accumulate as float64 torch tensors on the CUDA device the features come from (else on
    the CPU), so on a GPU the d x d outer products never cross to the host; only the reservoir's rows
    do."""

    def __init__(self, dims: int, keep: int = 10_000, seed: int = 0, moments: bool = True):
        self.dims, self.keep, self.n, self.moments = dims, keep, 0, moments
        self._sum: torch.Tensor | None = None
        self._outer: torch.Tensor | None = None
        self.kept = np.empty((0, dims), dtype=np.float32)
        self._rng = np.random.default_rng(seed)

    def update(self, feats: np.ndarray | torch.Tensor) -> None:
        t = feats.detach() if isinstance(feats, torch.Tensor) else torch.from_numpy(np.asarray(feats))
        if t.ndim != 2 or t.shape[1] != self.dims:
            raise StatsError(f"expected features of shape (N, {self.dims}), got {tuple(t.shape)}")
        if self._sum is None:
            dev = t.device if t.device.type == "cuda" else torch.device("cpu")  # MPS has no float64
            self._sum = torch.zeros(self.dims, dtype=torch.float64, device=dev)
            if self.moments:  # moments=False keeps rows only (precision/recall's VGG features)
                self._outer = torch.zeros(self.dims, self.dims, dtype=torch.float64, device=dev)
        t64 = t.to(self._sum.device, torch.float64)
        self._sum += t64.sum(0)
        if self._outer is not None:
            self._outer.addmm_(t64.T, t64)
        self._reservoir(t.float().cpu().numpy())
        self.n += len(t)

    @property
    def sum(self) -> np.ndarray:
        return np.zeros(self.dims) if self._sum is None else self._sum.cpu().numpy()

    @property
    def outer(self) -> np.ndarray:
        return np.zeros((self.dims, self.dims)) if self._outer is None else self._outer.cpu().numpy()

    def _reservoir(self, f: np.ndarray) -> None:
        room = max(self.keep - len(self.kept), 0)
        if room:
            self.kept = np.concatenate([self.kept, f[:room]])
        for i in range(room, len(f)):  # Algorithm R: row i of the stream replaces a kept one w.p. keep/seen
            j = self._rng.integers(0, self.n + i + 1)
            if j < self.keep:
                self.kept[j] = f[i]

    @property
    def mu(self) -> np.ndarray:
        return self.sum / max(self.n, 1)

    @property
    def sigma(self) -> np.ndarray:
        if self.n < 2:
            raise StatsError(f"a covariance needs at least 2 images, got {self.n}")
        if not self.moments:
            raise StatsError("these statistics keep feature rows only (moments=False)")
        mu = self.mu
        return (self.outer - self.n * np.outer(mu, mu)) / (self.n - 1)


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr sqrt(Σ1 Σ2) for symmetric PSD Σ1, Σ2, through a symmetric eigenproblem."""
    try:
        L = np.linalg.cholesky(sigma1)
    except np.linalg.LinAlgError:
        # singular Σ1 (fewer images than dims): any factor with Σ1 = L Lᵀ will do
        w, v = np.linalg.eigh(sigma1)
        L = v * np.sqrt(np.clip(w, 0.0, None))
    m = L.T @ sigma2 @ L
    ev = np.linalg.eigvalsh((m + m.T) / 2.0)
    return float(np.sqrt(np.clip(ev, 0.0, None)).sum())


def frechet_terms(mu1, sigma1, mu2, sigma2) -> tuple[float, float]:
    """FID's two terms, in float64: the mean term ‖μ1 − μ2‖² (where the average image sits: colours,
    layout) and the covariance term tr(Σ1 + Σ2 − 2 (Σ1Σ2)^½) (how the images vary: variety lost or
    added). In one dimension they are (μ1 − μ2)² and (σ1 − σ2)². Their sum is the Fréchet distance."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape:
        raise StatsError(f"the two means have different lengths: {mu1.shape[0]} vs {mu2.shape[0]}")
    if s1.shape != s2.shape or s1.shape != (mu1.shape[0],) * 2:
        raise StatsError(f"covariance shapes {s1.shape} and {s2.shape} do not match the means ({mu1.shape[0]})")
    if not (np.isfinite(mu1).all() and np.isfinite(mu2).all() and np.isfinite(s1).all() and np.isfinite(s2).all()):
        raise StatsError("the statistics contain NaN or inf")
    diff = mu1 - mu2
    return float(diff @ diff), float(np.trace(s1) + np.trace(s2) - 2.0 * trace_sqrt_product(s1, s2))


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """‖μ1 − μ2‖² + tr Σ1 + tr Σ2 − 2 tr sqrt(Σ1 Σ2), in float64."""
    mean_term, cov_term = frechet_terms(mu1, sigma1, mu2, sigma2)
    return mean_term + cov_term


def fid_infinity(mu_real, sigma_real, fake: np.ndarray, points: int = 15, n_min: int | None = None,
                 seed: int = 0, progress=None) -> dict:
    """FID∞ (Chong & Forsyth 2020): FID is biased upward by about c/N, so measure it on random
    subsets of the generated features at `points` sizes from n_min to N (evenly spaced in 1/N), fit
    a line in 1/N and report its value at 1/N = 0, with the points it was fitted on.

    fake: (N, d) generated features (the real side's statistics stay whole).
    progress: fn(done, total) after each point (each is a 2048-d Fréchet distance: seconds on a CPU)."""
    fake = np.asarray(fake, np.float64)
    n = len(fake)
    n_min = int(n_min or max(2, n // 5))
    if n < 4 or n_min >= n:
        raise StatsError(f"FID∞ needs at least 4 generated images and n_min < N (got N = {n}, n_min = {n_min})")
    rng = np.random.default_rng(seed)
    sizes = sorted({int(round(1.0 / x)) for x in np.linspace(1.0 / n_min, 1.0 / n, points)})
    pts = []
    for i, m in enumerate(sizes):
        sub = fake[rng.choice(n, m, replace=False)] if m < n else fake
        pts.append((m, frechet_distance(mu_real, sigma_real, sub.mean(0), np.cov(sub, rowvar=False))))
        if progress:
            progress(i + 1, len(sizes))
    x = np.array([1.0 / m for m, _ in pts])
    y = np.array([f for _, f in pts])
    slope, intercept = np.polyfit(x, y, 1)
    return {"fid_inf": float(intercept), "slope": float(slope), "points": [[m, f] for m, f in pts]}


KID_SUBSET = 1000


def kid(f1: np.ndarray, f2: np.ndarray, subsets: int = 100, subset_size: int = KID_SUBSET, seed: int = 0
        ) -> tuple[float, float | None]:
    """Kernel Inception Distance: unbiased MMD² with k(x, y) = (xᵀy / d + 1)³, over random subsets.

    Returns (mean, std) over the subsets. When a side has no more rows than the subset size, every
    subset is that whole side, so the subsets do not vary the way they should: std is None then.
    """
    n1, n2 = len(f1), len(f2)
    m = min(n1, n2, subset_size)
    if m < 2:
        raise StatsError("KID needs at least 2 feature rows on each side")
    d = f1.shape[1]
    rng = np.random.default_rng(seed)
    vals = np.empty(subsets)
    for i in range(subsets):
        x = f1[rng.choice(n1, m, replace=False)].astype(np.float64)
        y = f2[rng.choice(n2, m, replace=False)].astype(np.float64)
        kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
        within = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        vals[i] = within - 2.0 * kxy.sum() / (m * m)
    return float(vals.mean()), (float(vals.std()) if min(n1, n2) > subset_size else None)


def _kth_radii(f: torch.Tensor, k: int, chunk: int = 1024) -> torch.Tensor:
    out = []
    for i in range(0, len(f), chunk):
        d = torch.cdist(f[i:i + chunk], f)
        out.append(d.kthvalue(k + 1, dim=1).values)  # +1: the nearest is the row itself, at 0
    return torch.cat(out)


def _coverage(query: torch.Tensor, ref: torch.Tensor, radii: torch.Tensor, chunk: int = 1024) -> float:
    inside = []
    for i in range(0, len(query), chunk):
        d = torch.cdist(query[i:i + chunk], ref)
        inside.append((d <= radii[None, :]).any(dim=1))
    return float(torch.cat(inside).double().mean())  # an exact fraction, not a float32 rounding of it


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) with k-NN manifolds."""
    if len(real) <= k or len(fake) <= k:
        raise StatsError(f"precision/recall with k={k} needs more than {k} rows on each side")
    r = torch.from_numpy(np.asarray(real, np.float32))
    f = torch.from_numpy(np.asarray(fake, np.float32))
    precision = _coverage(f, r, _kth_radii(r, k))
    recall = _coverage(r, f, _kth_radii(f, k))
    return precision, recall


def effective_rank(sigma: np.ndarray, rel: float = 1e-6) -> int:
    ev = np.linalg.eigvalsh(np.asarray(sigma, np.float64))
    return int((ev > rel * max(ev.max(), 1e-30)).sum())


def save_stats(path: str | os.PathLike, mu: np.ndarray, sigma: np.ndarray, **extra) -> None:
    """A pytorch-fid compatible .npz (mu, sigma); extra arrays (features, n) ride along."""
    from .images import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, mu=mu, sigma=sigma, **extra)


def save_compact_stats(path: str | os.PathLike, mu: np.ndarray, sigma: np.ndarray, features: np.ndarray | None,
                       n: int, keep: int = 2048, **extra) -> None:
    """Statistics in about a quarter of save_stats' size, for shipping, exact where it matters.

    Full rank (n > d): sigma's upper triangle in float32 (FID moves by ~1e-9 relative) and at most
    `keep` feature rows in float16 (for KID and precision/recall). Rank-deficient (n <= d): there the
    small eigenvalues enter FID through square roots and float32 sigma moves it by ~1e-5, so every
    feature row is kept in float32 instead and load_stats recomputes sigma from them in float64
    (the rows are what the running sums were made of: the same sigma to ~1e-12)."""
    from .images import atomic_path

    mu, d = np.asarray(mu, np.float64), len(mu)
    if n <= d:
        if features is None or len(features) != n:
            raise StatsError(f"rank-deficient statistics (n = {n} <= {d}) ship as all their feature rows")
        arrays = {"features": np.asarray(features, np.float32), "sigma_from_features": np.array(1)}
    else:
        arrays = {"sigma_triu": np.asarray(sigma, np.float64)[np.triu_indices(d)].astype(np.float32)}
        if features is not None:
            arrays["features"] = np.asarray(features[:keep], np.float16)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, mu=mu, n=n, **arrays, **extra)


def _from_triu(triu: np.ndarray, d: int) -> np.ndarray:
    if triu.shape != (d * (d + 1) // 2,):
        raise StatsError(f"sigma_triu holds {triu.shape} values; {d}-d statistics need {d * (d + 1) // 2}")
    out = np.zeros((d, d), np.float64)
    iu = np.triu_indices(d)
    out[iu] = triu
    out.T[iu] = triu
    return out


def load_stats(path: str | os.PathLike, dims: int | None = None) -> dict:
    """mu, sigma (and features, n when present) from an .npz, checked for shape and dims."""
    name = Path(path).name
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise StatsError(f"{name} is not a readable .npz file ({e})") from None
    if "sigma" not in data and "sigma_triu" in data:  # the compact forms (save_compact_stats)
        data["sigma"] = _from_triu(data.pop("sigma_triu"), len(data.get("mu", ())))
    if "sigma" not in data and data.pop("sigma_from_features", None) is not None and "features" in data:
        data["sigma"] = np.cov(data["features"].astype(np.float64), rowvar=False)
    if data.get("features") is not None and data["features"].dtype == np.float16:
        data["features"] = data["features"].astype(np.float32)
    if "mu" not in data or "sigma" not in data:
        raise StatsError(f"{name} must hold arrays 'mu' and 'sigma' (it holds {sorted(data)})")
    mu, sigma = data["mu"], data["sigma"]
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise StatsError(f"{name}: mu {mu.shape} and sigma {sigma.shape} do not fit together")
    if dims is not None and mu.shape[0] != dims:
        raise StatsError(f"{name} holds {mu.shape[0]}-d statistics but {dims}-d features were asked for "
                         f"(use {{dims}} {mu.shape[0]})", settings=("dims",))
    return data
