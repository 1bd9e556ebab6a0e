"""The page's words: what the use cases return (states, numbers, alarms as records), said for a
person looking at the page, and for a script reading the HTTP API (the same sentences, settings
named by the API's parameter names instead of the form's labels).

`label(setting)` is how the page names a setting (the form's label); `plain(setting)` how the API
names it. Every sentence that names settings takes one of the two (`say`). No gradio here, no
decisions: a use case decides, this module only words.
"""
from __future__ import annotations

import time
from dataclasses import fields
from typing import Callable

from .. import api
from ..config import TrainConfig, label_of

Say = Callable[[str], str]

# the page's names of use-case parameters that are not training settings
LABELS = {"n": "Images", "seed": "Seed", "seeds": "Keyframe seeds", "frames": "Frames", "t": "Scrub position",
          "truncation": "Latent limit T", "hub_id": "Hub id", "a": "A seeds", "b": "B seeds", "c": "C seeds",
          "n_real": "Real images to read", "dims": "Feature dims", "image_size": "Image size", "steps": "Optimiser steps",
          "runs": "Runs", "start": "Start latent", "continue_with": "Continue with", "half": "Half channels",
          "generator": "Generator", "data": "Data", **{f"direction_{i}": f"Direction {i}" for i in range(1, 6)}}
_FIELDS = {f.name: f for f in fields(TrainConfig)}


def label(setting: str) -> str:
    """The page's name for a setting: its form label ("Learning rate"), else the widget's."""
    if setting in _FIELDS and setting not in ("data", "image_size"):
        return label_of(_FIELDS[setting])
    return LABELS.get(setting, setting.replace("_", " ").capitalize())


def plain(setting: str) -> str:
    """The HTTP API's name for a setting: its parameter name."""
    return setting


def value(v) -> str:
    return "on" if v is True else "off" if v is False else f"{v:g}" if isinstance(v, float) else str(v)


def changes(settings: dict, say: Say = label) -> str:
    """{lr: 0.0001, flip: True} -> "Learning rate 0.0001, Random flips on"."""
    return ", ".join(f"{say(k)} {value(v)}" for k, v in settings.items())


def remedy_settings(say: Say = label):
    """remedies.remedy_words' setting_words for this adapter."""
    return lambda settings, new_run: changes(settings, say) + (", a new run" if new_run else "")


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def duration(seconds: float) -> str:
    """A short, honest 'time left': seconds under a minute, else minutes (hours past 90 minutes)."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 5400:
        return f"{round(s / 60)} min"
    return f"{s / 3600:.1f} h"


def clock(seconds: float) -> str:
    """HH:MM:SS (days as a count when a run is that long)."""
    s = max(0, int(round(seconds)))
    days, rest = divmod(s, 86400)
    return (f"{days} d " if days else "") + time.strftime("%H:%M:%S", time.gmtime(rest))


# ---------------------------------------------------------------- commands

def started(st: api.TrainingStarted, say: Say = label) -> str:
    """What Start, Resume or Rewind did, in one or two sentences."""
    queue = (f": {ordinal(st.queued)} in line" + (f", starts in about {duration(st.wait_s)}" if st.wait_s is not None
                                                 else "")) if st.queued else ""
    if st.rewound:
        r = st.rewound
        with_ = f" with {changes(r['changed'], say)}" if r.get("changed") else ""
        return (f"Rewound **{st.run}** to {r.get('source', 'healthy')}.pt{with_}: back from epoch {r['at_epoch']} "
                f"to epoch {r['from_epoch']}, towards epoch {st.epochs}{queue}.")
    if st.resumed:
        with_ = f" with {changes(st.changed, say)}" if st.changed else ""
        return f"Resumed **{st.run}**{with_}, towards epoch {st.epochs}{queue}."
    text = f"{'Queued' if st.queued else 'Started'} **{st.run}** on {st.n_images} images from {st.data}{queue}."
    if st.skipped:
        names = ", ".join(f"{n} ({why})" for n, why in st.skipped[:5])
        more = f" and {len(st.skipped) - 5} more" if len(st.skipped) > 5 else ""
        text += f" Skipped {len(st.skipped)} unreadable: {names}{more}."
    return text


def stopped(s: api.Stopped) -> str:
    return {"stopped": f"**{s.run}**: {s.state}; its checkpoint is saved and it can be resumed.",
            "left_queue": f"**{s.run}** left the queue before it started.",
            "not_running": f"**{s.run}** is not running ({s.state}).",
            "nothing": "Nothing of yours is running."}[s.what]


# ---------------------------------------------------------------- a run

def status_line(name: str, s: api.RunStatus) -> str:
    """The run view's first line: state, epoch, step, throughput, ETA, FID, queue, expiry."""
    state = s.state if s.state != "example" else "an example run (read-only)"
    text = f"**{name}** — {state}"
    if s.state == "queued":
        where = f"{ordinal(s.position)} in line" if s.position else "waiting"
        wait = f", starts in about {duration(s.wait_s)}" if s.wait_s is not None else ""
        return text + f" · {where}{wait}"
    if s.step or s.epoch:
        # while training, the epoch in progress; once ended, the epochs done
        shown = s.epoch + 1 if s.state == "running" and s.epochs and s.epoch < s.epochs else s.epoch
        text += f" · epoch {shown}/{s.epochs or '?'} · step {s.step}"
        if s.images_per_s and s.state == "running":
            text += f" · {s.images_per_s:.0f} images/s"
        if s.eta_s is not None:
            text += f" · ETA {clock(s.eta_s)}"
    elif s.state == "running":
        text += " · starting (reading the data)"
    if s.fid is not None and s.best_fid:
        best, at = s.best_fid
        text += f" · FID {s.fid:.2f} (best {best:.2f} at epoch {at}, kept as best.pt)"
    if s.reason and s.state in ("failed", "stopped", "interrupted"):
        text += f" · {s.reason}"
    if s.expires_at is not None:
        text += f" · kept until about {time.strftime('%H:%M UTC %d %b', time.gmtime(s.expires_at))} (sign in to keep runs)"
    return text


def phase(p) -> str:
    """Where the run stands (monitor.Phase), in plain words."""
    div = f" The samples are {p.diversity_ratio:.2f} of the real images' variety." if p.diversity_ratio is not None else ""
    if p.kind == "waiting":
        return "Waiting for the first logged steps."
    if p.kind == "trouble":
        return "The monitor sees trouble now: read the alarm below and its remedies."
    if p.kind == "stall":
        epochs, steps = p.checker_from
        return (f"Early stall (step {p.step}): D tells real from generated almost perfectly (D(x) {p.d_real:.2f}, "
                f"D(G(z)) {p.d_fake:.2f}), so the samples are grey or all alike, often under a fine checkerboard. "
                f"Most runs start so and leave it by step 300-600. The monitor does not judge this yet: a "
                f"checkerboard still there from epoch {epochs} and step {steps} raises its alarm, and D still this "
                f"far ahead after step {p.d_from} raises D's.")
    if p.kind == "recovered":
        shown = ", ".join(map(str, p.alarm_epochs[:6])) + (" …" if len(p.alarm_epochs) > 6 else "")
        return f"Recovered: alarms fired at epoch{'s' if len(p.alarm_epochs) > 1 else ''} {shown}, and none does now.{div}"
    if p.kind == "learning":
        return f"Learning: faces take shape before variety does.{div} No alarms."
    return (f"Healthy: D and G are in balance (D(x) {p.d_real:.2f}, D(G(z)) {p.d_fake:.2f} over the last logs).{div}"
            " No alarms.")


def _spans(epochs: list[int]) -> str:
    """[3, 4, 5, 9] -> '3–5, 9'."""
    out, start = [], None
    for i, e in enumerate(epochs):
        start = e if start is None else start
        if i + 1 == len(epochs) or epochs[i + 1] != e + 1:
            out.append(f"{start}–{e}" if e != start else f"{e}")
            start = None
    return ", ".join(out)


def alarms(s: api.RunSnapshot, say: Say = label, rewind_words: str | None = None) -> str:
    """The newest epoch's alarms in full (each one sentence, remedies.sentence), then which alarms
    fired earlier and when (a run that collapsed and recovered should not just say 'No alarms')."""
    if not s.epochs:
        return "No alarms yet."
    if rewind_words is None:
        rewind_words = ("or rewind: press the button below to go back to the last healthy epoch and continue with "
                        "one of these changes" if s.rewind else "")
    now = [api.alarm_sentence(a, s.config, remedy_settings(say), rewind_words) for a in s.alarms]
    text = "\n\n".join(f"⚠️ **{line}**" for line in now) or "No alarms now."
    newest = s.epochs[-1]["epoch"]
    if s.history and any(eps[-1] != newest or len(eps) > 1 for eps in s.history.values()):
        text += "\n\nAlarms during this run: " + "; ".join(f"{k.replace('_', ' ')} at epochs {_spans(v)}"
                                                          for k, v in s.history.items())
    return text


def rewind_label(offer, words: str | None = None) -> str:
    return f"Rewind to epoch {offer.epoch} and continue with {words or offer.options[0][0]}"


FILES = {"checkpoint": "checkpoint (last.pt)", "generator": "generator (safetensors)", "gif": "progress GIF"}


def downloads(s: api.RunSnapshot) -> str:
    """The downloads' label: what this run offers (an example run ships no checkpoint)."""
    what = [FILES[w] for _, w in s.files]
    return "Downloads: " + (", ".join(what) if what else "nothing yet")


def slot(sl: api.Slot, public: bool) -> str:
    """The training slot, said before Start."""
    if not sl.busy:
        return "The training slot is free" + (f"; {sl.waiting} run(s) waiting." if sl.waiting else ".")
    left = f", about {duration(sl.free_in_s)} left" if sl.free_in_s is not None else ""
    who = f"your run **{sl.run}** is training{left}" if sl.mine else f"another {'visitor' if public else 'run'} is training{left}"
    if not public:
        return f"The training slot is busy: {who}. Stop it before starting another."
    waiting = f"; {sl.waiting} waiting" if sl.waiting else ""
    mine = f"; yours is {ordinal(sl.my_place)} in line" if sl.my_place else \
        "; a run you start now waits its turn" if not sl.mine else ""
    return f"The training slot is busy: {who}{waiting}{mine}."


def limits(lim: api.Limits) -> str:
    """A public Space's caps, said before Start."""
    return (f"On this shared Space one run may train at most {lim.max_work:,} image passes (epochs × images) and "
            f"{lim.max_minutes:g} minutes; runs wait their turn in a queue, one per visitor. Runs of visitors who "
            f"are not signed in are removed {lim.ttl_hours:g} h after they end.")


# ---------------------------------------------------------------- comparing runs

def compared(c: api.Comparison, say: Say = label) -> list[str]:
    """One line per run (state, FID, first alarm), and one per branch a rewind left."""
    lines = []
    for r in c.compared:
        a = r.first_alarm
        fid = ""
        if r.fid:
            (last, at), (best, best_at) = r.fid["last"], r.fid["best"]
            fid = f" · {r.fid['protocol']} {last:.1f} at epoch {at} (best {best:.1f} at epoch {best_at})"
        lines.append(f"**{r.name}** ({r.state}){fid}: " + (f"first alarm at epoch {a['epoch']} (step {a['step']}): "
                                                           f"{a['message']}" if a else "no alarm"))
        for b in r.branches:
            changed = changes(b["changed"], say) or "no setting changed"
            alarms_ = f" with alarms: {', '.join(k.replace('_', ' ') for k in b['alarms'])}" if b["alarms"] else ""
            lines.append(f"**{r.name}** rewound at epoch {b['at_epoch']} to epoch {b['from_epoch']} ({b['source']}.pt) "
                         f"with {changed}; the abandoned branch (faded) reached epoch {b['reached']}{alarms_}")
    return lines


def cell(v) -> str:
    """A settings table's cell: None as 'not set', bools as on/off."""
    return "not set" if v is None else value(v)


# ---------------------------------------------------------------- long work and copies

def step(st) -> str:
    """A WorkStep in the page's words: what, how many of how many, and the time left."""
    words = st.what
    if st.total:
        words += f": {st.done:,} of {st.total:,} images"
    if st.eta_s is not None:
        words += f" · about {duration(st.eta_s)} left"
    return words


def copies(r, of: str = "") -> str:
    """The copy check's finding, with the rule it used."""
    c = r.calibration
    return (f"**{r.copies} of {r.n}** samples of {r.generated} look like copies of {of or r.real} ({r.n_real:,} "
            f"images): each nearer to a real image than **{r.threshold:.3f}**, the distance below which only 1% of "
            f"the real images have their own nearest neighbour (median {c['median_distance']:.3f}). Distances are "
            "between 8×8 colour thumbnails, the nearer of an image and its mirror; the most suspicious come first.")
