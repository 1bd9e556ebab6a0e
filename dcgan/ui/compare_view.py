"""Compare runs: two or more runs' curves overlaid, their grids and GIFs side by side, the settings
that differ and where each run's alarms fired. A thin adapter over compare.py (which also draws
the CLI's `compare` picture), shown as a sub-tab of Train.
"""
from __future__ import annotations

import gradio as gr
import pandas as pd

from .. import compare as cmp
from . import common

MAX_RUNS = 8


@common.user_errors
def compare(runs: list[str] | None = None, replay_alarms: bool = False):
    """Put training runs side by side: losses, D(x) and D(G(z)), sample diversity and FID overlaid
    on one step axis, each run's newest grid and progress GIF, the settings that differ, and the
    epoch where each run's first alarm fired.

    Args:
        runs: names of two or more runs (as /runs lists them); empty compares the two newest runs.
        replay_alarms: show what today's monitor says about the runs instead of the alarms recorded
            while they trained (for runs trained before the monitor was recalibrated).

    Returns:
        The comparison picture, a gallery of grids and GIFs, a table of differing settings, and a
        Markdown summary of the alarms.
    """
    names = [str(r) for r in (runs or []) if str(r).strip()]
    if not names:
        names = common.run_names()[:2]
    if len(names) < 2:
        raise gr.Error("pick two or more runs to compare (train another run first)")
    if len(names) > MAX_RUNS:
        raise gr.Error(f"compare at most {MAX_RUNS} runs at a time")
    views = cmp.load([common.run(n).path for n in names], replay=bool(replay_alarms))
    out = common.scratch(".png")
    cmp.save(views, out)
    gallery = []
    for v in views:
        if v.grid:
            gallery.append((str(v.grid), f"{v.name}: newest grid"))
        if v.gif:
            gallery.append((str(v.gif), f"{v.name}: progress GIF"))
    diff = cmp.differing(views)
    table = pd.DataFrame([[k, *map(str, vals)] for k, vals in diff], columns=["setting", *[v.name for v in views]])
    lines = []
    for v in views:
        a = v.first_alarm
        lines.append(f"- **{v.name}** ({v.state}): " + (f"first alarm at epoch {a['epoch']} (step {a['step']}): "
                                                         f"{a['message']}" if a else "no alarm"))
    return str(out), gallery, table, "\n".join(lines)


def build() -> None:
    gr.Markdown("Pick two or more runs: the blog's experiment is the paper's widths without flips "
                "against half the channels with flips.")
    with gr.Row():
        picked = gr.Dropdown(common.run_names(), multiselect=True, label="Runs", scale=4, allow_custom_value=True)
        refresh = gr.Button("↻ runs", scale=0, min_width=80)
        replay = gr.Checkbox(False, label="Ask today's monitor", scale=1,
                             info="re-judge older runs with the current alarm rules")
        go = gr.Button("Compare", variant="primary", scale=1)
    picture = gr.Image(label="Curves overlaid (dotted lines: alarms)", type="filepath", format="png")
    alarms = gr.Markdown()
    with gr.Row():
        gallery = gr.Gallery(label="Newest grids and progress GIFs", columns=4, height=420)
        settings = gr.Dataframe(label="Settings that differ", interactive=False)
    refresh.click(lambda: gr.update(choices=common.run_names()), None, picked, api_visibility="private")
    go.click(compare, [picked, replay], [picture, gallery, settings, alarms], api_name="compare")
