"""What one side of a comparison is (FID, statistics, the copy check): the one place it is decided.

A side is named in the caller's words, or handed over as uploads. In this order:
    uploads                 one .npz: statistics; else images (one zip, or image files)
    NAME.npz                statistics (a path: the machine's own user only)
    run:NAME                that run's training images
    faces, emoji, celeba,   a data source's images
    hf:OWNER/NAME
    demo, faces-generator,  a generator, sampled n times (image i from seed + i)
    emoji-generator, a run's name, a Hub id, a checkpoint
    a folder or a .zip      images (the local user), unless the folder is a run or a saved generator
`resolve_side` returns a `Side` saying which, with the generator loaded when it is one; nothing is
decoded or featurised here. `prepared_size` decides the size real images are read at.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence

from .. import data as datamod
from ..errors import ConfigError, DataError
from ..fid import load_stats
from ..runs import RunDir
from . import checks
from .access import bundled_generator, data_spec, generator_spec, receive, server_path, uploads_named
from .caller import Caller, Upload
from .sampling import model

ImageSize = int | Literal["auto", "native"] | None


@dataclass
class Side:
    """One side, resolved from the caller's words."""

    kind: str  # images | npz | generator
    spec: str  # what the library reads (a data spec, an .npz path, a generator spec)
    words: str  # how the report names it (the caller's own words, never a server path)
    cache: bool = False  # whether its statistics may be cached (not for uploads)
    generator: object = None  # the loaded generator, when kind is generator


def resolve_side(caller: Caller, spec: str | None, uploads: Sequence[Upload], tmp: Path, label: str,
                 generated: bool) -> Side:
    """The side `label` ("real", "generated", "source") from `spec` or `uploads` (see the module
    docstring); uploads are received into `tmp`. Errors name the side."""
    if len(uploads) == 1 and uploads[0].name.lower().endswith(".npz"):
        load_stats(uploads[0].path)
        return Side("npz", str(uploads[0].path), uploads[0].name)
    if uploads:
        return Side("images", receive(uploads, tmp / label, tmp / f"{label}.zip", f"the {label} side"),
                    uploads_named(uploads))
    text = str(spec or "").strip() or ("faces-generator" if generated else "faces")
    try:
        return _named(caller, text, generated)
    except ConfigError as e:
        if caller.trusted or text.endswith(".npz"):
            raise
        raise ConfigError(f"the {label} side must be a data set (faces, emoji, celeba, hf:OWNER/NAME, run:NAME), "
                          f"a generator (faces-generator, emoji-generator, one of your runs, a Hub id USER/NAME) or "
                          f"uploaded files (got {text[:80]!r})") from e


def _named(caller: Caller, text: str, generated: bool) -> Side:
    if text.endswith(".npz"):
        path = server_path(caller, text, "npz")
        load_stats(path)  # cheap: refuses a bad file before anything is loaded
        return Side("npz", path, Path(text).name)
    if text.startswith("run:") or (datamod.is_named_source(text) and text != "demo"):
        return Side("images", data_spec(caller, text), text, cache=True)
    if caller.trusted and not bundled_generator(text):
        path = Path(text).expanduser()
        is_generator_folder = (path / "model.safetensors").exists() or RunDir(path).is_run()
        if (path.is_dir() and not is_generator_folder) or (path.is_file() and path.suffix.lower() == ".zip"):
            return Side("images", data_spec(caller, text), text, cache=True)
    return Side("generator", generator_spec(caller, text), text, generator=model(caller, text))


def prepared_size(image_size: ImageSize, *sides: Side) -> tuple[int | None, int]:
    """(size real images are prepared at, channels): "auto" = the generator's size when a side is
    a generator, else native (None); "native" = as pytorch-fid reads them; or 32/64/128."""
    g = next((s.generator for s in sides if s.generator is not None), None)
    if image_size in (None, "", "auto"):
        return (g.image_size, g.nc) if g is not None else (None, 3)
    if image_size == "native":
        return None, 3
    size = int(checks.one_of(checks.whole(image_size, "image_size", 1, 4096), "image_size", (32, 64, 128)))
    return size, g.nc if g is not None else 3


def check_images(side: Side, data_root: str | None) -> None:
    """An image side listed (never decoded): a missing or empty source ends here, named as the caller named it."""
    if side.kind == "images":
        try:
            datamod.open_source(side.spec, data_root)
        except DataError as e:
            raise DataError(str(e).replace(side.spec, side.words)) from None
