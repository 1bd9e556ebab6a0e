"""The public HTTP API and MCP tools: the use cases exposed with `gr.api`, one function each.

Every parameter has a short value in the product's vocabulary (`generator="faces-generator"`, `data="faces"`,
a run's name), a type hint (`Literal` choices become enums) and a default, and the docstring
describes it; files come in as uploads (Gradio's FileData, `handle_file` in a script) and go out
as files (pictures as PNG, which MCP clients receive as image content, with a short text). The
page's own events are private and call the same use cases (the tab modules). `/train` takes every
TrainConfig field by name (train_endpoint.py). The endpoints live by family: endpoints_sampling.py,
endpoints_runs.py, endpoints_scoring.py; this module names and registers them.
"""
import gradio as gr

from . import train_endpoint
from .endpoints_runs import compare, follow, push, resume, rewind, runs, slot, stop, summary
from .endpoints_sampling import arithmetic, directions, generate, interpolate, project, scrub
from .endpoints_scoring import fid, nearest

PUBLIC = {"generate": generate, "interpolate": interpolate, "scrub": scrub, "directions": directions,
          "arithmetic": arithmetic, "summary": summary, "stop": stop, "resume": resume, "rewind": rewind, "runs": runs,
          "slot": slot, "follow": follow, "compare": compare, "fid": fid, "nearest": nearest, "project": project,
          "push": push}
# Answered outside the queue: these take a second or less (a 256-tile grid, a 240-frame walk: a few),
# and Gradio 6.31's MCP server turns the several outputs of a queued call into one text (it wraps the
# client's tuple in a list), while a direct call's outputs each become content: PNGs as images.
# /train decodes its data in the request (seconds for the bundled sets); /follow streams; /fid is long.
QUEUED = {"follow", "fid"}


def register() -> None:
    """Inside a Blocks context: every public endpoint (and /train, train_endpoint.py)."""
    for name, fn in PUBLIC.items():
        gr.api(fn, api_name=name, queue=name in QUEUED,
               concurrency_limit=None if name == "follow" else "default")
    train_endpoint.register()
