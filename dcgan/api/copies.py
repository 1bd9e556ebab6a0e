"""Use case: did a generator copy its training images? (`nearest`)

The generated side is a generator (sampled n times, image i from seed + i) or images (a folder,
zip or uploads); the real side is a data source or uploads, both in the caller's words as for FID
(sides.resolve_side). Both are prepared as training prepares them, at the generator's size (64
for two image sides); the math is dcgan/nearest.py. The picture puts the most suspicious samples
first: each beside its nearest real images, likely copies framed in red.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw

from .. import data as datamod
from .. import nearest as nn
from ..decoding import decode
from ..errors import DataError
from ..images import to_uint8
from ..latent import sample, z_from_seeds
from . import checks
from .caller import Caller, Upload
from .results import NearestResult, NearestSample
from .sides import check_images, resolve_side

MAX_N = 1024  # generated images per check
MAX_REAL = 50_000  # real images compared against
SHOWN = 24  # rows in the picture
TILE = 64


def _images(spec: str, size: int, limit: int, data_root: str | None) -> tuple[torch.Tensor, list[str]]:
    source = datamod.open_source(spec, data_root)
    names, arrays = [], []
    for chunk in decode(source, size, 3, max_images=limit):
        for name, a in chunk:
            names.append(Path(name).name if source.kind in ("folder", "zip") else name)
            arrays.append(a)
    if not arrays:
        raise DataError(f"none of the {source.count} files could be read as an image")
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2), names


def nearest(caller: Caller, generated: str | None = "faces-generator", real: str | None = "faces", *,
            generated_uploads: Sequence[Upload] = (), real_uploads: Sequence[Upload] = (), n: int = 64, k: int = 3,
            seed: int = 0, data_root: str | None = None) -> NearestResult:
    """Each generated image's k nearest real images (mirror- and re-encoding-aware), and which are
    likely copies: closer to a real image than 99% of the real images are to their own nearest
    neighbour (see dcgan/nearest.py)."""
    n = checks.whole(n, "n", 1, MAX_N)
    k = checks.whole(k, "k", 1, 8)
    seed = checks.seed(seed)
    with tempfile.TemporaryDirectory(prefix="dcgan-nearest-") as tmp:
        b = resolve_side(caller, generated, generated_uploads, Path(tmp), "generated", True)
        a = resolve_side(caller, real, real_uploads, Path(tmp), "real", False)
        for s, label in ((a, "real"), (b, "generated")):
            if s.kind == "npz":
                raise DataError(f"the {label} side must be images, not statistics (.npz): copies are found among pictures")
            check_images(s, data_root)
        if a.kind == "generator":
            raise DataError("the real side must be images (a data source, folder, zip or uploads), not a generator")
        size = b.generator.image_size if b.kind == "generator" else 64
        real_x, real_names = _images(a.spec, size, MAX_REAL, data_root)
        if len(real_x) < 3:
            raise DataError(f"the real side has {len(real_x)} image(s); the copy check needs at least 3")
        if b.kind == "generator":
            seeds = range(seed, seed + n)
            gen_x = to_uint8(sample(b.generator, z_from_seeds(seeds, b.generator.nz)))
            gen_names = [f"seed {s}" for s in seeds]
        else:
            gen_x, gen_names = _images(b.spec, size, n, data_root)
    rd, gd = nn.describe(real_x), nn.describe(gen_x)
    cal = nn.calibrate(rd, nn.describe(real_x.flip(-1)))
    dist, idx = nn.nearest(gd, nn.describe(gen_x.flip(-1)), rd, k)
    samples = [NearestSample(gen_names[i], [real_names[j] for j in idx[i].tolist()],
                             [round(float(v), 4) for v in dist[i]], bool(dist[i, 0] < cal.threshold))
               for i in range(len(gen_names))]
    order = sorted(range(len(samples)), key=lambda i: float(dist[i, 0]))[:SHOWN]
    picture = _picture(gen_x, real_x, idx, dist, order, cal.threshold)
    return NearestResult(len(samples), sum(s.copy for s in samples), round(cal.threshold, 4),
                         {"rule": f"below the {nn.QUANTILE:.0%} quantile of the real images' nearest-neighbour "
                                  f"distances (floor: {nn.FLOOR_OF_MEDIAN} x their median)",
                          "quantile_distance": round(cal.quantile_distance, 4),
                          "median_distance": round(cal.median_distance, 4), "n_real": cal.n_real},
                         len(real_x), samples, picture, b.words, a.words)


def _picture(gen: torch.Tensor, real: torch.Tensor, idx: torch.Tensor, dist: torch.Tensor, order: list[int],
             threshold: float, columns: int = 3) -> Image.Image:
    """Rows of [sample | its nearest real images], distances under each, copies framed in red; the
    rows fill `columns` columns top to bottom, most suspicious first."""
    k, label_h, pad, gap = idx.shape[1], 14, 4, 16
    row_w, row_h = TILE * (k + 1) + pad * (k + 3), TILE + label_h + pad
    cols = max(1, min(columns, len(order)))
    per_col = -(-max(1, len(order)) // cols)
    out = Image.new("RGB", (cols * row_w + (cols - 1) * gap, per_col * row_h + pad), "white")
    draw = ImageDraw.Draw(out)

    def tile(x: torch.Tensor) -> Image.Image:
        return Image.fromarray(x.permute(1, 2, 0).numpy()).convert("RGB").resize((TILE, TILE), Image.NEAREST)

    for n, i in enumerate(order):
        x0, y = (n // per_col) * (row_w + gap), pad + (n % per_col) * row_h
        copy = float(dist[i, 0]) < threshold
        if copy:
            draw.rectangle([x0, y - 2, x0 + row_w - 1, y + TILE + label_h], outline=(220, 30, 30), width=3)
        out.paste(tile(gen[i]), (x0 + pad, y))
        draw.text((x0 + pad, y + TILE + 1), "copy?" if copy else "sample", fill=(200, 0, 0) if copy else (60, 60, 60))
        for c in range(k):
            x = x0 + pad * 3 + TILE * (c + 1) + pad * c
            out.paste(tile(real[int(idx[i, c])]), (x, y))
            draw.text((x, y + TILE + 1), f"{float(dist[i, c]):.3f}", fill=(60, 60, 60))
    return out
