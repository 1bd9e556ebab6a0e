"""Compare runs (a sub-tab of Train, page only): two or more of the caller's runs with their curves
overlaid and newest grids side by side (one picture, each grid titled with its run's full name),
the settings that differ (a Markdown table, which wraps on a phone) and where each run's first alarm
fired. One private event over api.compare_runs; the run picker is refreshed on page load and
whenever it is opened.
"""
from __future__ import annotations

import gradio as gr

from .. import api
from . import common, words


def on_load(key, request: gr.Request):
    """The caller's runs to pick from; preselected, its two newest, else the shipped pair of the
    blog's experiment (300 faces collapsing without augmentation, and the same run with it)."""
    runs = api.runs(common.caller(request, key))
    own = [r.name for r in runs if r.state != "example"]
    return gr.update(choices=[r.name for r in runs], value=own[:2] if len(own) >= 2 else list(api.EXAMPLE_PAIR))


def settings_table(c: api.Comparison) -> str:
    """The settings that differ as a Markdown table (it wraps on a phone, where a grid of cells
    would cut its last columns); empty when none differ."""
    if not c.differing:
        return ""
    cell = lambda v: words.cell(v).replace(",", ", ").replace("|", "/")  # noqa: E731 - commas may wrap
    rows = [f"| {words.label(k)} | " + " | ".join(cell(v) for v in vals) + " |" for k, vals in c.differing]
    return "\n".join(["**Settings that differ**", "", "| setting | " + " | ".join(c.runs) + " |",
                      "|---" * (len(c.runs) + 1) + "|", *rows])


@common.page_event
def compare(runs, replay, key, request: gr.Request):
    c = api.compare_runs(common.caller(request, key), runs, out=common.out_path("compare.png"), replay=replay)
    return str(c.picture), settings_table(c), "\n".join(f"- {line}" for line in words.compared(c))


def build(demo: gr.Blocks, key: gr.BrowserState) -> None:
    gr.Markdown("Pick two or more runs. Preselected until you have two of your own: the blog's experiment on "
                "300 faces, which collapses without augmentation (left) and keeps its variety with it (right).")
    with gr.Row():
        picked = gr.Dropdown([], multiselect=True, label="Runs", scale=4, allow_custom_value=True, min_width=260)
        go = gr.Button("Compare", variant="primary", scale=1, min_width=140)
    replay = gr.Checkbox(False, label="Ask today's monitor", info="re-judge older runs with the current alarm rules")
    alarms = gr.Markdown()
    picture = gr.Image(label="Curves overlaid (dotted lines: alarms) and each run's newest grid", type="filepath",
                       format="png", elem_classes=["picture"])
    settings = gr.Markdown()
    picked.focus(common.refresh_runs, key, picked, api_visibility="private")
    demo.load(on_load, key, picked, api_visibility="private")
    go.click(compare, [picked, replay, key], [picture, settings, alarms], api_visibility="private")
