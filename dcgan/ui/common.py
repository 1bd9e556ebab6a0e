"""What the page and the public API share: who is asking, files in and out, one-line errors.

- `caller(request)`: the use cases' Caller. On a person's own machine (public mode off) the app
  serves its one user, who may name server paths; in public mode every visitor is a stranger.
- Files in: Gradio hands uploads over as paths in its upload folder (page) or FileData records
  (API); both become `api.Upload`s, the file's own name kept for messages.
- Files out: every picture the app returns is written here first, atomically and under a unique
  name, and handed to Gradio as a path (Gradio then copies it into its cache by its atomic path
  route), so no visitor ever reads a half-written file. Old files are swept after an hour.
- `user_errors` (the HTTP API): the use cases' UserError becomes one gr.Error line, settings named
  by their parameter names; anything else is a bug, logged with its traceback and named in one line.
- `page_event` (the page): a refusal is one warning toast, settings named by their form labels, and
  every output stays as it was (gr.skip), never an error badge over a wiped picture.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path

import gradio as gr
from gradio.data_classes import FileData

from .. import api
from ..api import LOCAL, Caller, Upload, UserError, atomic_path, save_gif, save_png
from . import words

log = logging.getLogger("dcgan.ui")

MAX_UPLOAD_FILES = 20_000
MAX_UPLOAD_BYTES = 2 << 30
KEEP_FILES_S = 3600

_SCRATCH = Path(tempfile.mkdtemp(prefix="dcgan-studio-"))
_swept = [0.0]
_sweep_lock = threading.Lock()


def public_mode() -> bool:
    """A Space shared by strangers: SPACE_ID set (Hugging Face sets it) or DCGAN_PUBLIC=1."""
    return bool(os.environ.get("SPACE_ID")) or os.environ.get("DCGAN_PUBLIC", "") not in ("", "0")


KEY_CHARS = re.compile(r"^[A-Za-z0-9_-]{22,128}$")  # what new_key makes: >= 128 random bits, URL-safe


def new_key() -> str:
    """A visitor's key: 192 random bits, kept in the visitor's browser (gr.BrowserState) or script."""
    return secrets.token_urlsafe(24)


def caller(request: gr.Request | None = None, key: str | None = None) -> Caller:
    """Who is asking. Off public mode, the machine's own user (LOCAL). In public mode the signed-in
    Hugging Face user, else the holder of `key` (runs record only a hash of it), else a stranger
    who owns nothing."""
    if not public_mode():
        return LOCAL
    user = getattr(request, "username", None) if request is not None else None
    if user:
        return Caller(owner=f"hf:{user}", trusted=False)
    if key and KEY_CHARS.match(str(key)):
        return Caller(owner="key:" + hashlib.sha256(str(key).encode()).hexdigest()[:32], trusted=False)
    return Caller(owner="nobody:" + new_key(), trusted=False)


def run_names(request: gr.Request | None, key: str | None = None) -> list[str]:
    """The names a run picker offers this caller: its runs, then the shipped examples."""
    return [r.name for r in api.runs(caller(request, key))]


def refresh_runs(key, request: gr.Request):
    """A run picker's event: its choices as they are now (on page load and whenever it is opened)."""
    return gr.update(choices=run_names(request, key))


def signed_in(request: gr.Request | None) -> bool:
    return bool(getattr(request, "username", None)) if request is not None else False


def gpu(fn):
    """On a ZeroGPU Space, run `fn` with a GPU attached; elsewhere return it unchanged."""
    if os.environ.get("SPACES_ZERO_GPU"):
        import spaces

        return spaces.GPU(fn)
    return fn


def refusal(e: UserError, say=words.plain) -> str:
    """A use case's refusal as one line, its settings said by `say`."""
    return " ".join(e.worded(say).split())


def user_errors(fn):
    """The HTTP API's answers: a result, or a one-line message (see the module docstring)."""

    def translate(e: Exception):
        if isinstance(e, gr.Error):
            return e
        if isinstance(e, UserError):
            return gr.Error(refusal(e), print_exception=False)
        log.exception("bug in %s", fn.__name__)
        return gr.Error(f"internal error in {fn.__name__} ({type(e).__name__}: {str(e)[:200]}); "
                        "the server log has the details", print_exception=False)

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


class Refused(Exception):
    """A page's own refusal (a form left incomplete), said like a use case's: one warning."""


def _warn(e: Exception, labels: dict | None = None) -> None:
    say = (lambda name: labels.get(name) or words.label(name)) if labels else words.label
    text = refusal(e, say) if isinstance(e, UserError) else str(getattr(e, "message", e))
    gr.Warning(text)


def page_event(fn=None, *, labels: dict | None = None):
    """A page event: a refusal is one warning toast and every output stays as it was (gr.skip);
    a bug is one line too (its traceback in the server log), the outputs untouched. Settings in
    the message are said by the form's labels (words.label), or by `labels` where this event's
    widgets name a parameter otherwise ({"n": "N generated"})."""
    if fn is None:
        return functools.partial(page_event, labels=labels)

    def bug(e: Exception) -> None:
        log.exception("bug in %s", fn.__name__)
        gr.Warning(f"internal error in {fn.__name__} ({type(e).__name__}); the server log has the details")

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapped(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except (UserError, Refused, gr.Error) as e:
                _warn(e, labels)
                yield gr.skip()
            except Exception as e:  # noqa: BLE001 - see bug
                bug(e)
                yield gr.skip()

        return gen_wrapped

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (UserError, Refused, gr.Error) as e:
            _warn(e, labels)
        except Exception as e:  # noqa: BLE001 - see bug
            bug(e)
        return gr.skip()

    return wrapped


# ---------------------------------------------------------------- long work

def cancellable(call, progress, outputs: int, poll_s: float = 0.5):
    """Run `call(should_stop, on_step)` in a thread while this generator shows its newest WorkStep on
    `progress` and yields no-change updates for `outputs` outputs; use as `r = yield from ...`.
    When the generator is closed (the Cancel button, or the visitor leaving the page) the work is
    told to stop and ends at its next batch, so the server's CPU drops within seconds."""
    stop, latest, box = threading.Event(), [None], {}

    def work():
        try:
            box["value"] = call(stop.is_set, lambda step: latest.__setitem__(0, step))
        except BaseException as e:  # noqa: BLE001 - handed to the page's thread below
            box["error"] = e

    t = threading.Thread(target=work, daemon=True, name="dcgan-long-work")
    t.start()
    try:
        while t.is_alive():
            t.join(poll_s)
            if latest[0] is not None and progress is not None:
                progress(latest[0].fraction, desc=words.step(latest[0]))
            if t.is_alive():
                yield tuple(gr.skip() for _ in range(outputs)) if outputs > 1 else gr.skip()
    finally:
        if t.is_alive():
            stop.set()
    if "error" in box:
        raise box["error"]
    return box["value"]


# ---------------------------------------------------------------- files in

GENERATOR = api.GENERATORS[0]  # the default generator: the bundled faces ("demo" names it too)


def chosen_generator(generator: str | None, generator_file, hub_id: str | None):
    """The generator an endpoint was given: an upload wins, then a Hub id, then the named one
    (api.pick_generator checks them)."""
    return api.pick_generator(generator or GENERATOR, upload(generator_file), hub_id or None)


def upload(value) -> Upload | None:
    """One uploaded file (a page path, a FileData record or dict) -> Upload; None when absent."""
    if value in (None, "", [], {}):
        return None
    if isinstance(value, dict):
        path, name = value.get("path"), value.get("orig_name")
    elif isinstance(value, FileData):
        path, name = value.path, value.orig_name
    else:
        path, name = getattr(value, "name", value), None
    if not path:
        raise UserError("an uploaded file arrived without its path")
    p = Path(str(path))
    return Upload(p, name or p.name)  # Gradio keeps an upload's own name as the last part of its path


def uploads(values) -> list[Upload]:
    """Uploaded files within the caps -> Uploads."""
    if values in (None, "", []):
        return []
    items = [u for u in (upload(v) for v in (values if isinstance(values, (list, tuple)) else [values])) if u]
    if len(items) > MAX_UPLOAD_FILES:
        raise UserError(f"at most {MAX_UPLOAD_FILES} files per upload; zip them instead")
    total = sum(u.path.stat().st_size for u in items)
    if total > MAX_UPLOAD_BYTES:
        raise UserError(f"the uploads total {total / 2**30:.1f} GB; the limit is {MAX_UPLOAD_BYTES >> 30} GB")
    return items


# ---------------------------------------------------------------- files out

def _sweep() -> None:
    now = time.time()
    with _sweep_lock:
        if now - _swept[0] < 60:
            return
        _swept[0] = now
    for p in _SCRATCH.glob("*"):
        try:
            if now - p.stat().st_mtime > KEEP_FILES_S:
                p.unlink()
        except OSError:
            pass


def out_path(name: str) -> Path:
    """A fresh, unique path for a file the app hands out (`name` is what the visitor sees)."""
    _sweep()
    folder = _SCRATCH / uuid.uuid4().hex
    folder.mkdir()
    return folder / name


def png(img, name: str = "image.png") -> str:
    path = out_path(name)
    save_png(img, path)  # atomic: temp file + rename
    return str(path)


def gif(frames, name: str = "walk.gif", duration_ms: int = 80) -> str:
    path = out_path(name)
    save_gif(frames, path, duration_ms=duration_ms)
    return str(path)


def text_file(text: str, name: str) -> str:
    path = out_path(name)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return str(path)


_handed: dict = {}  # (path, mtime, size) -> the copy handed out


def handout(path) -> str | None:
    """A run's file as a copy in the scratch folder (made once per version of the file): a public app
    serves nothing from the runs folder by path, wherever that folder is (a Space's /data too)."""
    if path is None:
        return None
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return None
    key = (str(p), st.st_mtime_ns, st.st_size)
    with _sweep_lock:
        known = _handed.get(key)
    if known is not None and Path(known).exists():
        return known
    dest = out_path(p.name)
    with atomic_path(dest) as tmp:
        shutil.copyfile(p, tmp)
    with _sweep_lock:
        if len(_handed) > 256:
            _handed.clear()
        _handed[key] = str(dest)
    return str(dest)


def file_data(path) -> dict | None:
    """A path the app wrote -> the record the API returns (Gradio serves it; MCP shows images)."""
    if path is None:
        return None
    p = Path(path)
    return FileData(path=str(p), orig_name=p.name).model_dump()
