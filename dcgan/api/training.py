"""Use cases that command training: start (in a worker, or here), stop, resume, rewind.

`train` starts a background worker (the app's way: the page never trains inside a request);
`train_here` trains in this process and yields the trainer's events (the CLI's way). Both check
every setting before any image is decoded. A rewind is recorded in the run directory before its
worker starts (rewind.record), so a rewind stopped during start-up is a run stopped at its healthy
epoch. One training worker at a time (service.SUPERVISOR); on a public Space a fair queue, one run
per visitor, caps and a disk quota (limits.py). Watching runs is watching.py's.
"""
from __future__ import annotations

import shutil
from dataclasses import fields
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

from .. import data as datamod
from ..config import TrainConfig
from ..errors import Busy, ConfigError, DataError, NothingToResume, UserError
from ..events import Event
from ..models import ModelConfig
from ..rewind import record as record_rewind
from ..runs import CHECKPOINT_SOURCES, RunDir, runs_root
from . import checks
from .access import data_spec, newest_run, receive, run_for, server_path, uploads_named, writable
from .caller import Caller, Upload
from .limits import Limits, expire, folder_bytes
from .results import Stopped, TrainingStarted
from .service import SUPERVISOR
from .watching import look, wait_s

Progress = Callable[[int, int], None]  # fn(done, total)


def settings(caller: Caller, values: Mapping[str, object] | TrainConfig, half: bool = False) -> TrainConfig:
    """Training settings from plain values keyed by setting name, checked; paths only for the local user."""
    cfg = values if isinstance(values, TrainConfig) else TrainConfig.coerce(dict(values))
    for f in fields(cfg):
        if f.metadata["server_path"]:
            server_path(caller, getattr(cfg, f.name), f.name)
    return cfg.half() if checks.flag(half, "half") else cfg


def _refuse_if_busy(caller: Caller) -> Limits | None:
    """The slot's rules for this caller: locally one training at a time; on a public Space one run
    per visitor (running or waiting) and the disk quota. The Space's limits, or None locally."""
    if caller.trusted:
        busy = SUPERVISOR.active()
        if busy is not None:
            raise Busy(f"a training is already running ({busy.name}); stop it first or wait for it")
        return None
    limits = Limits.from_env()
    mine = [r for r in [SUPERVISOR.active(), *SUPERVISOR.queued()] if r is not None and caller.sees(r.owner())]
    if mine:
        raise Busy(f"you already have a run {mine[0].state()} ({mine[0].name}); one at a time per visitor: "
                   "wait for it or stop it")
    expire(limits)
    used = folder_bytes(runs_root()) / 2**20
    if used > limits.quota_mb:
        raise Busy(f"this Space's disk for runs is full ({used:.0f} of {limits.quota_mb:.0f} MB); try again later")
    return limits


def _check_work(limits: Limits | None, epochs: int, n_images: int) -> None:
    if limits is not None and epochs * n_images > limits.max_work:
        raise ConfigError(f"epochs × images must be at most {limits.max_work} on this shared Space (got "
                          f"{epochs} × {n_images} = {epochs * n_images}); train fewer {{epochs}} or set "
                          "{max_images}", settings=("epochs", "max_images"))


def train(caller: Caller, values: Mapping[str, object] | TrainConfig | None = None, *,
          uploads: Sequence[Upload] = (), half: bool = False, progress: Progress | None = None) -> TrainingStarted:
    """Start training in a background worker; returns the run's name at once. With uploads, the
    images (or one zip) are copied into the run, so it stays resumable after the upload is gone."""
    cfg = settings(caller, values or {}, half)
    if not uploads:
        cfg = TrainConfig.coerce({**cfg.to_dict(), "data": data_spec(caller, cfg.data)})
    limits = _refuse_if_busy(caller)
    run = SUPERVISOR.new_run_dir()
    try:
        if uploads:
            cfg = TrainConfig.coerce({**cfg.to_dict(), "data": receive(uploads, run.data_dir, run.data_zip,
                                                                        "training")})
        try:  # decoding here fills the cache the worker then reads, and finds bad data before it starts
            images, report = datamod.load(cfg.data, cfg.image_size, data_root=cfg.data_root,
                                          max_images=cfg.max_images, channels=cfg.channels, progress=progress)
        except DataError as e:
            raise DataError(str(e).replace(cfg.data, uploads_named(uploads)) if uploads else str(e)) from None
        if len(images) < 2:
            raise DataError(f"{uploads_named(uploads) if uploads else cfg.data} has {len(images)} usable image; "
                            "training needs at least 2")
        source = uploads_named(uploads) if uploads else report.source
        if limits is None:
            SUPERVISOR.start(cfg, run, owner=caller.owner)
            return TrainingStarted(run.name, report.n_images, source, list(report.skipped), epochs=cfg.epochs)
        _check_work(limits, cfg.epochs, report.n_images)
        place = SUPERVISOR.submit(cfg, run, owner=caller.owner, max_seconds=60 * limits.max_minutes)
    except BaseException:
        shutil.rmtree(run.path, ignore_errors=True)
        raise
    return TrainingStarted(run.name, report.n_images, source, list(report.skipped), queued=place,
                           wait_s=wait_s(run) if place else None, epochs=cfg.epochs)


def train_here(caller: Caller, values: Mapping[str, object], out: str | Path, *, resume: bool = False,
               half: bool = False, stop=None, data_progress: Progress | None = None,
               start_from: str = "last") -> Iterator[Event]:
    """Train (or resume) into the run directory `out` in this process, yielding events. On resume,
    `values` are the settings a person asked for: a change to one that may not change is refused.
    start_from (with resume): last, healthy (a rewind to the newest epoch the monitor judged clear)
    or best."""
    from ..train import train as run_training

    run = RunDir(out)
    if run.path.exists() and not run.path.is_dir():
        raise ConfigError(f"{{out}} {run.path.name} is a file; give a folder for the run", settings=("out",))
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
    """Stop the caller's running training (it saves a checkpoint first and can be resumed), or
    take its waiting run out of the queue."""
    active = SUPERVISOR.active()
    if run:
        target = writable(run_for(caller, run))
        if target.state() == "queued" and SUPERVISOR.unqueue(target):
            return Stopped(target.name, "stopped", "left_queue")
        if active is None or active.path.resolve() != target.path.resolve():
            return Stopped(target.name, target.state(), "not_running")
    if active is None or not caller.sees(active.owner()):
        mine = next((r for r in SUPERVISOR.queued() if caller.sees(r.owner())), None)
        if mine is not None and SUPERVISOR.unqueue(mine):
            return Stopped(mine.name, "stopped", "left_queue")
        return Stopped(None, "idle", "nothing")
    return Stopped(active.name, SUPERVISOR.stop(active), "stopped")


def _continue(caller: Caller, target: RunDir, epochs: int | None, changes: Mapping[str, object],
              start_from: str) -> TrainingStarted:
    """Resume `target` (after a rewind, from its healthy epoch) in the worker, with `changes`."""
    saved = _saved_settings(target)
    asked = dict(changes or {})
    if epochs is not None:
        asked["epochs"] = checks.whole(epochs, "epochs", 1, 100_000)
    typed = TrainConfig.coerce({**TrainConfig.from_dict(saved).to_dict(), **asked})
    cfg = TrainConfig.for_resume(saved, {k: getattr(typed, k) for k in asked})
    at = _checkpoint_epoch(target, start_from)
    if cfg.epochs <= at:
        raise ConfigError(f"{target.name} has already trained {at} epochs; ask for more {{epochs}} (more than {at}) "
                          "to continue it", settings=("epochs",))
    limits = _refuse_if_busy(caller)
    _check_work(limits, cfg.epochs, saved.get("n_images", 0))
    rewound = record_rewind(target, start_from, cfg) if start_from != "last" else None
    if limits is None:
        SUPERVISOR.start(cfg, target, resume=True)
        place = 0
    else:
        place = SUPERVISOR.submit(cfg, target, resume=True, max_seconds=60 * limits.max_minutes)
    return TrainingStarted(target.name, saved.get("n_images", 0), str(saved.get("data", "")), queued=place,
                           wait_s=wait_s(target) if place else None, resumed=True, epochs=cfg.epochs,
                           changed=cfg.tuned(saved), rewound=rewound)


def _checkpoint_epoch(run: RunDir, source: str) -> int:
    """The epoch a run would continue from: its newest epoch record when it continues from last.pt
    (cheap), else the checkpoint's own."""
    if source == "last":
        return max((r["epoch"] for r in run.read_metrics() if r.get("kind") == "epoch"), default=0)
    from ..runs import load_checkpoint

    return int(load_checkpoint(run.checkpoint_for(source))["epoch"])


def resume(caller: Caller, run: str | None = None, epochs: int | None = None,
           changes: Mapping[str, object] | None = None, start_from: str = "last") -> TrainingStarted:
    """Continue a stopped, finished or interrupted run until `epochs` in total (default: as asked
    before), with `changes` to the settings that may change (config.changeable). start_from: last,
    healthy (a rewind to the newest epoch the monitor judged clear) or best."""
    target = run_for(caller, run) if run else newest_run(caller)
    if target is None:
        raise UserError("no run to resume: start one first")
    if not writable(target).last.exists():
        raise NothingToResume(f"{target.name} has no checkpoint to resume from")
    target.checkpoint_for(checks.one_of(start_from, "start_from", CHECKPOINT_SOURCES))
    if target.state() in ("running", "queued"):
        raise Busy(f"{target.name} is {target.state()} already")
    return _continue(caller, target, epochs, changes or {}, start_from)


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
        offer = look(target).rewind
        if offer is None:
            raise UserError(f"{target.name} has no active alarm with a healthier epoch to go back to; resume it "
                            "instead, or give the changes")
        words = continue_with or offer.options[0][0]
        if words not in [w for w, _ in offer.options]:
            raise ConfigError(f"{{continue_with}} must be one of: {'; '.join(w for w, _ in offer.options)}",
                              settings=("continue_with",))
        changes = offer.changes(words)
    active = SUPERVISOR.active()
    if active is not None and active.path.resolve() == target.path.resolve():
        SUPERVISOR.stop(active)
    elif target.state() == "queued":
        SUPERVISOR.unqueue(target)
    return _continue(caller, target, epochs, changes, "healthy")


__all__ = ["SUPERVISOR", "resume", "rewind", "settings", "stop", "train", "train_here"]
