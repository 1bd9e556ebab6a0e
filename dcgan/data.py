"""Image sources -> one cached uint8 tensor (N, 3, S, S), plus a report of what was skipped.

Sources: a folder (searched recursively), a .zip (members read in memory, never extracted, with
caps on member count and total size), `celeba` (torchvision's CelebA files under a data root) and
`demo` (the bundled emoji atlas). Every image gets the same recipe: convert to RGB (alpha is
composited on white; palette, 16-bit and CMYK are converted), resize the shorter side to S,
centre-crop S x S. Unreadable files are skipped and listed, never fatal. The decoded tensor is
cached on disk keyed by the source's fingerprint and S, so later epochs and runs decode nothing.

Not here: augmentation (flips happen on the tensor in train.py) and batching.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import torch
from PIL import Image, ImageOps

EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
ASSETS = Path(__file__).resolve().parent / "assets"
MAX_ZIP_MEMBERS = 50_000
MAX_ZIP_BYTES = 4 << 30  # total uncompressed bytes we are willing to read from one zip
MAX_ZIP_RATIO = 200  # uncompressed / compressed per member; real images are ~1-10
CACHE_VERSION = 1


class DataError(ValueError):
    """A source that cannot be used at all (missing, empty, hostile). The message is for users."""


@dataclass
class DataReport:
    source: str
    n_images: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    lossy: int = 0  # JPEG/WebP inputs, which FID reports should mention
    fingerprint: str = ""

    def summary(self, first: int = 5) -> str:
        s = f"{self.n_images} images from {self.source}"
        if self.skipped:
            names = ", ".join(f"{n} ({r})" for n, r in self.skipped[:first])
            more = f" and {len(self.skipped) - first} more" if len(self.skipped) > first else ""
            s += f"; skipped {len(self.skipped)}: {names}{more}"
        return s

    def to_dict(self) -> dict:
        return {"source": self.source, "n_images": self.n_images, "n_skipped": len(self.skipped),
                "skipped": [list(x) for x in self.skipped[:100]], "lossy": self.lossy,
                "fingerprint": self.fingerprint}


# ---------------------------------------------------------------- decoding one image

def to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL image -> RGB: alpha composited on white, 16-bit scaled, palette/CMYK/gray converted."""
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        hi = 65535.0 if arr.max() > 255 else 255.0
        img = Image.fromarray((arr / hi * 255.0).round().clip(0, 255).astype(np.uint8))
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA"):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, rgba)
    return img.convert("RGB")


def prepare(img: Image.Image, size: int) -> np.ndarray:
    """Any PIL image -> uint8 (size, size, 3): RGB on white, shorter side to size, centre crop."""
    img = to_rgb(img)
    w, h = img.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    img = img.resize((nw, nh), Image.BICUBIC, reducing_gap=None)
    left, top = (nw - size) // 2, (nh - size) // 2
    return np.asarray(img.crop((left, top, left + size, top + size)), dtype=np.uint8)


def decode(data: bytes | str | os.PathLike, size: int | None) -> np.ndarray:
    """Bytes or a path -> uint8 (size, size, 3), or (H, W, 3) at native size when size is None.

    Raises on anything unreadable."""
    with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as img:
        img.load()
        return prepare(img, size) if size else np.asarray(to_rgb(img), dtype=np.uint8)


def _decode_all(items: list[tuple[str, object]], size: int, report: DataReport) -> np.ndarray:
    """items: (name, loader) where loader() returns bytes or a path."""

    def one(item):
        name, load = item
        try:
            return decode(load(), size), name
        except Exception as e:  # noqa: BLE001 - any unreadable file is skipped and reported
            return None, f"{type(e).__name__}: {str(e)[:80]}"

    out = np.empty((len(items), size, size, 3), dtype=np.uint8)
    n = 0
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for (name, _), (arr, info) in zip(items, pool.map(one, items)):
            if arr is None:
                report.skipped.append((name, info))
            else:
                out[n] = arr
                n += 1
                report.lossy += Path(name).suffix.lower() in (".jpg", ".jpeg", ".webp")
    report.n_images = n
    return out[:n]


# ---------------------------------------------------------------- sources

def _folder_items(root: Path, max_images: int | None) -> tuple[list, str]:
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    h = hashlib.sha256()
    items = []
    for p in files:
        rel = p.relative_to(root).as_posix()
        if p.suffix.lower() not in EXTENSIONS:
            continue
        st = p.stat()
        h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        items.append((rel, lambda p=p: p))
    return _cap(items, max_images), h.hexdigest()[:16]


def _unsafe_member(name: str) -> bool:
    p = PurePosixPath(name.replace("\\", "/"))
    return p.is_absolute() or ".." in p.parts or (len(name) > 1 and name[1] == ":")


def _zip_items(path: Path, max_images: int | None, report: DataReport) -> tuple[list, str]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise DataError(f"{path.name} is not a readable zip file ({e})") from None
    infos = [i for i in zf.infolist() if not i.is_dir()]
    if len(infos) > MAX_ZIP_MEMBERS:
        raise DataError(f"{path.name} has {len(infos)} members; the limit is {MAX_ZIP_MEMBERS}. "
                        "Split it or pass a folder.")
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
    return _cap(items, max_images), h.hexdigest()[:16]


def _cap(items: list, max_images: int | None) -> list:
    return items[:max_images] if max_images else items


BUNDLED = {"faces": "faces64", "emoji": "emoji64"}  # name -> atlas under assets/
ALIASES = {"demo": "faces"}


def bundled_name(src: str) -> str | None:
    """'faces', 'emoji' or an alias ('demo') -> the bundled set's name; None for anything else."""
    name = ALIASES.get(src, src)
    return name if name in BUNDLED else None


def bundled_images(name: str = "faces", max_images: int | None = None) -> np.ndarray:
    """A bundled set as uint8 (N, 64, 64, 3), cut from its atlas (row-major tiles)."""
    stem = BUNDLED[bundled_name(name)]
    index = json.loads((ASSETS / f"{stem}.json").read_text())
    t, cols, n = index["tile"], index["cols"], index["count"]
    n = min(n, max_images) if max_images else n
    with Image.open(ASSETS / f"{stem}.png") as im:
        atlas = np.asarray(im.convert("RGB"))
    rows = -(-n // cols)
    tiles = atlas[:rows * t].reshape(rows, t, cols, t, 3).transpose(0, 2, 1, 3, 4).reshape(-1, t, t, 3)
    return np.ascontiguousarray(tiles[:n])


def demo_images(max_images: int | None = None) -> np.ndarray:
    """The default bundled set (faces)."""
    return bundled_images("demo", max_images)


def _bundled(name: str, size: int, max_images: int | None, report: DataReport) -> np.ndarray:
    tiles = bundled_images(name, max_images)
    stem = BUNDLED[bundled_name(name)]
    report.fingerprint = hashlib.sha256((ASSETS / f"{stem}.png").read_bytes()).hexdigest()[:16]
    if size != tiles.shape[1]:
        tiles = np.stack([prepare(Image.fromarray(t), size) for t in tiles])
    report.n_images = len(tiles)
    return tiles


def celeba_folder(data_root: str | os.PathLike) -> Path:
    """Locate (or download through torchvision) CelebA's aligned images under `data_root`."""
    root = Path(data_root)
    folder = root / "celeba" / "img_align_celeba"
    if folder.is_dir() and any(folder.iterdir()):
        return folder
    try:
        from torchvision.datasets import CelebA

        CelebA(str(root), split="all", target_type=[], download=True)
    except Exception as e:  # noqa: BLE001 - network, quota or checksum: one message for all
        raise DataError(
            f"CelebA is not under {root} and could not be downloaded ({type(e).__name__}). "
            f"Download img_align_celeba.zip by hand, unzip it so that the images are in "
            f"{folder}/, and pass --data-root {root}.") from None
    return folder


def resolve(src: str, data_root: str | None = None) -> tuple[str, Path | None]:
    """Classify a source string -> (kind, path)."""
    if bundled_name(src):
        return "bundled", None
    if src == "celeba":
        return "celeba", celeba_folder(data_root or "data")
    p = Path(src).expanduser()
    if p.is_dir():
        return "folder", p
    if p.is_file() and zipfile.is_zipfile(p):
        return "zip", p
    if p.is_file():
        raise DataError(f"{src} is a file but not a zip; pass a folder of images, a .zip, 'demo' or 'celeba'")
    raise DataError(f"no such data source: {src} (a folder, a .zip, 'demo' or 'celeba')")


# ---------------------------------------------------------------- the public entries

def native_items(src: str, max_images: int | None = None, data_root: str | None = None
                 ) -> tuple[list[tuple[str, object]], DataReport]:
    """The files of `src` as (name, loader) pairs for `decode(loader(), None)`, undecoded.

    For readers that want images at their native size (FID); the demo's loaders return arrays.
    """
    kind, path = resolve(src, data_root)
    report = DataReport(source=src if kind in ("bundled", "celeba") else f"{kind} {path.name}")
    if kind == "bundled":
        tiles = _bundled(src, 64, max_images, report)
        return [(f"{bundled_name(src)}_{i:05d}", lambda t=t: t) for i, t in enumerate(tiles)], report
    if kind == "zip":
        items, report.fingerprint = _zip_items(path, max_images, report)
    else:
        items, report.fingerprint = _folder_items(path, max_images)
    if not items:
        why = f"; {report.summary()}" if report.skipped else f" ({', '.join(sorted(EXTENSIONS))})"
        raise DataError(f"{src} holds no usable images{why}")
    return items, report


def cache_dir() -> Path:
    return Path(os.environ.get("DCGAN_CACHE_DIR", Path.home() / ".cache" / "dcgan-studio"))


def load(src: str, image_size: int = 64, *, data_root: str | None = None, max_images: int | None = None,
         use_cache: bool = True) -> tuple[torch.Tensor, DataReport]:
    """Decode `src` once into uint8 (N, 3, S, S); reuse the cache on later calls."""
    if bundled_name(src):
        report = DataReport(source=src)
        arr = _bundled(src, image_size, max_images, report)
        return torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous(), report
    items, report = native_items(src, max_images, data_root)
    key = f"{report.fingerprint}-{image_size}-{max_images or 'all'}-v{CACHE_VERSION}"
    npy, meta = cache_dir() / "data" / f"{key}.npy", cache_dir() / "data" / f"{key}.json"
    if use_cache and npy.exists() and meta.exists():
        saved = json.loads(meta.read_text())
        report.n_images, report.lossy = saved["n_images"], saved["lossy"]
        report.skipped = [tuple(x) for x in saved["skipped"]]
        arr = np.load(npy, allow_pickle=False)
    else:
        arr = _decode_all(items, image_size, report)
        if use_cache and len(arr):
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
