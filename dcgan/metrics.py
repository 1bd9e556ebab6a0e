"""Image sources -> Inception features -> an FID/KID/precision/recall report with honest warnings.

`Evaluator.side(spec)` featurises a data source (a folder, a .zip, a bundled or Hub dataset) or
reads a pytorch-fid .npz; `Evaluator.generator_side(g, n)` samples an in-memory generator n times in
eval mode, seed s + i for image i, quantised to uint8 as a PNG would be (never JPEG). Which of these
a name means is decided once, by the use cases (api/sides.py); `measure(ev, a, b)` makes the report.
Image sides are read through decoding.decode, the
pipeline training uses: at native size with PIL's convert("RGB"), exactly as pytorch-fid reads
them (the default), or, with `image_size=S`, prepared as training prepares them (shorter side to
S, centre crop, alpha on white) so that a 64x64 generator meets real images at 64x64, as CelebA-64
FIDs are reported; the protocol name says which (`fid10k_legacy_2048` vs `..._64px`). Statistics of
image sources are cached by source fingerprint, protocol, preprocessing version and the weights
file's contents. The math is in fid.py; this module only reads, batches and reports.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import data as datamod
from .decoding import decode, prefetch
from . import fid as F
from . import inception
from .config import resolve_device
from .errors import Cancelled, ConfigError, StatsError

SMALL_N = 2048
PREPROCESS_VERSION = 2  # bump when decoding or resizing changes: cached statistics are then stale
PR_FEATURES = ("inception", "vgg16")
SHIPPED = Path(__file__).resolve().parent / "assets" / "fid"  # bundled sets' statistics (scripts/reference_stats.py)
ALPHA_MODES, DEEP_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}, {"I;16", "I;16B", "I;16L", "I;16N", "I"}


@dataclass
class Side:
    spec: str
    kind: str  # images | generator | npz
    n: int = 0
    mu: np.ndarray | None = None
    sigma: np.ndarray | None = None
    features: np.ndarray | None = None  # kept Inception rows for KID, FID∞ and precision/recall
    lossy: int = 0
    sizes: set = field(default_factory=set)
    skipped: int = 0
    pr_rows: np.ndarray | None = None  # kept VGG-16 rows, when precision/recall uses VGG-16
    modes: dict = field(default_factory=dict)
    image_size: int | None = None  # the size images were prepared at (None: native)
    shipped: bool = False  # statistics that ship with the package (a bundled set, standard weights)
    of: int = 0  # images in the source when only the first n were read (a capped real side)


def protocol(n: int, resize: str, dims: int, image_size: int | None = None, weights: str | None = None) -> str:
    """A name that says how the number was made: fid10k_legacy_2048, or ..._64px when the real
    images were first prepared at 64x64 as training prepares them, and ..._weights-ID when the
    Inception weights are not the standard TF-FID ones (weights: their value id; None: standard)."""
    label = f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)
    return (f"fid{label}_{resize}_{dims}" + (f"_{image_size}px" if image_size else "")
            + (f"_weights-{weights[:8]}" if weights else ""))


def _batches_from_source(source, size: int | None, batch_size: int, channels: int, limit: int | None = None):
    """The shared decode pipeline (decoding.decode) -> uint8 (B, C, H, W) batches of equal-sized images.
    At native size (size None) images are read as pytorch-fid reads them (plain convert("RGB"))."""
    for chunk in decode(source, size, channels, max_images=limit, plain=size is None):
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


class Evaluator:
    """Holds the networks and the settings; `side(spec)` -> statistics of one side."""

    def __init__(self, weights=None, device="auto", batch_size: int = 50, resize: str = "legacy",
                 dims: int = 2048, keep: int = 10_000, progress=None, pr_features: str = "inception",
                 pr_weights=None, weights_progress=None, should_stop=None):
        if dims not in inception.DIMS:
            raise ConfigError(f"{{dims}} must be one of {', '.join(map(str, inception.DIMS))}", settings=("dims",))
        if resize not in ("legacy", "clean"):
            raise ConfigError("{resize} must be legacy or clean", settings=("resize",))
        if pr_features not in PR_FEATURES:
            raise ConfigError(f"{{pr_features}} must be one of {', '.join(PR_FEATURES)}", settings=("pr_features",))
        self.device = resolve_device(str(device))
        self.fid_weights = inception.resolve(weights, progress=weights_progress)
        self.weights_file = self.fid_weights.path
        self.model = inception.load(self.fid_weights, self.device)
        self.pr_features, self.vgg, self.vgg_file = pr_features, None, None
        if pr_features == "vgg16":
            from . import vgg

            self.vgg_file = vgg.weights_path(pr_weights)
            self.vgg = vgg.load(self.vgg_file, self.device)
        self.batch_size, self.resize, self.dims, self.keep = max(1, batch_size), resize, dims, keep
        self.progress, self.should_stop = progress, should_stop

    @torch.no_grad()
    def _featurise(self, batches, total: int) -> tuple[F.FeatureStats, F.FeatureStats | None]:
        stats = F.FeatureStats(self.dims, keep=self.keep)
        pr = F.FeatureStats(4096, keep=self.keep, moments=False) if self.vgg is not None else None
        try:
            for x in batches:
                if self.should_stop is not None and self.should_stop():
                    raise Cancelled("stopped: the FID computation was cancelled")
                x = x.to(self.device)
                stats.update(self.model(inception.preprocess(x, self.resize), dims=self.dims).float())
                if pr is not None:
                    pr.update(self.vgg(x).float())
                if self.progress:
                    self.progress(stats.n, total)
        finally:  # a cancel or an error: stop the decoding thread now, not when a traceback is freed
            close = getattr(batches, "close", None)
            if close is not None:
                close()
        return stats, pr

    def generator_side(self, g, n: int, seed: int = 0, spec: str = "generator") -> Side:
        """Sample n images from an in-memory generator (eval mode) and featurise them."""
        stats, pr = self._featurise(_batches_from_generator(g, n, self.batch_size, seed), n)
        return Side(spec, "generator", stats.n, stats.mu, stats.sigma, stats.kept,
                    sizes={(g.image_size, g.image_size)}, pr_rows=pr.kept if pr else None)

    def _stats_name(self, fingerprint: str, image_size: int | None, channels: int, limit: int | None = None) -> str:
        """The file name a source's statistics are kept under: everything that changes them."""
        parts = [fingerprint, self.resize, str(self.dims), f"{image_size}px" if image_size else "native",
                 f"c{channels}", self.fid_weights.id, f"p{PREPROCESS_VERSION}"]
        if limit:
            parts.append(f"first{limit}")
        if self.vgg_file is not None:
            from .weights import content_id

            parts.append("vgg" + content_id(self.vgg_file))
        return "-".join(parts) + ".npz"

    def _cache_file(self, fingerprint: str, image_size: int | None, channels: int, limit: int | None = None) -> Path:
        return datamod.cache_dir() / "fid" / self._stats_name(fingerprint, image_size, channels, limit)

    def _shipped(self, fingerprint: str, image_size: int | None, channels: int) -> Path | None:
        """The package's statistics of a bundled set, when they were made exactly this way."""
        p = SHIPPED / self._stats_name(fingerprint, image_size, channels)
        return p if self.vgg_file is None and p.is_file() else None

    def side(self, spec: str, data_root: str | None = None, use_cache: bool = True, image_size: int | None = None, channels: int = 3,
             limit: int | None = None) -> Side:
        """One side's statistics. Images are read at native size (as pytorch-fid does), or prepared
        as training prepares them at `image_size` (and `channels`); `limit` reads only the first
        images of a source (a quick look). A bundled set's statistics made with the standard weights
        ship with the package and are used whole, so the limit does not apply to them."""
        spec = str(spec)
        if spec.endswith(".npz"):
            z = F.load_stats(spec, self.dims)
            return Side(spec, "npz", int(z.get("n", 0)), z["mu"], z["sigma"], z.get("features"),
                        pr_rows=z.get("pr_features"))
        source = datamod.open_source(spec, data_root)
        fp = source.report.fingerprint
        shipped = self._shipped(fp, image_size, channels) if source.kind == "bundled" else None
        limit = None if shipped or not limit or limit >= source.count else int(limit)
        cache = shipped or self._cache_file(fp, image_size, channels, limit)
        if shipped or (use_cache and cache.exists()):
            z = F.load_stats(cache, self.dims)
            return Side(spec, "images", int(z["n"]), z["mu"], z["sigma"], z["features"], int(z["lossy"]),
                        {tuple(s) for s in z["sizes"].tolist()}, int(z["skipped"]), z.get("pr_features"),
                        dict(zip(z["mode_names"].tolist(), z["mode_counts"].tolist())), image_size,
                        shipped=shipped is not None, of=int(z.get("of", z["n"])))
        # decoding the next batches overlaps this one's forward pass (a GPU otherwise waits on PIL)
        batches = prefetch(_batches_from_source(source, image_size, self.batch_size, channels, limit), depth=3)
        stats, pr = self._featurise(batches, limit or source.count)
        rep = source.report
        if stats.n == 0:
            raise datamod.DataError(f"none of the {source.count} files in {spec} could be read as an image")
        side = Side(spec, "images", stats.n, stats.mu, stats.sigma if stats.n >= 2 else None, stats.kept,
                    rep.lossy, set(rep.sizes), len(rep.skipped), pr.kept if pr else None, dict(rep.modes), image_size,
                    of=source.count if limit else stats.n)
        if use_cache and side.sigma is not None:
            extra = {"pr_features": side.pr_rows} if side.pr_rows is not None else {}
            F.save_stats(cache, side.mu, side.sigma, features=side.features, n=side.n, lossy=side.lossy, of=side.of,
                         sizes=np.array(sorted(side.sizes)), skipped=side.skipped,
                         mode_names=np.array(list(side.modes), dtype=str),
                         mode_counts=np.array(list(side.modes.values()), dtype=np.int64), **extra)
        return side


def warnings_for(a: Side, b: Side, dims: int, weights=None) -> list[str]:
    out = []
    if weights is not None and not weights.standard:
        out.append(f"these numbers use {weights.label}, not the standard TF-FID Inception (2015-12-05): they are "
                   "not comparable with published FIDs or with pytorch-fid's")
    for label, s in (("A", a), ("B", b)):
        if s.of and s.of > s.n:
            out.append(f"side {label} is the first {s.n} of {s.of} images (a quick look): FID moves with "
                       "which images are read")
        if s.n and s.n < SMALL_N:
            out.append(f"N = {s.n} on side {label} is below {SMALL_N}: FID is biased upwards at small N "
                       "and not comparable with published numbers (10k-50k images); FID∞ corrects for N")
        if s.lossy:
            out.append(f"{s.lossy} images on side {label} are JPEG/WebP: compression artefacts raise FID")
        if len(s.sizes) > 1:
            out.append(f"side {label} mixes {len(s.sizes)} image sizes; each image was resized to 299 on its own")
        if s.skipped:
            out.append(f"{s.skipped} unreadable files on side {label} were skipped")
        alpha = sum(v for k, v in s.modes.items() if k in ALPHA_MODES)
        deep = sum(v for k, v in s.modes.items() if k in DEEP_MODES)
        if alpha and not s.image_size:
            out.append(f"{alpha} images on side {label} have an alpha channel: read like pytorch-fid (PIL's "
                       "convert('RGB'), which drops it), not composited on white as training sees them")
        if deep and not s.image_size:
            out.append(f"{deep} images on side {label} have 16-bit channels: read like pytorch-fid (values "
                       "clipped to 8 bits), not scaled as training reads them")
        if s.sigma is not None and s.n > dims:
            rank = F.effective_rank(s.sigma)
            if rank < dims // 2:
                out.append(f"side {label}'s feature covariance has rank {rank} of {dims}: the images are "
                           "nearly alike (a mode-collapse sign)")
    if a.kind == "generator" and b.kind != "generator":
        out.append("side A, the real side, is a generator's samples and side B is not: FID is symmetric, so the "
                   "number is the same either way, but the report calls A real, prepares real images at the "
                   "generator's size and fits FID∞ on B; give the real images first")
    if a.kind == b.kind == "images" and a.spec == b.spec:
        out.append(f"both sides are the same images ({a.spec}): FID measures only noise here (a generator on "
                   "the generated side: name it, e.g. faces-generator, not the data set)")
    if a.sizes and b.sizes and a.sizes != b.sizes and len(a.sizes) == len(b.sizes) == 1:
        (ha, wa), (hb, wb) = next(iter(a.sizes)), next(iter(b.sizes))
        how = ("prepare the real images at the generator's size (image_size)" if not a.image_size
               else "check image_size")
        native = "" if a.image_size else "native "
        out.append(f"the sides have different {native}sizes ({wa}x{ha} vs {wb}x{hb}); resizing affects FID ({how})")
    return out


@dataclass
class FidReport:
    """What `measure` found: FID and its two terms (they sum to fid), FID∞ when asked, KID,
    precision/recall in the named feature space, N per side, the protocol and the warnings.
    `to_dict()` is the JSON report (`dcgan fid --json`, the app's report file)."""

    fid: float
    fid_mean_term: float
    fid_cov_term: float
    n_a: int
    n_b: int
    protocol: str
    resize: str
    dims: int
    image_size: int | None
    weights: str
    pr_features: str
    weights_standard: bool = True
    weights_id: str | None = None
    warnings: list[str] = field(default_factory=list)
    fid_inf: float | None = None
    fid_inf_slope: float | None = None
    fid_inf_points: list | None = None
    kid_mean: float | None = None
    kid_std: float | None = None
    precision: float | None = None
    recall: float | None = None
    real: str | None = None  # what the sides were, in the caller's words
    generated: str | None = None

    def to_dict(self) -> dict:
        out = asdict(self)
        if self.fid_inf is None:  # the slope and points exist only beside an FID∞
            out.pop("fid_inf_slope"), out.pop("fid_inf_points")
        return out


def measure(ev: Evaluator, a: Side, b: Side, kid_subsets: int = 100, extras: bool = True,
            fid_inf: bool = False, progress=None) -> FidReport:
    """The report: fid and its two terms, FID∞ when asked, KID, precision/recall with the feature
    space named, N, protocol, warnings. A is the real side, B the generated one.

    extras=False skips KID and precision/recall (FID alone, as tracked during training).
    progress: fn(fraction, what) before each step that takes more than a moment."""
    say = progress or (lambda f, what: None)
    for label, s in (("A", a), ("B", b)):
        if s.sigma is None:
            raise StatsError(f"side {label} ({s.spec}) has {s.n} image(s); FID needs at least 2")
    mean_term, cov_term = F.frechet_terms(a.mu, a.sigma, b.mu, b.sigma)
    size = a.image_size or b.image_size
    rep = FidReport(fid=mean_term + cov_term, fid_mean_term=mean_term, fid_cov_term=cov_term, n_a=a.n, n_b=b.n,
                    protocol=protocol(min(a.n, b.n) if a.n and b.n else max(a.n, b.n), ev.resize, ev.dims, size,
                                      None if ev.fid_weights.standard else ev.fid_weights.value_id),
                    resize=ev.resize, dims=ev.dims, image_size=size, weights=ev.fid_weights.label,
                    weights_standard=ev.fid_weights.standard, weights_id=ev.fid_weights.id,
                    pr_features=ev.pr_features, warnings=warnings_for(a, b, ev.dims, ev.fid_weights))
    if fid_inf:
        if b.features is not None and len(b.features) >= 4:
            fi = F.fid_infinity(a.mu, a.sigma, b.features,
                                progress=lambda i, k: say(i / k, f"FID∞: FID at {k} sizes of N, point {i} of {k}"))
            rep.fid_inf, rep.fid_inf_slope, rep.fid_inf_points = fi["fid_inf"], fi["slope"], fi["points"]
            if len(b.features) < b.n:
                rep.warnings.append(f"FID∞ was fitted on the {len(b.features)} generated images kept of {b.n}")
        else:
            rep.warnings.append("FID∞ needs the generated side's features (an .npz with only mu and sigma has none)")
    if not extras:
        return rep
    if a.features is not None and b.features is not None and len(a.features) > 3 and len(b.features) > 3:
        say(0.0, f"KID over {kid_subsets} subsets")
        rep.kid_mean, rep.kid_std = F.kid(a.features, b.features, subsets=kid_subsets)
        low = [name for name, v in (("KID", rep.kid_mean), ("FID∞", rep.fid_inf)) if v is not None and v < 0]
        if low:
            rep.warnings.append(f"{' and '.join(low)} below 0: {'they are' if len(low) > 1 else 'it is'} unbiased "
                                "(or extrapolated) estimates, so a value below 0 says the two sides cannot be told "
                                "apart at this N, not that they are better than identical")
        if rep.kid_std is None:
            rep.warnings.append(f"KID's spread needs more than {F.KID_SUBSET} images per side (every subset was "
                                "the whole side), so kid_std is not reported")
    else:
        rep.warnings.append("KID and precision/recall need features on both sides (an .npz with only "
                            "mu and sigma has none)")
        return rep
    ra, rb = (a.pr_rows, b.pr_rows) if ev.pr_features == "vgg16" else (a.features, b.features)
    if ra is not None and rb is not None and len(ra) > 3 and len(rb) > 3:
        say(0.0, "precision and recall (k-nearest neighbours)")
        rep.precision, rep.recall = F.precision_recall(ra, rb)
    else:
        rep.warnings.append(f"precision/recall need {ev.pr_features} features on both sides")
    return rep


READING = ("How to read the two terms: the mean term grows when the generated images' average look "
           "(colours, layout, lighting) is off; the covariance term grows when their variety is wrong, "
           "most often too little of it (mode collapse). In one dimension they are (μ − μw)² and (σ − σw)².")


def report_markdown(rep: FidReport) -> str:
    """The report as Markdown: what the CLI prints, the app shows and the report file holds."""
    f = lambda v, p: "n/a" if v is None else f"{v:.{p}f}"  # noqa: E731
    how = f"real images prepared at {rep.image_size}×{rep.image_size} as training does" if rep.image_size \
        else "images at native size, read as pytorch-fid reads them"
    pr = "VGG-16 fc2, as Kynkäänniemi et al." if rep.pr_features == "vgg16" else "Inception pool3"
    lines = [f"## {rep.protocol}: FID {rep.fid:.3f}", ""]
    if rep.real or rep.generated:
        lines += [f"A (real): `{rep.real}` · B (generated): `{rep.generated}`", ""]
    lines += ["| metric | value |", "|---|---|", f"| FID | {rep.fid:.4f} |",
              f"| mean term ‖μA − μB‖² | {rep.fid_mean_term:.4f} |",
              f"| covariance term tr(ΣA + ΣB − 2(ΣAΣB)^½) | {rep.fid_cov_term:.4f} |"]
    if rep.fid_inf is not None:
        pts = rep.fid_inf_points
        lines.append(f"| FID∞ (a line in 1/N through FID at {len(pts)} sizes, N = {pts[0][0]} … {pts[-1][0]}; "
                     f"the points are in the JSON report) | {rep.fid_inf:.4f} |")
    kid_std = "" if rep.kid_std is None else f" ± {rep.kid_std:.5f}"
    lines += [f"| KID | {f(rep.kid_mean, 5)}{kid_std} |",
              f"| precision ({pr}) | {f(rep.precision, 3)} |", f"| recall ({pr}) | {f(rep.recall, 3)} |",
              f"| N real / generated | {rep.n_a} / {rep.n_b} |",
              f"| protocol | {rep.protocol}: {rep.dims}-d, {rep.resize} resize, {how}, {rep.weights} |",
              "", READING]
    if rep.warnings:
        lines += ["", "### Warnings"] + [f"- {w}" for w in rep.warnings]
    return "\n".join(lines)
