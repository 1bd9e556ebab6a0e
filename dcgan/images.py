"""The one place where tensors become pictures and pictures become tensors.

Model output lives in (-1, 1); everything a person sees is uint8. `to_uint8` is the only
float -> uint8 conversion in the project and always uses the fixed (-1, 1) range, never the
batch's min/max (which makes colours drift from epoch to epoch). Grids, PNGs and GIFs are built
here; atomic file writes come from `atomic_path`.
"""
from __future__ import annotations

import contextlib
import math
import os
import tempfile
from pathlib import Path

import torch
from PIL import Image


def to_uint8(x: torch.Tensor, value_range: tuple[float, float] = (-1.0, 1.0)) -> torch.Tensor:
    """(N, C, H, W) float in `value_range` -> uint8 (N, C, H, W), clamped, rounded."""
    lo, hi = value_range
    x = (x.detach().float() - lo) * (255.0 / (hi - lo))
    return x.round_().clamp_(0, 255).to(torch.uint8)


def to_float(x: torch.Tensor) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float32 in (-1, 1), the inverse of `to_uint8`."""
    return x.float().div_(127.5).sub_(1.0)


def grid(images: torch.Tensor, nrow: int | None = None, pad: int = 2, pad_value: int = 255) -> torch.Tensor:
    """uint8 (N, C, H, W) -> one uint8 (C, H', W') tile grid, `nrow` tiles per row."""
    if images.dtype != torch.uint8:
        raise TypeError("grid expects uint8 images; convert with to_uint8 first")
    n, c, h, w = images.shape
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / nrow)
    out = torch.full((c, rows * (h + pad) + pad, nrow * (w + pad) + pad), pad_value, dtype=torch.uint8)
    for i in range(n):
        r, q = divmod(i, nrow)
        y, x = pad + r * (h + pad), pad + q * (w + pad)
        out[:, y:y + h, x:x + w] = images[i]
    return out


def to_pil(image: torch.Tensor) -> Image.Image:
    """uint8 (C, H, W) with C in {1, 3} -> PIL image."""
    arr = image.cpu().numpy().transpose(1, 2, 0)
    return Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr)


def to_pils(images: torch.Tensor) -> list[Image.Image]:
    return [to_pil(im) for im in images]


def enlarge(img: Image.Image, k: int = 4) -> Image.Image:
    """k x nearest neighbour: a 64-px sample seen at a readable size with its real pixels."""
    return img.resize((img.width * k, img.height * k), resample=Image.NEAREST)


def grid_image(x: torch.Tensor, nrow: int | None = None) -> Image.Image:
    """Model output (N, C, H, W) in (-1, 1) -> a PIL grid. The usual path from G to a picture."""
    return to_pil(grid(to_uint8(x.cpu()), nrow))


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_MODE = _file_mode()  # mkstemp creates 0600; finished files get the usual umask-based mode


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temp path beside `path`; on success fsync and rename it over `path`.

    A crash or kill at any moment leaves either the old file or the new one, never half of one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def save_png(img: Image.Image, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        img.save(tmp, format="PNG")


def save_gif(frames: list[Image.Image], path: str | os.PathLike, duration_ms: int = 200, loop: int = 0) -> None:
    """Animated GIF of `frames` (all the same size). One shared adaptive palette per frame."""
    if not frames:
        raise ValueError("save_gif needs at least one frame")
    with atomic_path(path) as tmp:
        # fast-octree palettes: PIL's default median cut costs ~0.1 s per 400 px frame
        first, *rest = [f.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE) for f in frames]
        first.save(tmp, format="GIF", save_all=True, append_images=rest, duration=duration_ms,
                   loop=loop, optimize=False, disposal=1)
