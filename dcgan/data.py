"""Image sources -> decoded uint8 images: the one image-reading pipeline for training and for FID.

`open_source(spec)` says what a data spec names and lists it without decoding: a folder
(searched recursively), a .zip (members read in memory, never extracted, with caps on member
count, size and compression ratio), `faces` / `emoji` (the bundled atlases; `demo` = faces),
`celeba` (a local folder, else torchvision's download, else a Hub copy) or `hf:OWNER/NAME` (a Hub
image dataset, hubdata.py). decoding.py lists folders and turns a source's items into uint8 images
(`decode`, one recipe per image, unreadable files recorded in the source's report instead of
failing). `load(spec, size)` is training's entry: the whole set as one uint8
(N, C, S, S) tensor, cached on disk by fingerprint, size and channels so later runs decode nothing.
FID (metrics.py) reads the same sources through the same `decode`.

Not here: augmentation and flips (augment.py and `flip` below act on batches in train.py), batching.
"""
from __future__ import annotations

import hashlib
import json
import os
import zipfile
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Callable

import numpy as np
import torch
from PIL import Image

from .decoding import EXTENSIONS, DataReport, Source, decode, folder_source
from .errors import DataError

ASSETS = Path(__file__).resolve().parent / "assets"
BUNDLED = {"faces": "faces64", "emoji": "emoji64"}  # name -> atlas under assets/
ALIASES = {"demo": "faces"}
MAX_ZIP_MEMBERS = 50_000
MAX_ZIP_BYTES = 4 << 30  # total uncompressed bytes we are willing to read from one zip
MAX_ZIP_RATIO = 200  # uncompressed / compressed per member; real images are ~1-10
CACHE_VERSION = 2


# ---------------------------------------------------------------- sources

def bundled_name(src: str) -> str | None:
    """'faces', 'emoji' or an alias ('demo') -> the bundled set's name; None for anything else."""
    name = ALIASES.get(src, src)
    return name if name in BUNDLED else None


def bundled_images(name: str = "faces", max_images: int | None = None) -> np.ndarray:
    """A bundled set as uint8 (N, 64, 64, 3), cut from its atlas (row-major tiles); read-only."""
    tiles = _atlas_tiles(BUNDLED[bundled_name(name)])
    return tiles[:max_images] if max_images else tiles


@lru_cache(maxsize=2)
def _atlas_tiles(stem: str) -> np.ndarray:
    index = json.loads((ASSETS / f"{stem}.json").read_text())
    t, cols, n = index["tile"], index["cols"], index["count"]
    with Image.open(ASSETS / f"{stem}.png") as im:
        atlas = np.asarray(im.convert("RGB"))
    rows = -(-n // cols)
    tiles = atlas[:rows * t].reshape(rows, t, cols, t, 3).transpose(0, 2, 1, 3, 4).reshape(-1, t, t, 3)
    tiles = np.ascontiguousarray(tiles[:n])
    tiles.flags.writeable = False  # shared by every caller in this process
    return tiles


@lru_cache(maxsize=None)
def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _bundled_source(spec: str) -> Source:
    name = bundled_name(spec)
    tiles = bundled_images(name)
    report = DataReport(source=spec, fingerprint=_file_hash(ASSETS / f"{BUNDLED[name]}.png"))
    return Source(spec, "bundled", len(tiles), report,
                  lambda: ((f"{name}_{i:05d}", lambda t=t: t) for i, t in enumerate(tiles)))


def _unsafe_member(name: str) -> bool:
    p = PurePosixPath(name.replace("\\", "/"))
    return p.is_absolute() or ".." in p.parts or (len(name) > 1 and name[1] == ":")


def _zip_source(spec: str, path: Path) -> Source:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise DataError(f"{path.name} is not a readable zip file ({e})") from None
    infos = [i for i in zf.infolist() if not i.is_dir()]
    if len(infos) > MAX_ZIP_MEMBERS:
        raise DataError(f"{path.name} has {len(infos)} members; the limit is {MAX_ZIP_MEMBERS}. "
                        "Split it or pass a folder.")
    report = DataReport(source=f"zip {path.name}")
    h = hashlib.sha256()
    items, total = [], 0
    for info in infos:
        name = info.filename
        if PurePosixPath(name).suffix.lower() not in EXTENSIONS or "__MACOSX" in name:
            continue
        if _unsafe_member(name):
            report.skipped.append((name, "unsafe member path"))
            continue
        if info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1) and info.file_size > 1 << 20:
            report.skipped.append((name, "compression ratio too high (zip bomb?)"))
            continue
        total += info.file_size
        if total > MAX_ZIP_BYTES:
            raise DataError(f"{path.name} unpacks to more than {MAX_ZIP_BYTES >> 30} GB; "
                            "pass a folder or a smaller zip.")
        h.update(f"{name}\0{info.file_size}\0{info.CRC}\n".encode())
        # zipfile reads at most the declared size and checks the CRC, so a member cannot
        # inflate beyond what its header declared.
        items.append((name, lambda info=info: zf.read(info)))
    report.fingerprint = h.hexdigest()[:16]
    return Source(spec, "zip", len(items), report, lambda: iter(items))


def celeba_source(data_root: str | os.PathLike | None) -> Source:
    """CelebA's aligned faces: DATA_ROOT/celeba/img_align_celeba/ if there, else torchvision's
    download into DATA_ROOT, else the Hub copy (hubdata.CELEBA_REPO); one message if all fail."""
    from . import hubdata

    root = Path(data_root or "data")
    folder = root / "celeba" / "img_align_celeba"
    if folder.is_dir() and any(folder.iterdir()):
        return folder_source("celeba", folder, kind="celeba")
    try:
        from torchvision.datasets import CelebA

        CelebA(str(root), split="all", target_type=[], download=True)
        return folder_source("celeba", folder, kind="celeba")
    except Exception as e:  # noqa: BLE001 - network, Google Drive quota or checksum: try the Hub copy
        tv_error = type(e).__name__
    try:
        source = hubdata.source("celeba", hubdata.CELEBA_REPO)
        source.kind, source.report.source = "celeba", f"celeba (hf:{hubdata.CELEBA_REPO})"
        return source
    except DataError as e:
        hub_error = str(e)
    raise DataError(
        f"CelebA is not under {root}, torchvision could not download it ({tv_error}) and neither could "
        f"the Hub copy ({hub_error}). Download img_align_celeba.zip by hand, unzip it so that the images "
        f"are in {folder}/, and pass --data-root {root}; or `hf download {hubdata.CELEBA_REPO} "
        f"--repo-type dataset` where there is a network.")


def is_named_source(spec: str) -> bool:
    """A dataset named rather than a path: bundled, celeba or hf:OWNER/NAME."""
    return bool(bundled_name(spec)) or spec == "celeba" or spec.startswith("hf:")


def open_source(spec: str, data_root: str | None = None) -> Source:
    """What `spec` names, listed: the one place the kinds of data source are told apart."""
    spec = str(spec)
    if bundled_name(spec):
        return _bundled_source(spec)
    if spec == "celeba":
        return celeba_source(data_root)
    if spec.startswith("hf:"):
        from . import hubdata

        return hubdata.source(spec)
    p = Path(spec).expanduser()
    if p.is_dir():
        source = folder_source(spec, p)
    elif p.is_file() and zipfile.is_zipfile(p):
        source = _zip_source(spec, p)
    elif p.is_file():
        raise DataError(f"{spec[:200]} is a file but not a zip; pass a folder of images, a .zip, 'faces', 'emoji', "
                        "'celeba' or hf:OWNER/NAME")
    else:
        raise DataError(f"no such data source: {spec[:200]} (a folder, a .zip, 'faces', 'emoji', 'celeba' or "
                        "hf:OWNER/NAME)")
    if source.count == 0:
        why = f"; {source.report.summary()}" if source.report.skipped else f" ({', '.join(sorted(EXTENSIONS))})"
        raise DataError(f"{spec} holds no usable images{why}")
    return source


# ---------------------------------------------------------------- training's entry

def cache_dir() -> Path:
    return Path(os.environ.get("DCGAN_CACHE_DIR", Path.home() / ".cache" / "dcgan-studio"))


def load(src: str, image_size: int = 64, *, data_root: str | None = None, max_images: int | None = None,
         channels: int = 3, use_cache: bool = True, progress: Callable[[int, int], None] | None = None
         ) -> tuple[torch.Tensor, DataReport]:
    """Decode `src` once into uint8 (N, C, S, S); reuse the cache on later calls."""
    source = open_source(src, data_root)
    report = source.report
    key = f"{report.fingerprint}-{image_size}-c{channels}-{max_images or 'all'}-v{CACHE_VERSION}"
    npy, meta = cache_dir() / "data" / f"{key}.npy", cache_dir() / "data" / f"{key}.json"
    cacheable = use_cache and source.kind != "bundled"  # an atlas cut is faster than any cache
    if cacheable and npy.exists() and meta.exists():
        saved = json.loads(meta.read_text())
        report.n_images, report.lossy = saved["n_images"], saved["lossy"]
        report.skipped = [tuple(x) for x in saved["skipped"]]
        arr = np.load(npy, allow_pickle=False, mmap_mode=None)
    else:
        n = min(source.count, max_images or source.count)
        arr = np.empty((n, image_size, image_size, channels), dtype=np.uint8)
        i = 0
        for chunk in decode(source, image_size, channels, max_images, progress):
            for _, a in chunk:
                arr[i] = a
                i += 1
        arr = arr[:i]
        if cacheable and len(arr):
            _write_cache(npy, meta, arr, report)
    if len(arr) == 0:
        raise DataError(f"none of the {len(report.skipped)} image files in {src} could be read: "
                        + report.summary())
    return torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 3, 1, 2).contiguous(), report


def _write_cache(npy: Path, meta: Path, arr: np.ndarray, report: DataReport) -> None:
    from .images import atomic_path

    try:
        with atomic_path(npy) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, arr, allow_pickle=False)
        with atomic_path(meta) as tmp:
            tmp.write_text(json.dumps({"n_images": report.n_images, "lossy": report.lossy,
                                       "skipped": report.skipped}))
    except OSError:
        pass  # a read-only or full cache dir only costs a re-decode next time


def flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flip of each image in a batch, drawn from `generator`."""
    mask = torch.rand(x.shape[0], generator=generator, device=generator.device) < 0.5
    return torch.where(mask[:, None, None, None], x.flip(-1), x)
