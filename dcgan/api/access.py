"""What a caller may name: runs it can see, data sources and generators in the product's words.

Every use case turns its caller's words into library specs here, so the rules are written once:
- a run is named by its name (looked up inside the runs folder, never outside it) and only if the
  caller sees it (`Caller.sees`); a trusted caller may also give a run directory's path. A run
  that does not exist and one that is someone else's get the same one line;
- data is `faces`, `emoji`, `celeba`, `hf:OWNER/NAME`, `run:NAME` (that run's training data) or
  uploads; a trusted caller may also name a folder or a .zip (`demo` is read as faces here: the
  demo dataset);
- a generator is `faces-generator`, `emoji-generator` (`demo`, `faces` and `emoji` are read as
  these where only a generator makes sense), a run's name, a Hub id `USER/NAME` or an upload; a
  trusted caller may also name a checkpoint file or folder.
Anything else is one `ConfigError` that says what is accepted. Uploads are received here
(`receive`), under the names their owner gave them, so messages speak of the owner's files.
"""
from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path
from typing import Sequence

from .. import data as datamod
from ..errors import ConfigError, DataError, UserError
from ..hub import ALIASES, BUNDLED, HUB_ID
from ..runs import RunDir, example_runs, find_run, list_runs, runs_root
from .caller import Caller, Upload

GENERATORS = ("faces-generator", "emoji-generator")  # the bundled generators' names
GENERATOR_WORDS = "faces-generator, emoji-generator, a run's name, a Hub id USER/NAME or an uploaded file"
LOCAL_GENERATOR_WORDS = ("faces-generator, emoji-generator, a run's name or directory, a .safetensors/.pt file, "
                         "a folder or a Hub id USER/NAME")
DATA_WORDS = "faces, emoji, celeba, hf:OWNER/NAME, run:NAME or uploaded images"
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".safetensors", ".ckpt")


def _missing_run(text: str) -> UserError:
    return UserError(f"no run named {text[:80]!r}" if text else "no run given: name one (see runs)")


def run_for(caller: Caller, name: str | None) -> RunDir:
    """The run called `name` that this caller may see; the same one line for a run that does not
    exist and one that is someone else's."""
    text = str(name or "").strip()
    if not text:
        raise _missing_run(text)
    example = next((r for r in example_runs() if r.name == text), None)
    if example is not None:
        return example  # shipped, read-only, everyone's
    try:
        run = find_run(text)
    except UserError:
        path = Path(text).expanduser()
        if not (caller.trusted and path.is_dir() and RunDir(path).is_run()):
            raise _missing_run(text) from None
        run = RunDir(path)
    if not caller.sees(run.owner()):
        raise _missing_run(text)
    return run


def newest_run(caller: Caller) -> RunDir | None:
    """The caller's newest run; None when it has none."""
    return next((r for r in list_runs() if caller.sees(r.owner())), None)


def writable(run: RunDir) -> RunDir:
    """A run the caller may change (stop, resume, push): not a shipped example."""
    if run.is_example:
        raise UserError(f"{run.name} is an example run (read-only): train a run of your own to change one")
    return run


def bundled_generator(text: str) -> str | None:
    """A bundled generator's name ('faces-generator', or an alias such as 'demo') -> the name
    hub.load_generator takes; None for anything else."""
    key = ALIASES.get(text, text)
    return text if key in BUNDLED else None


def _plain_name(text: str) -> bool:
    """A word with no path in it and no checkpoint suffix: what a run's name looks like."""
    return not re.search(r"[/\\]", text) and not text.lower().endswith(CHECKPOINT_SUFFIXES) and text not in (".", "..")


def generator_spec(caller: Caller, generator: str | Upload | None) -> str:
    """A generator in the caller's words -> a spec hub.load_generator accepts."""
    if isinstance(generator, Upload):
        return str(generator.path)
    text = str(generator or "").strip() or "faces-generator"
    if bundled_generator(text):
        return text
    words = LOCAL_GENERATOR_WORDS if caller.trusted else GENERATOR_WORDS
    path = Path(text).expanduser()
    if _plain_name(text) and (runs_root() / text).is_dir():
        return str(run_for(caller, text).path)
    if path.exists():
        if caller.trusted:
            return text
        raise ConfigError(f"the generator must be {words} (got {text[:80]!r})")
    if _plain_name(text):  # a name that is no run (or not the caller's): the words run_for uses
        raise _missing_run(text)
    if HUB_ID.match(text) and not path.suffix.lower() in CHECKPOINT_SUFFIXES:
        head = Path(text.split("/")[0]).expanduser()
        if caller.trusted and head.is_dir():  # runs/nope: a typo of a local path, not a Hub id
            raise ConfigError(f"no such generator: {text[:80]!r} (there is a folder {head.name}/ here, but not "
                              f"this in it); give {words}")
        return text
    raise ConfigError(f"no such generator (checkpoint): {text[:80]!r}; give {words}")


def pick_generator(generator: str | None = None, upload: Upload | None = None, hub_id: str | None = None):
    """The generator a form or a call names: an upload wins, then a Hub id (checked: USER/NAME),
    then `generator`. hub_id "" (an empty box where a Hub id was chosen) is refused."""
    if upload is not None:
        return upload
    if hub_id is not None:
        text = str(hub_id).strip()
        if text and not HUB_ID.match(text):
            raise ConfigError(f"{{hub_id}} must look like USER/NAME (got {text[:80]!r})", settings=("hub_id",))
        if text:
            return text
        if generator is None:
            raise ConfigError("{hub_id}: type the Hub id of a generator, USER/NAME", settings=("hub_id",))
    return generator or "faces-generator"


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
    raise ConfigError(f"{{data}} must be {DATA_WORDS} (got {text[:80]!r})", settings=("data",))


def server_path(caller: Caller, value: str | None, name: str) -> str | None:
    """A setting that names a server file or folder (data_root, fid_weights): the local user only."""
    if value in (None, "") or caller.trusted:
        return value or None
    raise ConfigError(f"{{{name}}} names a file on the server, which only the machine's own user may do",
                      settings=(name,))


def receive(uploads: Sequence[Upload], folder: Path, zip_path: Path, what: str) -> str:
    """Uploaded images (or one zip) copied to `folder` (or `zip_path`) under their owner's base
    names; the data spec to read them from. A .zip that is not a zip is refused as such."""
    if not uploads:
        raise ConfigError(f"upload some images (or one .zip) for {what} first")
    if len(uploads) == 1 and (uploads[0].name.lower().endswith(".zip") or zipfile.is_zipfile(uploads[0].path)):
        if not zipfile.is_zipfile(uploads[0].path):
            raise DataError(f"{uploads[0].name} is not a readable zip file (damaged, or not a zip at all)")
        zip_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(uploads[0].path, zip_path)
        return str(zip_path)
    folder.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    for u in uploads:
        shutil.copyfile(u.path, folder / _own_name(u.name, taken))  # basename only: no path from the client
    return str(folder)


def _own_name(name: str, taken: set[str]) -> str:
    """The upload's base name, made safe and unique among this upload ("a.png", "a (2).png")."""
    base = re.sub(r"[^\w.\- ()]+", "_", Path(str(name).replace("\\", "/")).name).lstrip(".") or "upload"
    stem, suffix = Path(base).stem, Path(base).suffix
    out, i = base, 1
    while out.lower() in taken:
        i += 1
        out = f"{stem} ({i}){suffix}"
    taken.add(out.lower())
    return out


def uploads_named(uploads: Sequence[Upload]) -> str:
    """How messages name a set of uploads: the file's own name, or how many there were."""
    return uploads[0].name if len(uploads) == 1 else f"the {len(uploads)} uploaded files"
