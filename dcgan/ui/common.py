"""What the tabs share: choosing a generator safely, a bounded scratch folder, ZeroGPU, errors.

User input never names a server path directly: a generator is 'demo', a run's name (looked up
inside the runs folder), an uploaded file (a path Gradio created), or a Hub id (checked against
USER/NAME). Files the app writes for download go to a fixed ring of names in one scratch folder,
so a long-lived Space does not fill its disk.
"""
from __future__ import annotations

import itertools
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

import gradio as gr

from ..hub import HUB_ID, CheckpointError, load_generator
from ..worker import list_runs, runs_dir

DEMO = "Bundled demo generator"
UPLOAD = "Uploaded file"
HUB = "Hugging Face Hub id"
RUN_PREFIX = "Run: "

_SCRATCH = Path(tempfile.mkdtemp(prefix="dcgan-studio-"))
_RING = itertools.count()
_RING_SIZE = 64
_lock = threading.Lock()
_cache: OrderedDict = OrderedDict()


def gpu(fn):
    """On a ZeroGPU Space, run `fn` with a GPU attached; elsewhere return it unchanged."""
    if os.environ.get("SPACES_ZERO_GPU"):
        import spaces

        return spaces.GPU(fn)
    return fn


def scratch(suffix: str) -> Path:
    """A path for a file the user will download; the ring reuses names, bounding disk use."""
    with _lock:
        i = next(_RING) % _RING_SIZE
    return _SCRATCH / f"out-{i:02d}{suffix}"


def generator_choices() -> list[str]:
    return [DEMO] + [RUN_PREFIX + r.path.name for r in list_runs() if (r.generator / "model.safetensors").exists()
                     or r.last.exists()] + [UPLOAD, HUB]


def resolve(choice: str, upload: str | None = None, hub_id: str | None = None) -> str:
    """The widget values -> a checkpoint spec for load_generator, or a gr.Error."""
    if choice == DEMO or not choice:
        return "demo"
    if choice.startswith(RUN_PREFIX):
        name = choice[len(RUN_PREFIX):]
        root = runs_dir().resolve()
        path = (root / name).resolve()
        if path.parent != root or not path.is_dir():
            raise gr.Error(f"no run named {name!r}")
        return str(path)
    if choice == UPLOAD:
        if not upload:
            raise gr.Error("upload a .safetensors or .pt generator first")
        return str(upload)
    if choice == HUB:
        hub_id = (hub_id or "").strip()
        if not HUB_ID.match(hub_id):
            raise gr.Error("a Hub id looks like USER/NAME")
        return hub_id
    raise gr.Error(f"unknown generator choice {choice!r}")


def _weights_mtime(spec: str) -> int:
    """Modification time of the weights a spec points at (0 for the demo or a Hub id): a few
    stats, cheap enough for every slider move."""
    p = Path(spec)
    if p.is_file():
        return p.stat().st_mtime_ns
    candidates = (p / "model.safetensors", p / "generator" / "model.safetensors", p / "checkpoints" / "last.pt")
    return max((c.stat().st_mtime_ns for c in candidates if c.exists()), default=0) if p.is_dir() else 0


def generator(spec: str):
    """load_generator with a small cache keyed by spec and file time; errors become gr.Error."""
    key = (spec, _weights_mtime(spec))
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    try:
        g = load_generator(spec)
    except CheckpointError as e:
        raise gr.Error(str(e)) from None
    with _lock:
        _cache[key] = g
        while len(_cache) > 4:
            _cache.popitem(last=False)
    return g


def seeds_from_text(text: str, at_least: int = 1) -> list[int]:
    try:
        seeds = [int(s) for s in str(text).replace(",", " ").split()]
    except ValueError:
        raise gr.Error(f"seeds must be whole numbers separated by spaces or commas, got {text!r}") from None
    if len(seeds) < at_least:
        raise gr.Error(f"give at least {at_least} seed(s)")
    if len(seeds) > 64:
        raise gr.Error("at most 64 seeds")
    return seeds
