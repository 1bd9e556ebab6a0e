"""The live view of one run on the page: the use cases' RunSnapshot as plots, pictures and words.

`Panel` builds the components; `view(snapshot)` gives their values; `stream(caller, run)` follows
the run through api.follow until it ends, which is how a reload re-attaches to a running training.
The events that start, resume, rewind or pick a run stream into the same panel (train_tab.py).
Nothing here trains, writes a run or decides what a run says: the use cases do; words.py words it.
"""
from __future__ import annotations

import threading
from typing import Callable

import gradio as gr
import pandas as pd

from .. import api
from . import common, words


def _frame(records: list[dict], pairs) -> pd.DataFrame | None:
    """Long format for gr.LinePlot, typed even when empty (an untyped first frame makes the plot's
    axes categorical for good)."""
    rows = [(int(r["step"]), float(r[k]), name) for r in records for k, name in pairs if r.get(k) is not None]
    if not rows:
        return None
    df = pd.DataFrame(rows, columns=["step", "value", "series"])
    return df.astype({"step": "int64", "value": "float64", "series": "str"})


class Panel:
    """The run view's components, built in place (call inside a Blocks layout)."""

    def __init__(self):
        self.status = gr.Markdown("No run yet.")
        with gr.Row():
            self.losses = gr.LinePlot(x="step", y="value", color="series", title="Losses", height=240,
                                      x_title="step", y_title="loss", x_axis_format="~s", y_axis_format=".2~f")
            self.probs = gr.LinePlot(x="step", y="value", color="series", title="Discriminator outputs",
                                     y_lim=[0, 1], height=240, x_title="step", y_title="probability",
                                     x_axis_format="~s", y_axis_format=".2~f")
        with gr.Row():
            self.diversity = gr.LinePlot(x="step", y="value", color="series", height=240, x_title="step",
                                         y_title="of the real images'", x_axis_format="~s", y_axis_format=".2~f",
                                         title="Diversity (near 0: collapsed)")
            self.fid = gr.Image(label="FID per epoch (★ = best.pt)", type="filepath", height=240, visible=False,
                                buttons=[], elem_classes=["picture"])
        with gr.Row():
            with gr.Column(min_width=200):
                gr.Markdown("**Newest fixed-noise grid**")
                self.grid = gr.Image(show_label=False, type="filepath", buttons=["fullscreen"],
                                     elem_classes=["picture"])
            with gr.Column(min_width=200):
                gr.Markdown("**Progress GIF** (every epoch's grid)")
                self.gif = gr.Image(show_label=False, type="filepath", buttons=["fullscreen"], elem_classes=["picture"])
        self.alarms = gr.Markdown()
        with gr.Row():
            self.rewind_with = gr.Dropdown([], label="Continue from the last healthy epoch with", visible=False,
                                           scale=2, min_width=220)
            self.rewind_btn = gr.Button("Rewind", visible=False, variant="secondary", scale=2, min_width=220)
        self.downloads = gr.File(label="Downloads", file_count="multiple", interactive=False, elem_classes=["downloads"])

    @property
    def outputs(self) -> list:
        return [self.status, self.losses, self.probs, self.grid, self.gif, self.alarms, self.downloads,
                self.diversity, self.fid, self.rewind_with, self.rewind_btn]


def view(s: api.RunSnapshot, caller: api.Caller) -> tuple:
    """A snapshot -> the panel's values, in Panel.outputs order."""
    losses = _frame(s.steps, (("loss_d", "D loss"), ("loss_g", "G loss")))
    probs = _frame(s.steps, (("d_real", "D(x)"), ("d_fake", "D(G(z))")))
    div = _frame(s.steps, (("batch_diversity", "training batch"),))
    per_epoch = _frame(s.epochs, (("diversity_ratio", "fixed noise (epoch end)"),
                                  ("fresh_diversity_ratio", "fresh noise (epoch end)")))
    parts = [d for d in (div, per_epoch) if d is not None]
    curve = api.fid_curve(caller, s.name) if s.status.fid is not None else None
    fid = common.png(curve, "fid.png") if curve is not None else None
    files = [common.handout(p) for p, _ in s.files]
    return (words.status_line(s.name, s.status), losses, probs, common.handout(s.grid), common.handout(s.gif),
            f"{words.phase(s.phase)}\n\n{words.alarms(s)}",
            gr.update(value=files or None, label=words.downloads(s)), pd.concat(parts) if parts else None,
            gr.update(value=fid, visible=fid is not None), *rewind_updates(s))


def rewind_updates(s: api.RunSnapshot | None) -> tuple:
    """The rewind choice and button: shown while an alarm is active and a healthier epoch is kept,
    the monitor's first remedy preselected."""
    offer = s.rewind if s is not None else None
    if offer is None:
        return gr.update(visible=False), gr.update(visible=False)
    options = [w for w, _ in offer.options]
    return (gr.update(choices=options, value=options[0], visible=True),
            gr.update(value=words.rewind_label(offer, options[0]), visible=True))


EMPTY = ("No runs yet: choose data and press Start.",) + (None,) * 8 + (gr.update(visible=False),) * 2


_streams: dict[str, int] = {}  # browser session -> the newest stream into its panel
_lock = threading.Lock()


def claim(request: gr.Request | None) -> Callable[[], bool]:
    """Make this event the session's one stream into the panel: the stream before it ends at its
    next poll. Returns superseded(), true once a newer stream has claimed the panel."""
    session = getattr(request, "session_hash", None) or "-"
    with _lock:
        mine = _streams[session] = _streams.get(session, 0) + 1
    return lambda: _streams.get(session) != mine


def stream(caller: api.Caller, run: str | None, superseded: Callable[[], bool] | None = None):
    """(snapshot, panel values) of the caller's run (the newest when none is named) until it ends,
    or until a newer stream claims the panel."""
    for s in api.follow(caller, run or None, should_stop=superseded):
        yield s, view(s, caller)
