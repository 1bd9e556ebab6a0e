"""The live view of one run: what its directory says, as the Train tab's plots, pictures and text.

`snapshot(run)` reads metrics.jsonl, config.json and status.json into the panel's values;
`follow(run_name)` streams snapshots until the run ends (the page calls it on load, which is how a
reload or a restarted app re-attaches to a running training). Nothing here trains or writes.
"""
from __future__ import annotations

import time

import gradio as gr
import pandas as pd

from .. import compare
from ..runs import ENDED, RunDir
from . import common

_fid_images: dict = {}  # (run path, epochs with FID) -> rendered FID panel


def _frame(steps: list[dict], pairs) -> pd.DataFrame | None:
    """Long format for gr.LinePlot, typed even when empty (an untyped first frame makes the plot's
    axes categorical for good)."""
    rows = [(r["step"], float(r[k]), name) for r in steps for k, name in pairs if r.get(k) is not None]
    if not rows:
        return None
    df = pd.DataFrame(rows, columns=["step", "value", "series"])
    return df.astype({"step": "int64", "value": "float64", "series": "str"})


def _fid_panel(run: RunDir, epochs: list[dict]):
    """FID per epoch with the epoch kept as best.pt starred (the compare figure's own panel)."""
    n = sum(1 for e in epochs if e.get("fid") is not None)
    if not n:
        return None
    key = (str(run.path), n)
    if key not in _fid_images:
        fig = compare.figure(compare.load([run.path]), panels=("fid",), grids=False, width=6.0)
        import io

        from PIL import Image

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
        _fid_images.clear()
        _fid_images[key] = Image.open(io.BytesIO(buf.getvalue()))
    return _fid_images[key]


def _spans(epochs: list[int]) -> str:
    """[3, 4, 5, 9] -> '3–5, 9'."""
    out, start = [], None
    for i, e in enumerate(epochs):
        start = e if start is None else start
        if i + 1 == len(epochs) or epochs[i + 1] != e + 1:
            out.append(f"{start}–{e}" if e != start else f"{e}")
            start = None
    return ", ".join(out)


def alarm_markdown(epochs: list[dict]) -> str:
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


def snapshot(run: RunDir) -> tuple:
    """(status markdown, loss frame, D-output frame, newest grid, GIF, alarms markdown, downloads,
    diversity frame, FID panel)."""
    recs = run.read_metrics()
    steps = [r for r in recs if r.get("kind") == "step"]
    epochs = [r for r in recs if r.get("kind") == "epoch"]
    cfg = run.read_config() if run.config.exists() else {}
    st = run.state()
    losses = _frame(steps, (("loss_d", "D loss"), ("loss_g", "G loss")))
    probs = _frame(steps, (("d_real", "D(x)"), ("d_fake", "D(G(z))")))
    div = _frame(steps, (("batch_diversity", "training batch"),))
    per_epoch = _frame(epochs, (("diversity_ratio", "fixed noise (epoch end)"),
                                ("fresh_diversity_ratio", "fresh noise (epoch end)")))
    diversity = pd.concat([d for d in (div, per_epoch) if d is not None]) if div is not None or per_epoch is not None else None
    text = f"**{run.name}** — {st}"
    if steps:
        last = steps[-1]
        total = cfg.get("steps_per_epoch", 0) * cfg.get("epochs", 0)
        left = max(total - last["step"], 0) * cfg.get("batch_size", 1) / max(last["images_per_s"], 1e-9)
        eta = f", ETA {time.strftime('%H:%M:%S', time.gmtime(left))}" if st == "running" and total else ""
        text += (f" · epoch {last['epoch']}/{cfg.get('epochs', '?')} · step {last['step']}"
                 f" · {last['images_per_s']:.0f} images/s{eta}")
    fids = [(e["fid"], e["epoch"]) for e in epochs if e.get("fid") is not None]
    if fids:
        best, at = min(fids)
        text += f" · FID {fids[-1][0]:.2f} (best {best:.2f} at epoch {at}, kept as best.pt)"
    if st == "failed":
        text += f" · {run.status().get('reason', '')}"
    samples = run.sample_paths()
    files = [str(p) for p in (run.last, run.generator / "model.safetensors", run.gif) if p.exists()]
    fid = _fid_panel(run, epochs)
    return (text, losses, probs, str(samples[-1]) if samples else None, str(run.gif) if run.gif.exists() else None,
            alarm_markdown(epochs), files, diversity, gr.update(value=fid, visible=fid is not None))


EMPTY = ("No runs yet: choose data and press Start.",) + (None,) * 8


@common.user_errors
def follow(run_name: str | None = None):
    """Follow a training run live: its status, curves, newest grid, GIF and alarms, until it ends.

    Args:
        run_name: the run's name (as /train returns it); empty follows the newest run.

    Returns:
        A stream of updates: status text, loss curves, discriminator outputs, newest grid, progress
        GIF, alarms, downloadable files, diversity curves and the FID panel.
    """
    if not run_name:
        names = common.run_names()
        if not names:
            yield EMPTY
            return
        run_name = names[0]
    run = common.run(run_name)
    seen = None
    while True:
        key = (run.metrics.stat().st_mtime_ns if run.metrics.exists() else 0, run.status_file.stat().st_mtime_ns
               if run.status_file.exists() else 0)
        if key != seen:
            seen = key
            yield snapshot(run)
        st = run.state()
        if st in ENDED or (st == "new" and time.time() - run.path.stat().st_mtime > 120):
            yield snapshot(run)
            return
        time.sleep(1.0)


def panel():
    """The live panel's components, in the order snapshot() fills them."""
    status = gr.Markdown("No run yet.")
    with gr.Row():
        loss_plot = gr.LinePlot(x="step", y="value", color="series", title="Losses", height=240)
        prob_plot = gr.LinePlot(x="step", y="value", color="series", title="Discriminator outputs",
                                y_lim=[0, 1], height=240)
    with gr.Row():
        div_plot = gr.LinePlot(x="step", y="value", color="series", height=240,
                               title="Sample diversity / real images' (near 0: collapsed)")
        fid_img = gr.Image(label="FID per epoch (★ = best.pt)", type="pil", height=240, format="png", visible=False)
    with gr.Row():
        grid = gr.Image(label="Newest fixed-noise grid", type="filepath")
        gif = gr.Image(label="Progress GIF", type="filepath")
    alarms = gr.Markdown()
    downloads = gr.File(label="Downloads: checkpoint, generator (safetensors), GIF", file_count="multiple")
    return [status, loss_plot, prob_plot, grid, gif, alarms, downloads, div_plot, fid_img]
