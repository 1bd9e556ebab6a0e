"""What the tabs share: choosing a generator safely, runs, uploads, a bounded scratch folder,
ZeroGPU, and turning the library's user errors into messages on the page.

User input never names a server path directly: a generator is a bundled name, a run's name
(looked up inside the runs folder by runs.find_run), an uploaded file (a path Gradio created), or a
Hub id (checked against USER/NAME). Uploads are capped and copied by base name only. Files the
app writes for download go to a fixed ring of names in one scratch folder, so a long-lived Space
does not fill its disk.
"""
from __future__ import annotations

import functools
import inspect
import itertools
import logging
import math
import os
import shutil
import tempfile
import threading
import zipfile
from collections import OrderedDict
from pathlib import Path

import gradio as gr

from ..errors import UserError
from ..hub import HUB_ID, load_generator, resolve_checkpoint
from ..latent import MAX_SEED
from ..runs import RunDir, find_run, list_runs

log = logging.getLogger("dcgan.ui")

# generator choices: what the dropdown shows -> what it means
DEMO = "Bundled demo generator"
EMOJI = "Bundled emoji generator"
UPLOAD = "Uploaded file"
HUB = "Hugging Face Hub id"
RUN_PREFIX = "Run: "
BUNDLED_CHOICES = {DEMO: "faces", EMOJI: "emoji"}

MAX_UPLOAD_FILES = 20_000
MAX_UPLOAD_BYTES = 2 << 30

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


def user_errors(fn):
    """Every answer is a result or a one-line message: the library's UserError becomes that message;
    anything else is a bug, logged with its traceback on the server and named in one line on the page
    (never Gradio's generic "the upstream app raised an exception")."""

    def translate(e: Exception):
        if isinstance(e, gr.Error):
            return e
        if isinstance(e, UserError):
            return gr.Error(str(e))
        log.exception("bug in %s", fn.__name__)
        return gr.Error(f"internal error in {fn.__name__} ({type(e).__name__}: {str(e)[:200]}); "
                        "the server log has the details")

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapped(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as e:  # noqa: BLE001 - see translate
                raise translate(e) from None

        return gen_wrapped

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - see translate
            raise translate(e) from None

    return wrapped


def number(value, name: str, lo: float, hi: float, integer: bool = False):
    """A form or API value -> a number within [lo, hi], or a one-line gr.Error naming the field."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise gr.Error(f"{name} must be a number, got {str(value)[:40]!r}") from None
    if not math.isfinite(x) or not lo <= x <= hi:
        raise gr.Error(f"{name} must lie between {lo:g} and {hi:g}, got {str(value)[:40]}")
    if integer:
        if not x.is_integer():
            raise gr.Error(f"{name} must be a whole number, got {str(value)[:40]}")
        return int(x) if abs(x) < 2 ** 53 else int(str(value).split(".")[0])
    return x


def seed(value, name: str = "seed") -> int:
    """A seed: a whole number in [0, MAX_SEED]; big ones arrive as text to keep every digit."""
    try:
        s = int(str(value).strip()) if isinstance(value, str) else None
    except ValueError:
        s = None
    if s is None:
        s = number(value, name, 0, MAX_SEED, integer=True)
    if not 0 <= s <= MAX_SEED:
        raise gr.Error(f"{name} must be a whole number from 0 to {MAX_SEED}, got {str(value)[:40]}")
    return s


def scratch(suffix: str) -> Path:
    """A path for a file the user will download; the ring reuses names, bounding disk use."""
    with _lock:
        i = next(_RING) % _RING_SIZE
    return _SCRATCH / f"out-{i:02d}{suffix}"


def scratch_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix, dir=_SCRATCH))


# ---------------------------------------------------------------- runs

def run_names() -> list[str]:
    return [r.name for r in list_runs()]


def run(name: str | None) -> RunDir:
    try:
        return find_run(name)
    except UserError as e:
        raise gr.Error(str(e)) from None


# ---------------------------------------------------------------- generators

def generator_choices() -> list[str]:
    return [DEMO, EMOJI] + [RUN_PREFIX + r.name for r in list_runs() if r.weights_file()] + [UPLOAD, HUB]


def resolve(choice: str, upload: str | None = None, hub_id: str | None = None) -> str:
    """The widget values -> a checkpoint spec for load_generator, or a gr.Error."""
    if not choice or choice in BUNDLED_CHOICES:
        return BUNDLED_CHOICES.get(choice, "faces")
    if choice.startswith(RUN_PREFIX):
        return str(run(choice[len(RUN_PREFIX):]).path)
    if choice == UPLOAD:
        if not upload:
            raise gr.Error("upload a .safetensors or .pt generator first")
        return str(upload if isinstance(upload, str) else upload.name)
    if choice == HUB:
        hub_id = (hub_id or "").strip()
        if not HUB_ID.match(hub_id):
            raise gr.Error("a Hub id looks like USER/NAME")
        return hub_id
    raise gr.Error(f"unknown generator choice {str(choice)[:80]!r}")


def generator(spec: str):
    """load_generator with a small cache keyed by spec and the weights' file time."""
    try:
        key = (spec, resolve_checkpoint(spec).stamp())
        with _lock:
            if key in _cache:
                _cache.move_to_end(key)
                return _cache[key]
        g = load_generator(spec)
    except UserError as e:
        raise gr.Error(str(e)) from None
    with _lock:
        _cache[key] = g
        while len(_cache) > 4:
            _cache.popitem(last=False)
    return g


# ---------------------------------------------------------------- uploads and parsing

def upload_paths(files) -> list[str]:
    """Gradio's upload values (paths or file objects) -> paths, within the caps."""
    paths = [f if isinstance(f, str) else f.name for f in files or []]
    if len(paths) > MAX_UPLOAD_FILES:
        raise gr.Error(f"at most {MAX_UPLOAD_FILES} files per upload; zip them instead")
    total = sum(Path(p).stat().st_size for p in paths)
    if total > MAX_UPLOAD_BYTES:
        raise gr.Error(f"uploads total {total / 2**30:.1f} GB; the limit is {MAX_UPLOAD_BYTES >> 30} GB")
    return paths


def stage_uploads(files, folder: Path, zip_path: Path, empty_message: str) -> str:
    """Copy uploaded images (or one zip) to `folder` (or `zip_path`), base names only; return the
    data source the library should read."""
    paths = upload_paths(files)
    if not paths:
        raise gr.Error(empty_message)
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    if len(paths) == 1 and zipfile.is_zipfile(paths[0]):
        shutil.copyfile(paths[0], zip_path)
        return str(zip_path)
    folder.mkdir(parents=True, exist_ok=True)
    for i, p in enumerate(paths):
        shutil.copyfile(p, folder / f"{i:06d}_{Path(p).name}")  # basename only: no path from the client
    return str(folder)


def seeds_from_text(text: str, at_least: int = 1) -> list[int]:
    parts = str(text if text is not None else "")[:4000].replace(",", " ").split()
    if len(parts) > 64:
        raise gr.Error("at most 64 seeds")
    try:
        seeds = [int(s) for s in parts]
    except ValueError:
        raise gr.Error(f"seeds must be whole numbers separated by spaces or commas, got {str(text)[:80]!r}") from None
    if len(seeds) < at_least:
        raise gr.Error(f"give at least {at_least} seed(s)")
    if any(not 0 <= s <= MAX_SEED for s in seeds):
        raise gr.Error(f"seeds must lie between 0 and {MAX_SEED}")
    return seeds
