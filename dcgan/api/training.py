"""Use cases of training: start (in a worker or here), stop, resume, list, follow; the architecture.

`train` starts a background worker (the app's way: the page never trains inside a request);
`train_here` trains in this process and yields the trainer's events (the CLI's way). Both check
every setting before any image is decoded. `snapshot`/`follow` read a run directory into the
numbers and words the live views show. One training worker at a time per process (SUPERVISOR).
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import fields
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

from .. import compare as cmp
from .. import data as datamod
from .. import monitor
from ..config import TrainConfig
from ..errors import Busy, ConfigError, DataError, NothingToResume, UserError
from ..events import Event
from ..models import UPSAMPLING, ModelConfig
from ..runs import CHECKPOINT_SOURCES, ENDED, RunDir, example_runs, list_runs, runs_root
from ..summary import markdown as summary_markdown
from ..summary import table as summary_table
from ..worker import Supervisor
from . import checks
from .access import data_spec, newest_run, run_for, server_path, stage, uploads_named, writable
from .limits import Limits, expire, expires_at, folder_bytes
from .caller import Caller, Upload
from .results import ArchitectureTable, RewindOffer, RunInfo, RunSnapshot, Stopped, TrainingStarted

SUPERVISOR = Supervisor()
EXAMPLE = "example-faces"  # what the run view shows before the caller has a run of its own
Progress = Callable[[int, int], None]  # fn(done, total)


def settings(caller: Caller, values: Mapping[str, object] | TrainConfig, half: bool = False) -> TrainConfig:
    """Training settings from plain values keyed by field name, checked; paths only for the local user."""
    cfg = values if isinstance(values, TrainConfig) else TrainConfig.coerce(dict(values))
    for f in fields(cfg):
        if f.metadata["server_path"]:
            server_path(caller, getattr(cfg, f.name), f.name)
    return cfg.half() if half else cfg


def train(caller: Caller, values: Mapping[str, object] | TrainConfig | None = None, *,
          uploads: Sequence[Upload] = (), half: bool = False, progress: Progress | None = None) -> TrainingStarted:
    """Start training in a background worker; returns the run's name at once. With uploads, the
    images (or one zip) are copied into the run, so it stays resumable after the upload is gone."""
    cfg = settings(caller, values or {}, half)
    if not uploads:
        cfg = TrainConfig.coerce({**cfg.to_dict(), "data": data_spec(caller, cfg.data)})
    shared = not caller.trusted  # a public app: a queue, one run per visitor, caps and a disk quota
    limits = Limits.from_env() if shared else None
    if shared:
        mine = [r for r in [SUPERVISOR.active(), *SUPERVISOR.queued()] if r is not None and caller.sees(r.owner())]
        if mine:
            raise Busy(f"you already have a run {mine[0].state()} ({mine[0].name}); one at a time per visitor: "
                       "wait for it or stop it")
        expire(limits)
        used = folder_bytes(runs_root()) / 2**20
        if used > limits.quota_mb:
            raise Busy(f"this Space's disk for runs is full ({used:.0f} of {limits.quota_mb:.0f} MB); try again later")
    else:
        busy = SUPERVISOR.active()
        if busy is not None:
            raise Busy(f"a training is already running ({busy.name}); stop it first or wait for it")
    run = SUPERVISOR.new_run_dir()
    try:
        if uploads:
            src = stage(uploads, run.data_dir, run.data_zip, "training")
            cfg = TrainConfig.coerce({**cfg.to_dict(), "data": src})
        try:  # decoding here fills the cache the worker then reads, and finds bad data before it starts
            _, report = datamod.load(cfg.data, cfg.image_size, data_root=cfg.data_root, max_images=cfg.max_images,
                                     channels=cfg.nc, progress=progress)
        except DataError as e:
            raise DataError(str(e).replace(cfg.data, uploads_named(uploads)) if uploads else str(e)) from None
        if not shared:
            SUPERVISOR.start(cfg, run, owner=caller.owner)
            return TrainingStarted(run.name, f"Started **{run.name}** on {report.summary()}.", report.n_images,
                                   list(report.skipped))
        work = cfg.epochs * report.n_images
        if work > limits.max_work:
            raise ConfigError(f"epochs × images must be at most {limits.max_work} on this shared Space (got "
                              f"{cfg.epochs} × {report.n_images} = {work}); train fewer epochs or use max_images")
        place = SUPERVISOR.submit(cfg, run, owner=caller.owner, max_seconds=60 * limits.max_minutes)
    except BaseException:
        shutil.rmtree(run.path, ignore_errors=True)
        raise
    if place == 0:
        note = f"Started **{run.name}** on {report.summary()}."
    else:
        note = (f"Queued **{run.name}** on {report.summary()}: {_ordinal(place)} in line, starts in about "
                f"{max(1, round(wait_s(run) / 60))} min.")
    return TrainingStarted(run.name, note, report.n_images, list(report.skipped))


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _remaining_s(run: RunDir) -> float:
    """How long a run still needs: from its own throughput when it has logged, else its settings at
    100 images/s (a CPU Space's order of magnitude), capped by the public wall-time limit."""
    cfg = run.read_config() if run.config.exists() else json.loads(run.request.read_text())["config"]
    steps = [r for r in run.read_metrics() if r.get("kind") == "step"]
    n = cfg.get("n_images") or cfg.get("max_images") or 10_000
    total = cfg.get("epochs", 1) * n
    done = steps[-1]["step"] * cfg.get("batch_size", 128) if steps else 0
    rate = steps[-1].get("images_per_s", 100.0) if steps else 100.0
    return min(max(total - done, 0) / max(rate, 1e-6), 60 * Limits.from_env().max_minutes)


def wait_s(run: RunDir) -> float:
    """About how long a queued run waits: what the running run still needs, then each run ahead of it."""
    active = SUPERVISOR.active()
    ahead = [r for r in SUPERVISOR.queued() if r.name != run.name]
    ahead = ahead[:(SUPERVISOR.position(run) or len(ahead) + 1) - 1]
    return (_remaining_s(active) if active else 0.0) + sum(_remaining_s(r) for r in ahead)


def train_here(caller: Caller, values: Mapping[str, object], out: str | Path, *, resume: bool = False,
               half: bool = False, stop=None, data_progress: Progress | None = None,
               start_from: str = "last") -> Iterator[Event]:
    """Train (or resume) into the run directory `out` in this process, yielding events. On resume,
    `values` are the settings a person asked for: a change to one that may not change is refused.
    start_from (with resume): last, healthy (a rewind to the newest epoch without an alarm) or best."""
    from ..train import train as run_training

    run = RunDir(out)
    if resume:
        run.checkpoint_for("last")  # both must exist (each refused in one line): the settings come from
        run.checkpoint_for(start_from)  # the run, the state from the checkpoint it continues from
        changes = dict(values)
        if half:
            m = ModelConfig(ngf=changes.get("ngf", 64), ndf=changes.get("ndf", 64)).half()
            changes.update(ngf=m.ngf, ndf=m.ndf)
        cfg = TrainConfig.for_resume(_saved_settings(run), changes)
    else:
        cfg = settings(caller, values, half)
        cfg = TrainConfig.coerce({**cfg.to_dict(), "data": data_spec(caller, cfg.data)})
    yield from run_training(cfg, run.path, resume=resume, stop=stop, data_progress=data_progress,
                            start_from=start_from)


def _saved_settings(run: RunDir) -> dict:
    if run.config.exists():
        return run.read_config()
    from ..runs import load_checkpoint

    return load_checkpoint(run.last)["config"]


def stop(caller: Caller, run: str | None = None) -> Stopped:
    """Stop the caller's running training (it saves a checkpoint first and can be resumed)."""
    active = SUPERVISOR.active()
    if run:
        target = writable(run_for(caller, run))
        if target.state() != "queued" and (active is None or active.path.resolve() != target.path.resolve()):
            return Stopped(target.name, target.state(), f"**{target.name}** is not running.")
    if run and target.state() == "queued" and SUPERVISOR.unqueue(target):
        return Stopped(target.name, "stopped", f"**{target.name}** left the queue before it started.")
    if active is None or not caller.sees(active.owner()):
        mine = next((r for r in SUPERVISOR.queued() if caller.sees(r.owner())), None)
        if mine is not None and SUPERVISOR.unqueue(mine):
            return Stopped(mine.name, "stopped", f"**{mine.name}** left the queue before it started.")
        return Stopped(None, "idle", "Nothing of yours is running.")
    final = SUPERVISOR.stop(active)
    return Stopped(active.name, final, f"**{active.name}**: {final}; its checkpoint is saved and it can be resumed.")


def resume(caller: Caller, run: str | None = None, epochs: int | None = None,
           changes: Mapping[str, object] | None = None, start_from: str = "last") -> TrainingStarted:
    """Continue a stopped, finished or interrupted run until `epochs` in total (default: as asked
    before), with `changes` to the settings that may change (lr, betas, flip, augment). start_from:
    last, healthy (a rewind to the newest epoch without an alarm) or best."""
    target = run_for(caller, run) if run else newest_run(caller)
    if target is None:
        raise UserError("no run to resume: start one first")
    if not writable(target).last.exists():
        raise NothingToResume(f"{target.name} has no checkpoint to resume from")
    source = target.checkpoint_for(checks.one_of(start_from, "start_from", CHECKPOINT_SOURCES))
    saved = _saved_settings(target)
    asked = dict(changes or {})
    if epochs is not None:
        asked["epochs"] = checks.whole(epochs, "epochs", 1, 100_000)
    typed = TrainConfig.coerce({**{k: v for k, v in saved.items() if k in TrainConfig.__dataclass_fields__},
                                **asked})
    cfg = TrainConfig.for_resume(saved, {k: getattr(typed, k) for k in asked})
    if caller.trusted:
        busy = SUPERVISOR.active()
        if busy is not None:
            raise Busy(f"a training is already running ({busy.name}); stop it first or wait for it")
        SUPERVISOR.start(cfg, target, resume=True, start_from=start_from)
    else:
        if any(caller.sees(r.owner()) for r in [SUPERVISOR.active(), *SUPERVISOR.queued()] if r is not None):
            raise Busy("you already have a run running or queued; one at a time per visitor")
        limits = Limits.from_env()
        if cfg.epochs * saved.get("n_images", 0) > limits.max_work:
            raise ConfigError(f"epochs × images must be at most {limits.max_work} on this shared Space")
        SUPERVISOR.submit(cfg, target, resume=True, max_seconds=60 * limits.max_minutes, start_from=start_from)
    how = f"Rewound **{target.name}** to {source.stem}.pt" if start_from != "last" else f"Resumed **{target.name}**"
    changed = cfg.tuned(saved)
    with_ = f" with {', '.join(f'{k} {v}' for k, v in changed.items())}" if changed else ""
    return TrainingStarted(target.name, f"{how}{with_}, towards epoch {cfg.epochs}.", saved.get("n_images", 0))


def rewind(caller: Caller, run: str | None = None, continue_with: str | None = None,
           changes: Mapping[str, object] | None = None, epochs: int | None = None) -> TrainingStarted:
    """Back to the run's last healthy epoch (checkpoints/healthy.pt) and on from there: with
    `changes`, or else the offered option named `continue_with` (default: the first, the monitor's
    first remedy). A run still training is stopped first; the abandoned epochs are kept aside."""
    target = run_for(caller, run) if run else newest_run(caller)
    if target is None:
        raise UserError("no run to rewind: start one first")
    writable(target).checkpoint_for("healthy")
    if changes is None:
        s = look(target)
        if s.rewind is None:
            raise UserError(f"{target.name} has no active alarm to rewind from; resume it instead, or pass changes")
        words = continue_with or s.rewind.options[0][0]
        if words not in [w for w, _ in s.rewind.options]:
            raise ConfigError(f"continue_with must be one of: {'; '.join(w for w, _ in s.rewind.options)}")
        changes = s.rewind.changes(words)
    active = SUPERVISOR.active()
    if active is not None and active.path.resolve() == target.path.resolve():
        SUPERVISOR.stop(active)
    return resume(caller, target.name, epochs, changes, start_from="healthy")


def runs(caller: Caller, examples: bool = True) -> list[RunInfo]:
    """The caller's runs, newest first, with state, progress, settings that matter and first alarm;
    then the shipped example runs (state "example"), which everyone sees."""
    out = []
    for r in [r for r in list_runs() if caller.sees(r.owner())] + (example_runs() if examples else []):
        cfg = r.read_config() if r.config.exists() else {}
        view = cmp.load([r.path])[0] if r.config.exists() else None
        last = view.epochs[-1] if view and view.epochs else {}
        out.append(RunInfo(r.name, "example" if r.is_example else r.state(), last.get("epoch", 0), cfg.get("epochs"), cfg.get("data"), cfg.get("ngf"),
                           cfg.get("ndf"), cfg.get("flip"), cfg.get("augment"),
                           view.first_alarm if view else None, view.best_fid if view else None))
    return out


# ---------------------------------------------------------------- watching a run

def _spans(epochs: list[int]) -> str:
    """[3, 4, 5, 9] -> '3–5, 9'."""
    out, start = [], None
    for i, e in enumerate(epochs):
        start = e if start is None else start
        if i + 1 == len(epochs) or epochs[i + 1] != e + 1:
            out.append(f"{start}–{e}" if e != start else f"{e}")
            start = None
    return ", ".join(out)


def alarm_text(epochs: list[dict]) -> str:
    """The newest epoch's alarms in full, then which alarms fired earlier and when (a run that
    collapsed and recovered should not just say 'No alarms')."""
    now = [a for e in epochs[-1:] for a in e.get("alarms", [])]
    text = "\n\n".join(f"⚠️ **{a['message']}** Try: {a['remedy']}." for a in now) or "No alarms now."
    seen: dict[str, list[int]] = {}
    for e in epochs:
        for a in e.get("alarms", []):
            seen.setdefault(a["kind"].replace("_", " "), []).append(e["epoch"])
    if seen and any(eps[-1] != epochs[-1]["epoch"] or len(eps) > 1 for eps in seen.values()):
        text += "\n\nAlarms during this run: " + "; ".join(f"{k} at epochs {_spans(v)}" for k, v in seen.items())
    return text


def look(run: RunDir) -> RunSnapshot:
    """What a run directory says now (no caller check: see snapshot)."""
    recs = run.read_metrics()
    steps = [r for r in recs if r.get("kind") == "step"]
    epochs = [r for r in recs if r.get("kind") == "epoch"]
    cfg = run.read_config() if run.config.exists() else {}
    st = run.state()
    text = f"**{run.name}** — {st}" + (" (an example: read-only)" if run.is_example else "")
    if steps:
        last = steps[-1]
        total = cfg.get("steps_per_epoch", 0) * cfg.get("epochs", 0)
        left = max(total - last["step"], 0) * cfg.get("batch_size", 1) / max(last.get("images_per_s", 0), 1e-9)
        eta = f", ETA {time.strftime('%H:%M:%S', time.gmtime(left))}" if st == "running" and total else ""
        text += (f" · epoch {last['epoch']}/{cfg.get('epochs', '?')} · step {last['step']}"
                 + (f" · {last['images_per_s']:.0f} images/s{eta}" if "images_per_s" in last else ""))
    fids = [(e["fid"], e["epoch"]) for e in epochs if e.get("fid") is not None]
    if fids:
        best, at = min(fids)
        text += f" · FID {fids[-1][0]:.2f} (best {best:.2f} at epoch {at}, kept as best.pt)"
    if st == "failed":
        text += f" · {run.status().get('reason', '')}"
    if st == "queued":
        text += (f" · {_ordinal(SUPERVISOR.position(run) or 1)} in line, starts in about "
                 f"{max(1, round(wait_s(run) / 60))} min")
    gone = expires_at(run, Limits.from_env()) if not run.is_example else None
    if gone is not None:
        text += f" · kept until about {time.strftime('%H:%M UTC %d %b', time.gmtime(gone))} (sign in to keep runs)"
    samples = run.sample_paths()
    files = [p for p in (run.last, run.generator / "model.safetensors", run.gif) if p.exists()]
    return RunSnapshot(run.name, st, text, cfg, steps, epochs, monitor.story(steps, epochs),
                       alarm_text(epochs) if epochs else "No alarms yet.",
                       samples[-1] if samples else None, run.gif if run.gif.exists() else None, files, run.path,
                       run.is_example, rewind_offer(run, cfg, epochs))


def rewind_offer(run: RunDir, cfg: dict, epochs: list[dict]) -> RewindOffer | None:
    """While the newest epoch has alarms and an alarm-free epoch is kept as healthy.pt: that epoch
    (the newest epoch record without alarms: healthy.pt is written at each) and what to change."""
    if run.is_example or not epochs or not epochs[-1].get("alarms") or not run.healthy.exists():
        return None
    healthy = next((e["epoch"] for e in reversed(epochs) if not e.get("alarms")), None)
    options = monitor.rewind_options([a["kind"] for a in epochs[-1]["alarms"]], cfg)
    return RewindOffer(healthy, options) if healthy is not None and options else None


def _default_run(caller: Caller) -> RunDir | None:
    """The caller's newest run, else the example of a healthy run (the bundled faces generator's)."""
    return newest_run(caller) or next((r for r in example_runs() if r.name == EXAMPLE), None)


def snapshot(caller: Caller, run: str | None = None) -> RunSnapshot | None:
    """The caller's run now (the newest, else the example, when none is named)."""
    target = run_for(caller, run) if run else _default_run(caller)
    return look(target) if target is not None else None


def follow(caller: Caller, run: str | None = None, poll_s: float = 1.0) -> Iterator[RunSnapshot]:
    """Snapshots of the caller's run whenever its files change, until it ends."""
    target = run_for(caller, run) if run else _default_run(caller)
    if target is None:
        return
    seen = None
    while True:
        key = tuple(p.stat().st_mtime_ns if p.exists() else 0 for p in (target.metrics, target.status_file))
        if key != seen:
            seen = key
            yield look(target)
        st = target.state()
        if st in ENDED or (st == "new" and time.time() - target.path.stat().st_mtime > 120):
            yield look(target)
            return
        time.sleep(poll_s)


# ---------------------------------------------------------------- the architecture

def summary(image_size: int = 64, ngf: int = 64, ndf: int = 64, nz: int = 100, channels: int = 3,
            half: bool = False, upsample: str = "transposed") -> ArchitectureTable:
    """The paper's architecture table for these settings: every layer of G and D, totals."""
    m = ModelConfig(nz=checks.whole(nz, "nz", 1, 4096), ngf=checks.whole(ngf, "ngf", 1, 1024),
                    ndf=checks.whole(ndf, "ndf", 1, 1024), nc=int(checks.one_of(checks.whole(channels, "channels", 1, 3), "channels", (1, 3))),
                    image_size=int(checks.one_of(checks.whole(image_size, "image_size", 1, 4096), "image_size",
                                                 (32, 64, 128))),
                    upsample=checks.one_of(upsample, "upsample", UPSAMPLING))
    t = summary_table(m.half() if checks.flag(half, "half") else m)
    return ArchitectureTable(t, summary_markdown(t))


__all__ = ["SUPERVISOR", "alarm_text", "follow", "look", "resume", "rewind", "runs", "settings", "snapshot", "stop",
           "summary", "train", "train_here"]
