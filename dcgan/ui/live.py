"""The live view of one run on the page: the use cases' RunSnapshot as plots, pictures and text.

`panel()` builds the components; `follow(run)` (a private page event) streams the caller's run
through api.follow until it ends, which is how a reload re-attaches to a running training.
Nothing here trains, writes a run or decides what a run says: api.training does.
"""
from __future__ import annotations

import io

import gradio as gr
import pandas as pd

from .. import api
from .. import compare
from ..api.results import RunSnapshot
from . import common

_fid_images: dict = {}  # (run path, epochs with FID) -> rendered FID panel


def _frame(records: list[dict], pairs) -> pd.DataFrame | None:
    """Long format for gr.LinePlot, typed even when empty (an untyped first frame makes the plot's
    axes categorical for good)."""
    rows = [(r["step"], float(r[k]), name) for r in records for k, name in pairs if r.get(k) is not None]
    if not rows:
        return None
    df = pd.DataFrame(rows, columns=["step", "value", "series"])
    return df.astype({"step": "int64", "value": "float64", "series": "str"})


def _fid_panel(s: RunSnapshot):
    """FID per epoch with the epoch kept as best.pt starred (the compare figure's own panel), as a PNG."""
    n = sum(1 for e in s.epochs if e.get("fid") is not None)
    if not n:
        return None
    key = (str(s.path), n)
    if key not in _fid_images:
        fig = compare.figure(compare.load([s.path]), panels=("fid",), grids=False, width=6.0)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
        from PIL import Image

        _fid_images.clear()
        _fid_images[key] = common.png(Image.open(io.BytesIO(buf.getvalue())), "fid.png")
    return _fid_images[key]


def view(s: RunSnapshot) -> tuple:
    """A snapshot -> the panel's values, in panel() order."""
    losses = _frame(s.steps, (("loss_d", "D loss"), ("loss_g", "G loss")))
    probs = _frame(s.steps, (("d_real", "D(x)"), ("d_fake", "D(G(z))")))
    div = _frame(s.steps, (("batch_diversity", "training batch"),))
    per_epoch = _frame(s.epochs, (("diversity_ratio", "fixed noise (epoch end)"),
                                  ("fresh_diversity_ratio", "fresh noise (epoch end)")))
    parts = [d for d in (div, per_epoch) if d is not None]
    fid = _fid_panel(s)
    return (s.text, losses, probs, common.handout(s.grid), common.handout(s.gif), f"{s.story}\n\n{s.alarms}",
            [common.handout(p) for p in s.files] or None, pd.concat(parts) if parts else None,
            gr.update(value=fid, visible=fid is not None), *rewind_updates(s))


def rewind_updates(s: RunSnapshot | None) -> tuple:
    """The rewind choice and button: shown while an alarm is active and a healthy epoch is kept,
    the monitor's first remedy preselected."""
    offer = s.rewind if s is not None else None
    if offer is None:
        return gr.update(visible=False), gr.update(visible=False)
    words = [w for w, _ in offer.options]
    return (gr.update(choices=words, value=words[0], visible=True),
            gr.update(value=offer.label(words[0]), visible=True))


EMPTY = ("No runs yet: choose data and press Start.",) + (None,) * 8 + (gr.update(visible=False),) * 2


@common.user_errors
def follow(run: str | None = None, key: str | None = None, request: gr.Request = None):
    """Stream the caller's run (the newest when none is picked) until it ends."""
    caller = common.caller(request, key)
    first = api.snapshot(caller, run or None)
    if first is None:
        yield EMPTY
        return
    for s in api.follow(caller, first.name):
        yield view(s)


def panel() -> list:
    """The live panel's components, in the order view() fills them."""
    status = gr.Markdown("No run yet.")
    with gr.Row():
        loss_plot = gr.LinePlot(x="step", y="value", color="series", title="Losses", height=240)
        prob_plot = gr.LinePlot(x="step", y="value", color="series", title="Discriminator outputs",
                                y_lim=[0, 1], height=240)
    with gr.Row():
        div_plot = gr.LinePlot(x="step", y="value", color="series", height=240,
                               title="Sample diversity / real images' (near 0: collapsed)")
        fid_img = gr.Image(label="FID per epoch (★ = best.pt)", type="filepath", height=240, visible=False)
    with gr.Row():
        grid = gr.Image(label="Newest fixed-noise grid", type="filepath")
        gif = gr.Image(label="Progress GIF", type="filepath")
    alarms = gr.Markdown()
    with gr.Row():
        rewind_with = gr.Dropdown([], label="Continue from the last healthy epoch with", visible=False, scale=2,
                                  min_width=220)
        rewind_btn = gr.Button("Rewind", visible=False, variant="secondary", scale=2, min_width=220)
    downloads = gr.File(label="Downloads: checkpoint, generator (safetensors), GIF", file_count="multiple")
    return [status, loss_plot, prob_plot, grid, gif, alarms, downloads, div_plot, fid_img, rewind_with, rewind_btn]
