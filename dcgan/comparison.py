"""Comparing runs: their curves overlaid on one step axis, their newest grids, the settings that
differ and the alarms where they fired (the blog's collapsed-vs-fixed experiment). "Compare" in
this project means this, runs side by side; two image sets are *measured* (metrics.measure).

`load(paths)` reads run directories into `RunView`s (metrics.jsonl, config.json, newest grid,
GIF, the branches a rewind left); `differing(views)` lists the settings that differ;
`figure(views)` draws losses, D's outputs, sample diversity and FID per run with matplotlib's
object API (no pyplot state, so the app can draw from many threads), alarms as markers;
`save(views, out)` writes it as a PNG. The `compare` verb, the `/compare` endpoint and the app's
Compare view all use this module through api.compare_runs.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .monitor import COLLAPSE_RATIO
from .runs import RunDir

# run bookkeeping, not settings: never reported as "differing"
BOOKKEEPING = {"data_fingerprint", "device_used", "world_size", "steps_per_epoch", "log_every", "ckpt_every_s",
               "device", "fid_weights", "compile", "track", "rewinds", "changes", "compile_failed"}
PANELS = ("losses", "d_outputs", "diversity", "checkerboard", "fid")


@dataclass
class Branch:
    """What a rewind left behind (runs.py's branches/N): its records and how it ended."""
    number: int
    info: dict  # from_epoch, at_epoch, changed, ...
    steps: list[dict] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)
    grid: Path | None = None  # its newest grid, as it was abandoned

    def to_dict(self) -> dict:
        """The branch as data: where it forked and ended, what changed, the alarms it had."""
        reached = self.epochs[-1]["epoch"] if self.epochs else self.info.get("at_epoch")
        alarms = sorted({a["kind"] for e in self.epochs for a in e.get("alarms", [])})
        return {"from_epoch": self.info.get("from_epoch"), "at_epoch": self.info.get("at_epoch"),
                "source": self.info.get("source", "healthy"), "changed": dict(self.info.get("changed", {})),
                "reached": reached, "alarms": alarms}


@dataclass
class RunView:
    name: str
    path: Path
    config: dict
    state: str
    steps: list[dict] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)
    grid: Path | None = None
    gif: Path | None = None
    branches: list[Branch] = field(default_factory=list)

    def fork_step(self, b: Branch) -> int | None:
        """The step where branch `b` left this run's history (its healthy epoch's end)."""
        return next((e["step"] for e in self.epochs if e["epoch"] == b.info.get("from_epoch")), None)

    @property
    def alarms(self) -> list[dict]:
        """Every alarm raised, with the epoch and step it fired at."""
        return [{"epoch": e["epoch"], "step": e["step"], **a} for e in self.epochs for a in e.get("alarms", [])]

    @property
    def alarm_onsets(self) -> list[dict]:
        """Alarms where they started: an epoch whose alarm kind did not fire the epoch before."""
        out, before = [], set()
        for e in self.epochs:
            now = {a["kind"] for a in e.get("alarms", [])}
            out += [{"epoch": e["epoch"], "step": e["step"], **a} for a in e.get("alarms", []) if a["kind"] not in before]
            before = now
        return out

    @property
    def first_alarm(self) -> dict | None:
        return self.alarms[0] if self.alarms else None

    @property
    def best_fid(self) -> tuple[float, int] | None:
        """(FID, epoch) of the epoch kept as checkpoints/best.pt, when FID was tracked."""
        fids = [(e["fid"], e["epoch"]) for e in self.epochs if e.get("fid") is not None]
        return min(fids) if fids else None


def load(paths, replay: bool = False) -> list[RunView]:
    """RunViews of run directories. replay=True replaces the alarms recorded during training with
    what today's monitor says about the same records (for runs trained before a recalibration)."""
    from . import monitor

    views = []
    for p in paths:
        run = RunDir(p)
        if not run.exists():
            from .errors import UserError

            raise UserError(f"{Path(p).name} is not a run directory (no config.json)")
        recs, config = run.read_metrics(), run.read_config()
        if "nc" in config and "channels" not in config:  # configs written before the setting was renamed
            config = {**{k: v for k, v in config.items() if k != "nc"}, "channels": config["nc"]}
        if replay:
            now = {e["epoch"]: e["alarms"] for e in monitor.replay(recs, config)}
            recs = [{**r, "alarms": now.get(r["epoch"], [])} if r.get("kind") == "epoch" else r for r in recs]
        samples = run.sample_paths()
        views.append(RunView(run.name, run.path, config, run.state(),
                             [r for r in recs if r.get("kind") == "step"], [r for r in recs if r.get("kind") == "epoch"],
                             samples[-1] if samples else None, run.gif if run.gif.exists() else None,
                             _branches(run)))
    return views


def _branches(run: RunDir) -> list[Branch]:
    import json

    out = []
    for d in run.branch_dirs():
        recs = RunDir(d).read_metrics()
        grids = RunDir(d).sample_paths()
        out.append(Branch(int(d.name), json.loads((d / "branch.json").read_text()),
                          [r for r in recs if r.get("kind") == "step"], [r for r in recs if r.get("kind") == "epoch"],
                          grids[-1] if grids else None))
    return out


def differing(views: list[RunView]) -> list[tuple[str, list]]:
    """(setting, [value per run]) for every setting whose values are not all equal."""
    keys = sorted({k for v in views for k in v.config} - BOOKKEEPING)
    out = []
    for k in keys:
        vals = [v.config.get(k) for v in views]
        if any(x != vals[0] for x in vals[1:]):
            out.append((k, vals))
    return out


def figure(views: list[RunView], panels=PANELS, grids: bool = True, width: float = 13.0):
    """A matplotlib Figure: one panel per curve kind, runs overlaid; newest grids underneath."""
    from matplotlib.figure import Figure

    panels = [p for p in panels if p != "fid" or any(v.best_fid for v in views)]
    panels = [p for p in panels if p != "checkerboard"
              or any("checkerboard" in e.get("signals", {}) for v in views for e in v.epochs)]
    nrows = -(-len(panels) // 2)
    # each run's newest grid, after the newest grid of each branch it abandoned
    tiles = [(b.grid, f"{v.name} branch {b.number} (abandoned): epoch {b.epochs[-1]['epoch'] if b.epochs else '?'}",
              color, 0.6) for v, color in zip(views, [f"C{i}" for i in range(len(views))]) for b in v.branches if b.grid]
    tiles += [(v.grid, f"{v.name}: epoch {v.epochs[-1]['epoch'] if v.epochs else 0}", f"C{i}", 1.0)
              for i, v in enumerate(views) if v.grid]
    show_grids = grids and bool(tiles)
    grid_h = min(width / max(len(tiles), 1), 5.5) if show_grids else 0.0
    fig = Figure(figsize=(width, 3.2 * nrows + grid_h), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[3.2 * nrows, max(grid_h, 1e-3)]) if show_grids else (fig, None)
    colors = [f"C{i}" for i in range(len(views))]
    for k, ax in enumerate(top.subplots(nrows, 2, squeeze=False).flat):
        if k >= len(panels):
            ax.axis("off")
            continue
        for v, color in zip(views, colors):
            _draw(ax, panels[k], v, color)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="best")
    if show_grids:
        from PIL import Image

        for ax, (path, title, color, alpha) in zip(bottom.subplots(1, len(tiles), squeeze=False).flat, tiles):
            ax.axis("off")
            with Image.open(path) as im:
                ax.imshow(im.convert("RGB"))
            ax.set_title(title, color=color, fontsize=9, alpha=alpha)
    return fig


def _curves(ax, panel: str, name: str, steps: list[dict], epochs: list[dict], color: str,
            alpha: float = 1.0) -> None:
    """One history's curves on one panel (a run's, or faded, an abandoned branch's)."""
    s, x = steps, [r["step"] for r in steps]
    kw = dict(color=color, lw=1, alpha=alpha)
    if panel == "losses":
        ax.plot(x, [r["loss_d"] for r in s], label=f"{name} D", **kw)
        ax.plot(x, [r["loss_g"] for r in s], ls="--", label=f"{name} G", **kw)
    elif panel == "d_outputs":
        ax.plot(x, [r["d_real"] for r in s], label=f"{name} D(x)", **kw)
        ax.plot(x, [r["d_fake"] for r in s], ls="--", label=f"{name} D(G(z))", **kw)
    elif panel == "diversity":
        e = [r for r in epochs if r.get("diversity_ratio") is not None]
        ax.plot([r["step"] for r in e], [r["diversity_ratio"] for r in e], marker=".", label=f"{name} fixed noise", **kw)
        fresh = [r for r in e if r.get("fresh_diversity_ratio") is not None]
        if fresh:
            ax.plot([r["step"] for r in fresh], [r["fresh_diversity_ratio"] for r in fresh], ls=":",
                    label=f"{name} fresh noise", **kw)
    elif panel == "checkerboard":
        e = [r for r in epochs if "checkerboard" in r.get("signals", {})]
        if e:
            ax.plot([r["step"] for r in e], [r["signals"]["checkerboard"] for r in e], marker=".", label=name, **kw)


def _draw(ax, panel: str, v: RunView, color: str) -> None:
    for b in v.branches:  # abandoned histories first, faded, so the live one is drawn over them
        _curves(ax, panel, f"{v.name} branch {b.number} (abandoned)", b.steps, b.epochs, color, alpha=0.3)
        at = v.fork_step(b)
        if at is not None:
            ax.axvline(at, color=color, lw=1.2, alpha=0.6)
    _curves(ax, panel, v.name, v.steps, v.epochs, color)
    if panel == "losses":
        ax.set_title("losses (D solid, G dashed)", fontsize=10)
        ax.set_yscale("symlog", linthresh=1.0)
    elif panel == "d_outputs":
        ax.set_ylim(-0.02, 1.02)
        ax.set_title("discriminator outputs (D(x) solid, D(G(z)) dashed)", fontsize=10)
    elif panel == "diversity":
        ax.axhline(COLLAPSE_RATIO, color="grey", lw=0.8, ls="--")
        ax.set_title("sample diversity / real images' (per epoch)", fontsize=10)
    elif panel == "checkerboard":
        from .monitor import CHECKER_EXCESS

        ax.axhline(CHECKER_EXCESS, color="grey", lw=0.8, ls="--")
        ax.axhline(1.0, color="grey", lw=0.5)
        ax.set_yscale("log")
        ax.set_title("checkerboard: periodic peaks / real images' (per epoch)", fontsize=10)
    elif panel == "fid":
        e = [r for r in v.epochs if r.get("fid") is not None]
        if e:
            ax.plot([r["step"] for r in e], [r["fid"] for r in e], color=color, marker=".", lw=1, label=v.name)
            best, epoch = v.best_fid
            at = next(r["step"] for r in e if r["epoch"] == epoch)
            ax.plot([at], [best], marker="*", ms=14, color=color, ls="none", label=f"{v.name} best.pt (epoch {epoch})")
        ax.set_title(f"FID per epoch ({e[0].get('fid_protocol', '') if e else 'not tracked'})", fontsize=10)
    for a in v.alarm_onsets:  # where the monitor began to speak: a marker on every panel of this run
        ax.axvline(a["step"], color=color, lw=0.8, ls=(0, (1, 3)))
    if v.alarms and panel == "losses":
        first = v.first_alarm
        ax.annotate(f"alarm: {first['kind']}", (first["step"], 1), xycoords=("data", "axes fraction"),
                    xytext=(2, -12), textcoords="offset points", fontsize=7, color=color)


def save(views: list[RunView], out: str | os.PathLike, **kw) -> Path:
    from .images import atomic_path

    fig = figure(views, **kw)
    out = Path(out)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return out
