"""Use cases of watching training: the caller's runs, one run now (`snapshot`), a run as it changes
(`follow`), the training slot (`slot`) and a run's FID curve.

What a run says is read from its directory and reconciled with the world: the state from
status.json and the worker's pid (runs.RunDir.state: a dead worker is never "running"), epoch and
step from the newest records, the ETA from the run's own measured seconds per epoch (epoch-end
work included), the queue's order from the supervisor. The answers are data (results.RunSnapshot);
the page and the API word them. No gradio here.
"""
from __future__ import annotations

import json
import time
from typing import Iterator

from .. import comparison, monitor, remedies
from ..runs import ENDED, RunDir, example_runs, list_runs
from .access import newest_run, run_for
from .caller import Caller
from .limits import Limits, expires_at
from .results import RewindOffer, RunInfo, RunSnapshot, RunStatus, Slot
from .service import SUPERVISOR

EXAMPLE = "example-faces"  # what the run view shows before the caller has a run of its own
GUESS_IMAGES_PER_S = 100.0  # a run not yet started: a CPU Space's order of magnitude, epoch ends included
# a worker's start before its first step (interpreter, torch, the data read): ~4.5 s measured from
# process start to the first record on 2 EPYC cores; a free Space's vCPUs are about half as fast
START_UP_S = 10.0


def runs(caller: Caller, examples: bool = True) -> list[RunInfo]:
    """The caller's runs, newest first, with state, progress, settings that matter and first alarm;
    then the shipped example runs (state "example"), which everyone sees."""
    out = []
    for r in [r for r in list_runs() if caller.sees(r.owner())] + (example_runs() if examples else []):
        cfg = r.read_config() if r.config.exists() else {}
        view = comparison.load([r.path])[0] if r.config.exists() else None
        last = view.epochs[-1] if view and view.epochs else {}
        out.append(RunInfo(r.name, "example" if r.is_example else r.state(), last.get("epoch", 0), cfg.get("epochs"),
                           cfg.get("data"), cfg.get("ngf"), cfg.get("ndf"), cfg.get("flip"), cfg.get("augment"),
                           view.first_alarm if view else None, view.best_fid if view else None))
    return out


# ---------------------------------------------------------------- one run, now

def _settings(run: RunDir) -> dict:
    """The run's settings: config.json, or the newer request the app has handed its worker (a
    resume asking for more epochs, before the worker has written config.json again)."""
    cfg = run.read_config() if run.config.exists() else {}
    try:
        asked = run.request.stat().st_mtime if run.request.exists() else None
        if asked is not None and (not run.config.exists() or asked >= run.config.stat().st_mtime):
            cfg = {**cfg, **json.loads(run.request.read_text())["config"]}
    except (OSError, ValueError, KeyError):
        pass
    return cfg


ETA_EPOCHS = 10  # the newest epochs an ETA is measured from


def eta_s(cfg: dict, records: list[dict], status: dict, now: float | None = None) -> float | None:
    """Seconds a running run still needs: the epochs left times the mean time of this session's
    newest epochs (up to ETA_EPOCHS, each from one epoch end to the next, so the grids, GIF and FID
    of an epoch's end are in it; enough of them that one slow or quick epoch moves it little and an
    FID every k epochs counts about as often as it comes, few enough that a start-up or a load that
    has gone fades out), less what the current epoch has already taken. Before two epoch ends, from
    the steps' own pace. None when nothing has been measured yet."""
    now = time.time() if now is None else now
    started = float(status.get("started") or 0)
    epochs_done = max((r["epoch"] for r in records if r.get("kind") == "epoch"), default=0)
    total = int(cfg.get("epochs") or 0)
    if not total:
        return None
    ends = [r["time"] for r in records if r.get("kind") == "epoch" and r.get("time", 0) >= started]
    steps = [r for r in records if r.get("kind") == "step" and r.get("time", 0) >= started]
    per_epoch = None
    if len(ends) >= 2:
        newest = ends[-(ETA_EPOCHS + 1):]
        per_epoch = (newest[-1] - newest[0]) / (len(newest) - 1)
    elif len(steps) >= 2 and steps[-1]["step"] > steps[0]["step"]:
        per_step = (steps[-1]["time"] - steps[0]["time"]) / (steps[-1]["step"] - steps[0]["step"])
        per_epoch = per_step * int(cfg.get("steps_per_epoch") or 1)
    elif steps and steps[-1].get("images_per_s"):
        per_epoch = int(cfg.get("n_images") or 0) / steps[-1]["images_per_s"]
    if per_epoch is None or per_epoch <= 0:
        return None
    into = now - (ends[-1] if ends else max(started, steps[0]["time"] if steps else started))
    return max(0.0, (total - epochs_done) * per_epoch - min(max(into, 0.0), per_epoch))


def _needs_s(run: RunDir, started_s_ago: float = 0.0) -> float:
    """How long a run that is not training yet will need: the start-up still ahead of it, then its
    epochs left over a CPU Space's pace, capped by the public wall-time limit."""
    cfg = _settings(run)
    n = cfg.get("n_images") or cfg.get("max_images") or 10_000
    done = max((r["epoch"] for r in run.read_metrics() if r.get("kind") == "epoch"), default=0)
    left = max(int(cfg.get("epochs") or 1) - done, 0) * n
    start_up = max(START_UP_S - started_s_ago, 0.0)
    return min(start_up + left / GUESS_IMAGES_PER_S, 60 * Limits.from_env().max_minutes)


def _left_s(run: RunDir) -> float:
    """The running run's time left (its ETA, else a guess; one that is starting has its start-up
    ahead, so it is never "about 0 s left" before its first step)."""
    status = run.status()
    eta = eta_s(_settings(run), run.read_metrics(), status)
    if eta is not None:
        return eta
    return _needs_s(run, time.time() - float(status.get("started") or time.time()))


def wait_s(run: RunDir) -> float:
    """About how long a queued run waits: what the running run still needs, then each run ahead."""
    active = SUPERVISOR.active()
    ahead = [r for r in SUPERVISOR.queued() if r.name != run.name]
    ahead = ahead[:(SUPERVISOR.position(run) or len(ahead) + 1) - 1]
    return (_left_s(active) if active else 0.0) + sum(_needs_s(r) for r in ahead)


def status(run: RunDir, records: list[dict] | None = None, cfg: dict | None = None) -> RunStatus:
    """The run's state and numbers now (see RunStatus); records and settings when already read."""
    records = run.read_metrics() if records is None else records
    cfg, st = _settings(run) if cfg is None else cfg, run.status()
    state = "example" if run.is_example else run.state()
    steps = [r for r in records if r.get("kind") == "step"]
    epochs = [r for r in records if r.get("kind") == "epoch"]
    fids = [(e["fid"], e["epoch"], e.get("fid_protocol")) for e in epochs if e.get("fid") is not None]
    position = SUPERVISOR.position(run) if state == "queued" else None
    return RunStatus(
        state=state, epoch=epochs[-1]["epoch"] if epochs else 0, epochs=cfg.get("epochs"),
        step=steps[-1]["step"] if steps else 0, images_per_s=steps[-1].get("images_per_s") if steps else None,
        eta_s=eta_s(cfg, records, st) if state == "running" else None,
        fid=fids[-1][0] if fids else None, fid_protocol=fids[-1][2] if fids else None,
        best_fid=min((f, e) for f, e, _ in fids) if fids else None,
        reason=st.get("reason") if state in ("failed", "stopped", "interrupted") else None,
        position=position, wait_s=wait_s(run) if position else None,
        expires_at=None if run.is_example else expires_at(run, Limits.from_env()),
        rewinds=len(cfg.get("rewinds", [])))


def healthy_epoch(epochs: list[dict]) -> int | None:
    """The epoch checkpoints/healthy.pt holds: the newest the monitor judged clear (records from
    before that judgement: the newest without an alarm)."""
    return next((e["epoch"] for e in reversed(epochs)
                 if e.get("signals", {}).get("clear", not e.get("alarms"))), None)


def rewind_offer(run: RunDir, cfg: dict, epochs: list[dict]) -> RewindOffer | None:
    """While the newest epoch has alarms and an earlier epoch judged clear is kept as healthy.pt:
    that epoch and what to change. Never an epoch that was no healthier (see monitor.clear)."""
    if run.is_example or not epochs or not epochs[-1].get("alarms") or not run.healthy.exists():
        return None
    healthy = healthy_epoch(epochs[:-1])
    options = remedies.rewind_options([a["kind"] for a in epochs[-1]["alarms"]], cfg)
    return RewindOffer(healthy, options) if healthy is not None and options else None


def look(run: RunDir) -> RunSnapshot:
    """What a run directory says now (no caller check: see snapshot)."""
    recs = run.read_metrics()
    steps = [r for r in recs if r.get("kind") == "step"]
    epochs = [r for r in recs if r.get("kind") == "epoch"]
    cfg = _settings(run)
    history: dict[str, list[int]] = {}
    for e in epochs:
        for a in e.get("alarms", []):
            history.setdefault(a["kind"], []).append(e["epoch"])
    now = [{**a, "remedies": [r.to_dict() for r in remedies.remedies_of(a, cfg)]}
           for a in (epochs[-1].get("alarms", []) if epochs else [])]
    samples = run.sample_paths()
    files = [(p, what) for p, what in ((run.last, "checkpoint"), (run.generator / "model.safetensors", "generator"),
                                       (run.gif, "gif")) if p.exists()]
    return RunSnapshot(run.name, status(run, recs, cfg), cfg, steps, epochs, monitor.phase(steps, epochs), now, history,
                       samples[-1] if samples else None, run.gif if run.gif.exists() else None, files, run.path,
                       run.is_example, rewind_offer(run, cfg, epochs))


def _default_run(caller: Caller) -> RunDir | None:
    """The caller's newest run, else the example of a healthy run (the bundled faces generator's)."""
    return newest_run(caller) or next((r for r in example_runs() if r.name == EXAMPLE), None)


def snapshot(caller: Caller, run: str | None = None) -> RunSnapshot | None:
    """The caller's run now (the newest, else the example, when none is named)."""
    target = run_for(caller, run) if run else _default_run(caller)
    return look(target) if target is not None else None


def _wait_step(seconds: float) -> int:
    """A queue wait as fine as people read it: each second in its last minute, else each minute (a
    page that says "starts in about 5 s" must not keep saying it for a minute)."""
    return int(seconds) if seconds < 60 else 60 * round(seconds / 60)


def follow(caller: Caller, run: str | None = None, poll_s: float = 1.0,
           should_stop=None) -> Iterator[RunSnapshot]:
    """Snapshots of the caller's run whenever it changes (its files; while it waits, its place and
    wait in the queue), until it ends, or until should_stop() says so (asked at every poll)."""
    target = run_for(caller, run) if run else _default_run(caller)
    if target is None:
        return
    seen = None
    while should_stop is None or not should_stop():
        files = tuple(p.stat().st_mtime_ns if p.exists() else 0 for p in (target.metrics, target.status_file))
        st = target.state()
        queue = (SUPERVISOR.position(target), _wait_step(wait_s(target))) if st == "queued" else None
        if (files, st, queue) != seen:
            seen = (files, st, queue)
            yield look(target)
        if st in ENDED or st == "example" or target.is_example or (
                st == "new" and time.time() - target.path.stat().st_mtime > 120):
            return
        time.sleep(poll_s)


def slot(caller: Caller) -> Slot:
    """The training slot as this caller may see it: busy or free, the running run's name only if
    it is the caller's, about when it frees, how many wait and where the caller's own run is."""
    active = SUPERVISOR.active()
    waiting = SUPERVISOR.queued()
    mine = next((i + 1 for i, r in enumerate(waiting) if caller.sees(r.owner())), None)
    if active is None:
        return Slot(False, waiting=len(waiting), my_place=mine)
    own = caller.sees(active.owner())
    return Slot(True, own, active.name if own else None, _left_s(active), len(waiting), mine)


# ---------------------------------------------------------------- pictures of a run

_curves: dict = {}  # (run path, epochs with FID) -> the picture


def fid_curve(caller: Caller, run: str):
    """The run's FID per epoch with the epoch kept as best.pt starred (PIL image); None before any FID."""
    import io

    from PIL import Image

    target = run_for(caller, run)
    epochs = [r for r in target.read_metrics() if r.get("kind") == "epoch" and r.get("fid") is not None]
    if not epochs:
        return None
    key = (str(target.path), len(epochs))
    if key not in _curves:
        fig = comparison.figure(comparison.load([target.path]), panels=("fid",), grids=False, width=6.0)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
        _curves.clear()
        _curves[key] = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return _curves[key]
