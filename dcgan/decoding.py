"""Listed images -> decoded uint8 arrays: one recipe per image, one streaming pipeline for a source.

A `Source` (made by data.open_source; `folder_source` here lists a folder) holds (name, loader) items
without decoding them. `decode`
streams them in chunks, in this thread or a thread pool (whichever a timing of the first few images
says is faster: small images decode faster than a thread hand-off costs), each through
`decode_one` / `prepare` (RGB with alpha on white, or luminance; shorter side to the size, centre
crop; or native size), and records unreadable ones in the source's `DataReport` instead of failing.
`prefetch` runs any such stream ahead of its consumer in a background thread. Training (data.load)
and FID (metrics.py) read images only through here.
"""
from __future__ import annotations

import io
import itertools
import os
import queue
import re
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
import hashlib
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator

import numpy as np
from PIL import Image, ImageOps

LOSSY = {".jpg", ".jpeg", ".webp"}  # formats whose artefacts FID reports should mention
CHUNK = 256  # images decoded per thread-pool round: bounds memory for sources of any size
PROBE = 16  # images timed in one thread before choosing between one thread and a pool
SERIAL_BELOW_S = 0.0005  # below this per image, one thread is faster than a pool
SLICE = 8  # images per pool task


EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}  # what a folder or zip is searched for


def is_lossy(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in LOSSY


@dataclass
class DataReport:
    source: str
    n_images: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    lossy: int = 0  # JPEG/WebP inputs
    fingerprint: str = ""
    sizes: set = field(default_factory=set)  # native (H, W) seen, when decoding at native size
    modes: dict = field(default_factory=dict)  # PIL mode -> count (RGBA, I;16, ... matter to FID)

    def summary(self, first: int = 5) -> str:
        s = f"{self.n_images} image{'s' if self.n_images != 1 else ''} from {self.source}"
        if self.skipped:
            names = ", ".join(f"{n} ({r})" for n, r in self.skipped[:first])
            more = f" and {len(self.skipped) - first} more" if len(self.skipped) > first else ""
            s += f"; skipped {len(self.skipped)}: {names}{more}"
        return s

    def to_dict(self) -> dict:
        return {"source": self.source, "n_images": self.n_images, "n_skipped": len(self.skipped),
                "skipped": [list(x) for x in self.skipped[:100]], "lossy": self.lossy,
                "fingerprint": self.fingerprint}


Item = tuple[str, Callable[[], object]]  # (name, loader): loader() -> bytes, a path or a uint8 array


@dataclass
class Source:
    """A data spec, listed but not decoded: `count` items from `items()`, and the report to fill."""

    spec: str
    kind: str  # bundled | folder | zip | celeba | hf
    count: int
    report: DataReport
    items: Callable[[], Iterable[Item]]


def folder_source(spec: str, root: Path, kind: str = "folder") -> Source:
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
    report = DataReport(source=spec if kind != "folder" else f"folder {root.name}", fingerprint=h.hexdigest()[:16])
    return Source(spec, kind, len(items), report, lambda: iter(items))



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


def prepare(img: Image.Image, size: int | None, channels: int = 3) -> np.ndarray:
    """Any PIL image -> uint8 (size, size, C): RGB on white (or its luminance when C = 1), shorter
    side to size, centre crop; at native size when size is None."""
    img = to_rgb(img)
    if channels == 1:
        img = img.convert("L")
    if size:
        w, h = img.size
        scale = size / min(w, h)
        nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
        if (nw, nh) != (w, h):
            img = img.resize((nw, nh), Image.BICUBIC, reducing_gap=None)
        left, top = (nw - size) // 2, (nh - size) // 2
        img = img.crop((left, top, left + size, top + size))
    arr = np.asarray(img, dtype=np.uint8)
    return arr[:, :, None] if arr.ndim == 2 else arr


def decode_one(obj, size: int | None, channels: int = 3, plain: bool = False) -> tuple[np.ndarray, str]:
    """Bytes, a path or a uint8 (H, W, 3) array -> (uint8 (S, S, C), the file's PIL mode).

    plain=True reads as pytorch-fid and clean-fid do, with PIL's convert("RGB") alone (alpha dropped,
    16-bit values clipped, EXIF orientation ignored), at native size. Raises on anything unreadable."""
    if isinstance(obj, np.ndarray):
        if (size is None or obj.shape[0] == obj.shape[1] == size) and channels == 3:
            return obj, "RGB"
        return prepare(Image.fromarray(obj), size, channels), "RGB"
    with Image.open(io.BytesIO(obj) if isinstance(obj, (bytes, bytearray)) else obj) as img:
        img.load()
        if plain:
            return np.asarray(img.convert("RGB"), dtype=np.uint8), img.mode
        return prepare(img, size, channels), img.mode


def decode(source: Source, size: int | None, channels: int = 3, max_images: int | None = None,
           progress: Callable[[int, int], None] | None = None, plain: bool = False
           ) -> Iterator[list[tuple[str, np.ndarray]]]:
    """Stream `source`'s images as chunks of (name, uint8 (S, S, C)), in one thread or a thread
    pool, whichever a timing of the first few says is faster for these images.

    Unreadable items are skipped and recorded in source.report (skipped, lossy, sizes, modes,
    n_images); at most CHUNK encoded images are held at a time. plain: see decode_one."""
    report, total = source.report, min(source.count, max_images or source.count)

    def one(item):
        name, load = item
        try:
            return (name, *decode_one(load(), size, channels, plain), None)
        except Exception as e:  # noqa: BLE001 - any unreadable file is skipped and reported
            return name, None, None, why(e, name)

    def serially(items):
        return [one(x) for x in items]

    workers = min(8, os.cpu_count() or 1)
    serial = workers == 1
    done, probed = 0, False
    items = iter(_take(source.items(), total))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while chunk := list(itertools.islice(items, CHUNK)):
            head: list = []
            if not probed:
                # time a few in this thread: small images decode faster here than a thread hand-off
                # costs (measured on 2 cores: 64x64 PNGs 9,000/s in one thread, 4,800/s in eight)
                probed, times = True, []
                for x in chunk[:PROBE]:
                    t = time.perf_counter()
                    head.append(one(x))
                    times.append(time.perf_counter() - t)
                serial = serial or statistics.median(times) < SERIAL_BELOW_S
                chunk = chunk[PROBE:]
            if serial:
                results = head + serially(chunk)
            else:  # a few images per task, so the hand-off is paid per slice, not per image
                slices = [chunk[i:i + SLICE] for i in range(0, len(chunk), SLICE)]
                results = head + list(itertools.chain.from_iterable(pool.map(serially, slices)))
            yield _collect(results, report)
            done += len(results)
            if progress:
                progress(done, total)


def prefetch(items: Iterable, depth: int = 2) -> Iterator:
    """Iterate `items` in a background thread, `depth` ahead, so decoding overlaps whatever the
    consumer does with each item (a GPU's forward pass). Errors surface in the consumer; leaving the
    loop early stops the producer."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def produce():
        try:
            for x in items:
                while not stop.is_set():
                    try:
                        q.put((x, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((end, None))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, raised there
            q.put((end, e))

    t = threading.Thread(target=produce, daemon=True, name="prefetch")
    t.start()
    try:
        while True:
            x, err = q.get()
            if x is end:
                if err is not None:
                    raise err
                return
            yield x
    finally:
        stop.set()
        while t.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                t.join(timeout=0.1)


_INNARDS = re.compile(r"<_io\.\w+ object at 0x[0-9a-fA-F]+>|'(?:/|[A-Za-z]:[\\/])[^']*'|\"(?:/|[A-Za-z]:[\\/])[^\"]*\"")


def why(e: Exception, name: str) -> str:
    """Why an image could not be read, in one short phrase that names the file by its own name:
    never a server path or a Python object (PIL quotes the file it was given, or its BytesIO)."""
    text = " ".join(_INNARDS.sub(repr(PurePosixPath(name.replace("\\", "/")).name), str(e)).split())
    text = text if len(text) <= 120 else text[:117] + "..."
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _take(items: Iterable[Item], n: int) -> Iterator[Item]:
    for i, item in enumerate(items):
        if i >= n:
            return
        yield item


def _collect(results, report: DataReport) -> list[tuple[str, np.ndarray]]:
    out = []
    for name, arr, mode, why in results:
        if arr is None:
            report.skipped.append((name, why))
            continue
        out.append((name, arr))
        report.n_images += 1
        report.lossy += is_lossy(name)
        report.sizes.add(arr.shape[:2])
        report.modes[mode] = report.modes.get(mode, 0) + 1
    return out
