"""Build the bundled demo dataset: the Noto Color Emoji images as 64x64 RGB on white.

Run once by a maintainer (the output is committed); nothing at run time needs the font:

    apt-get install -y fonts-noto-color-emoji
    pip install fonttools
    python scripts/build_demo_dataset.py

Every single-code-point emoji in the font's character map is drawn at the font's native bitmap
size (109 px), composited on white, trimmed to its bounding box, padded to a square and resized
to 64x64 with Lanczos. The tiles are packed into one PNG atlas (lossless and compact) plus a JSON
index; `dcgan.data` cuts the atlas back into an (N, 3, 64, 64) uint8 tensor.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
OUT = Path(__file__).resolve().parent.parent / "dcgan" / "assets"
TILE = 64
COLS = 40


def codepoints(font_path: str) -> list[int]:
    from fontTools.ttLib import TTFont

    cmap = TTFont(font_path).getBestCmap()
    # Skip ASCII/Latin-1 (digits, '#', '*', copyright signs render as small glyphs or nothing)
    # and the variation selectors, tags and skin-tone modifiers that only act inside sequences.
    skip = set(range(0xFE00, 0xFE10)) | set(range(0xE0000, 0xE0080)) | set(range(0x1F3FB, 0x1F400))
    return sorted(cp for cp in cmap if cp > 0xFF and cp not in skip and not 0x1F1E6 <= cp <= 0x1F1FF)


def render(ch: str, font: ImageFont.FreeTypeFont) -> Image.Image | None:
    canvas = Image.new("RGBA", (160, 160), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((10, 10), ch, font=font, embedded_color=True)
    bbox = canvas.getchannel("A").getbbox()
    if bbox is None:
        return None
    glyph = canvas.crop(bbox)
    side = max(glyph.size)
    square = Image.new("RGBA", (side, side), (255, 255, 255, 255))
    square.alpha_composite(glyph, ((side - glyph.width) // 2, (side - glyph.height) // 2))
    return square.convert("RGB").resize((TILE, TILE), Image.LANCZOS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--font", default=FONT)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    font = ImageFont.truetype(args.font, 109)  # CBDT bitmaps exist at this size only
    tiles, names = [], []
    for cp in codepoints(args.font):
        tile = render(chr(cp), font)
        if tile is None:
            continue
        arr = np.asarray(tile)
        if (arr > 245).all():  # blank (white-on-white or an empty glyph)
            continue
        tiles.append(tile)
        names.append(f"U+{cp:04X}")

    rows = math.ceil(len(tiles) / COLS)
    atlas = Image.new("RGB", (COLS * TILE, rows * TILE), (255, 255, 255))
    for i, t in enumerate(tiles):
        r, c = divmod(i, COLS)
        atlas.paste(t, (c * TILE, r * TILE))
    args.out.mkdir(parents=True, exist_ok=True)
    atlas.save(args.out / "emoji64.png", optimize=True)
    index = {"tile": TILE, "cols": COLS, "count": len(tiles), "codepoints": names,
             "source": "Noto Color Emoji (Debian fonts-noto-color-emoji), images Apache-2.0"}
    (args.out / "emoji64.json").write_text(json.dumps(index, indent=0) + "\n")
    print(f"{len(tiles)} emoji -> {args.out / 'emoji64.png'} "
          f"({(args.out / 'emoji64.png').stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
