"""The app's background machinery, as the page needs it: the one training slot's supervisor, the
work a serving process does at start-up, and the folder its runs live in.

`SUPERVISOR` starts and stops the training worker (worker.py) and keeps the public queue; every
use case that starts, stops or watches training asks it. `serve()` is what an app does once when
it starts: serve a queue left by a restart, and compute the bundled generators' principal
directions off the request path. No gradio here.
"""
from __future__ import annotations

from pathlib import Path

from ..runs import runs_root
from ..worker import Supervisor
from .caller import LOCAL

SUPERVISOR = Supervisor()


def serve() -> None:
    """Start-up work of a serving process (the app): a queue left on disk is served again, and the
    bundled generators' directions are warmed so the first slider drag is not the slow one."""
    from .sampling import warm_directions

    SUPERVISOR.resume_queue()
    for name in ("faces-generator", "emoji-generator"):
        warm_directions(LOCAL, name)


def runs_folder() -> Path:
    """Where runs live ($DCGAN_RUNS_DIR, else ./runs), made if missing."""
    root = runs_root()
    root.mkdir(parents=True, exist_ok=True)
    return root


def stop_training() -> str:
    """Stop whatever trains now (an app shutting down, a test's teardown); the final state."""
    return SUPERVISOR.stop()
