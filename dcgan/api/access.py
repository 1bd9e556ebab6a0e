"""What a caller may name: runs it can see, data sources and generators in the product's words.

Every use case turns its caller's words into library specs here, so the rules are written once:
- a run is named by its name (looked up inside the runs folder, never outside it) and only if the
  caller sees it (`Caller.sees`); a trusted caller may also give a run directory's path;
- data is `faces`, `emoji` (or `demo`), `celeba`, `hf:OWNER/NAME`, `run:NAME` (that run's
  training data) or uploads; a trusted caller may also name a folder or a .zip;
- a generator is `demo`/`faces`/`emoji`, a run's name, a Hub id `USER/NAME` or an upload; a
  trusted caller may also name a checkpoint file or folder.
Anything else is one `ConfigError` that says what is accepted.
"""
from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Sequence

from .. import data as datamod
from ..errors import ConfigError, UserError
from ..hub import ALIASES, BUNDLED, HUB_ID
from ..runs import RunDir, example_runs, find_run, list_runs, runs_root
from .caller import Caller, Upload

GENERATOR_WORDS = "demo, faces, emoji, a run's name, a Hub id USER/NAME or an uploaded file"
LOCAL_GENERATOR_WORDS = "demo, faces, emoji, a run's name or directory, a .safetensors/.pt file, a folder or a Hub id USER/NAME"
DATA_WORDS = "faces, emoji, celeba, hf:OWNER/NAME, run:NAME or uploaded images"


def run_for(caller: Caller, name: str | None) -> RunDir:
    """The run called `name` that this caller may see; the same one line for a run that does not
    exist and one that is someone else's."""
    text = str(name or "").strip()
    missing = UserError(f"no run named {text[:80]!r}" if text else "no run given: name one (see runs)")
    if not text:
        raise missing
    example = next((r for r in example_runs() if r.name == text), None)
    if example is not None:
        return example  # shipped, read-only, everyone's
    try:
        run = find_run(text)
    except UserError:
        path = Path(text).expanduser()
        if not (caller.trusted and path.is_dir() and RunDir(path).is_run()):
            raise missing from None
        run = RunDir(path)
    if not caller.sees(run.owner()):
        raise missing
    return run


def newest_run(caller: Caller) -> RunDir | None:
    """The caller's newest run; None when it has none."""
    return next((r for r in list_runs() if caller.sees(r.owner())), None)


def writable(run: RunDir) -> RunDir:
    """A run the caller may change (stop, resume, push): not a shipped example."""
    if run.is_example:
        raise UserError(f"{run.name} is an example run (read-only): train your own with Start or `dcgan train`")
    return run


def _is_run_name(text: str) -> bool:
    return "/" not in text and "\\" not in text and (runs_root() / text).is_dir()


def generator_spec(caller: Caller, generator: str | Upload | None) -> str:
    """A generator in the caller's words -> a spec hub.load_generator accepts."""
    if isinstance(generator, Upload):
        return str(generator.path)
    text = str(generator or "").strip() or "demo"
    if text in BUNDLED or text in ALIASES:
        return text
    if _is_run_name(text):
        return str(run_for(caller, text).path)
    words = LOCAL_GENERATOR_WORDS if caller.trusted else GENERATOR_WORDS
    if Path(text).expanduser().exists():
        if caller.trusted:
            return text
        raise ConfigError(f"the generator (checkpoint) must be {words} (got {text[:80]!r})")
    if HUB_ID.match(text) and not Path(text).suffix in (".pt", ".pth", ".safetensors", ".ckpt"):
        return text
    raise ConfigError(f"no such generator (checkpoint): {text[:80]!r}; give {words}")


def data_spec(caller: Caller, data: str | None) -> str:
    """A data source in the caller's words (no uploads) -> a spec data.open_source accepts."""
    text = str(data or "").strip() or "faces"
    if text.startswith("run:"):
        return run_for(caller, text[4:]).read_config()["data"]
    if datamod.is_named_source(text):
        if text.startswith("hf:") and not HUB_ID.match(text[3:]):
            raise ConfigError(f"a Hub dataset looks like hf:OWNER/NAME (got {text[:80]!r})")
        return text
    if caller.trusted:
        return text
    raise ConfigError(f"data must be {DATA_WORDS} (got {text[:80]!r})")


def server_path(caller: Caller, value: str | None, name: str) -> str | None:
    """A setting that names a server file or folder (data_root, fid_weights): the local user only."""
    if value in (None, "") or caller.trusted:
        return value or None
    raise ConfigError(f"{name} names a file on the server, which only the machine's own user may do")


def stage(uploads: Sequence[Upload], folder: Path, zip_path: Path, what: str) -> str:
    """Copy uploaded images (or one zip) to `folder` (or `zip_path`), by base name only; the data
    spec to read them from. Messages name the files as the caller knows them."""
    if not uploads:
        raise ConfigError(f"upload some images (or one .zip) for {what} first")
    if len(uploads) == 1 and zipfile.is_zipfile(uploads[0].path):
        zip_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(uploads[0].path, zip_path)
        return str(zip_path)
    folder.mkdir(parents=True, exist_ok=True)
    for i, u in enumerate(uploads):
        shutil.copyfile(u.path, folder / f"{i:06d}_{Path(u.name).name}")  # basename only: no path from the client
    return str(folder)


def uploads_named(uploads: Sequence[Upload]) -> str:
    """How messages name a set of uploads: the file's own name, or how many there were."""
    return uploads[0].name if len(uploads) == 1 else f"the {len(uploads)} uploaded files"
