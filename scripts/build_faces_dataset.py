"""Build the bundled face dataset: procedurally drawn cartoon faces at 64x64, framed like CelebA.

Run once by a maintainer (the output is committed); nothing at run time needs these tools:

    pip install python-avatars==1.4.1 cairosvg==2.9.1   # cairosvg needs the system libcairo
    python scripts/build_faces_dataset.py --n 10000 --seed 0

Each face is an Avataaars-style avatar (python-avatars, MIT; art from the Avataaars set by Pablo
Stanley) with its parts drawn from curated lists by a seeded numpy RNG, so the same seed gives
the same faces on any machine. The curation leaves out costumes and props whose shapes do not
read as a face at 64 px or run off the frame (helmets, a chef's cap, a veil, a wide hat, lightning
bolts), joke expressions (vomit, dizzy or heart eyes) and the yellow and orange cartoon skins. Every
combination is drawn at most once. The SVG is rasterised at 2x with cairosvg, composited on one
plain background colour per face, cropped to a square around the head (hair, face and the top of
the shoulders, as in CelebA's aligned crops) and downsampled to 64x64 by area averaging (a box
filter: no ringing, and a third smaller as PNG than Lanczos).

Output: dcgan/assets/faces64.png (an atlas of 64x64 tiles, lossless) and faces64.json (the
index). `--list-parts` prints each face's parts, so any tile can be drawn again.
"""
from __future__ import annotations

import argparse
import io
import json
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

OUT = Path(__file__).resolve().parent.parent / "dcgan" / "assets"
TILE, COLS = 64, 100
CROP = (54, 10, 474, 430)  # in the 2x (528 x 560) canvas: a 420 px square around the head
BACKGROUNDS = ["#F2F2F2", "#DCE8F2", "#F3E3D3", "#E2EEDC", "#ECE0EE", "#D9D9D9", "#F6EAC8", "#CFE0E8"]

# python-avatars enum member names (not values), curated by looking at a sheet of every part
TOPS = ["NONE", "BIG_HAIR", "BOB", "BUN", "CAESAR_SIDE_PART", "CAESAR", "CURLY", "CURVY", "DREADS",
        "FRIZZLE", "FRO_BAND", "FRO", "LONG_NOT_TOO_LONG", "MIA_WALLACE", "SHAGGY_MULLET", "SHAGGY",
        "SHORT_CURLY", "SHORT_DREADS_1", "SHORT_DREADS_2", "SHORT_FLAT", "SHORT_ROUND", "SHORT_WAVED",
        "SIDES", "STRAIGHT_1", "STRAIGHT_2", "STRAIGHT_STRAND", "BRAIDS", "BUZZCUT", "CORNROWS",
        "CURLY_2", "DREADLOCKS", "EINSTEIN_HAIR", "ELVIS", "EVIL_SPIKE", "HALF_SHAVED", "LONG_HAIR_CURLY",
        "LOOSE_HAIR", "MOHAWK", "MOWGLI", "PIXIE", "POMPADOUR", "QUIFF", "TWIST_LONG_HAIR",
        "TWIST_LONG_HAIR_2", "WICK", "WILD"]
HATS = ["HIJAB", "TURBAN", "WINTER_HAT_1", "WINTER_HAT_2", "WINTER_HAT_3", "WINTER_HAT_4"]
EYES = ["DEFAULT", "HAPPY", "SIDE", "SQUINT", "SURPRISED", "WINK", "WINK_WACKY", "CLOSED", "EYE_ROLL"]
MOUTHS = ["DEFAULT", "BIG_SMILE", "CONCERNED", "DISBELIEF", "GRIMACE", "SAD", "SCREAM_OPEN", "SERIOUS",
          "SMILE", "TONGUE", "TWINKLE"]
SKINS = ["PALE", "LIGHT", "BROWN", "DARK_BROWN", "BLACK"]
ACCESSORIES = ["NONE"] * 20 + ["PRESCRIPTION_1", "PRESCRIPTION_2", "ROUND", "SUNGLASSES", "WAYFARERS"]
FACIAL_HAIR = ["NONE"] * 8 + ["BEARD_LIGHT", "BEARD_MAGESTIC", "BEARD_MEDIUM", "MOUSTACHE_FANCY",
                              "MOUSTACHE_MAGNUM"]
CLOTHES = ["BLAZER_SHIRT", "BLAZER_SWEATER", "COLLAR_SWEATER", "HOODIE", "OVERALL", "SHIRT_CREW_NECK",
           "SHIRT_SCOOP_NECK", "SHIRT_V_NECK"]


def draw_parts(rng: np.random.Generator) -> dict:
    """One face's parts, by enum member name, drawn from the curated lists."""
    import python_avatars as pa

    pick = lambda xs: xs[int(rng.integers(len(xs)))]  # noqa: E731
    hat = rng.random() < 0.08
    return {"top": pick(HATS) if hat else pick(TOPS), "hat": hat,
            "eyebrows": pick([e.name for e in pa.EyebrowType if e.name != "NONE"]), "eyes": pick(EYES), "mouth": pick(MOUTHS),
            "nose": pick([n.name for n in pa.NoseType]), "skin": pick(SKINS),
            "hair_color": pick([h.name for h in pa.HairColor]), "facial_hair": pick(FACIAL_HAIR),
            "accessory": pick(ACCESSORIES), "clothing": pick(CLOTHES),
            "clothing_color": pick([c.name for c in pa.ClothingColor]),
            "hat_color": pick([c.name for c in pa.ClothingColor]), "background": pick(BACKGROUNDS)}


def render(parts: dict) -> np.ndarray:
    """parts -> uint8 (64, 64, 3)."""
    import cairosvg
    import python_avatars as pa

    top = (pa.HatType if parts["hat"] else pa.HairType)[parts["top"]]
    av = pa.Avatar(style=pa.AvatarStyle.TRANSPARENT, top=top, hat_color=pa.ClothingColor[parts["hat_color"]],
                   eyebrows=pa.EyebrowType[parts["eyebrows"]], eyes=pa.EyeType[parts["eyes"]],
                   nose=pa.NoseType[parts["nose"]], mouth=pa.MouthType[parts["mouth"]],
                   facial_hair=pa.FacialHairType[parts["facial_hair"]], skin_color=pa.SkinColor[parts["skin"]],
                   hair_color=pa.HairColor[parts["hair_color"]], facial_hair_color=pa.HairColor[parts["hair_color"]],
                   accessory=pa.AccessoryType[parts["accessory"]], clothing=pa.ClothingType[parts["clothing"]],
                   clothing_color=pa.ClothingColor[parts["clothing_color"]])
    png = cairosvg.svg2png(bytestring=av.render().encode(), output_width=528, output_height=560)
    rgba = Image.open(io.BytesIO(png)).convert("RGBA")
    bg = Image.new("RGBA", rgba.size, parts["background"])
    img = Image.alpha_composite(bg, rgba).convert("RGB").crop(CROP)
    return np.asarray(img.resize((TILE, TILE), Image.BOX), dtype=np.uint8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--list-parts", action="store_true", help="print each face's parts as JSON lines and stop")
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    faces, seen = [], set()
    while len(faces) < args.n:  # every combination at most once
        parts = draw_parts(rng)
        key = json.dumps(parts, sort_keys=True)
        if key not in seen:
            seen.add(key)
            faces.append(parts)
    if args.list_parts:
        for i, parts in enumerate(faces):
            print(json.dumps({"index": i, **parts}))
        return
    with ProcessPoolExecutor(args.workers) as pool:
        tiles = list(pool.map(render, faces, chunksize=64))
    flat = np.stack(tiles).reshape(len(tiles), -1)
    distinct = len(np.unique(flat, axis=0))

    rows = math.ceil(len(tiles) / COLS)
    atlas = np.full((rows * TILE, COLS * TILE, 3), 255, dtype=np.uint8)
    for i, t in enumerate(tiles):
        r, c = divmod(i, COLS)
        atlas[r * TILE:(r + 1) * TILE, c * TILE:(c + 1) * TILE] = t
    args.out.mkdir(parents=True, exist_ok=True)
    Image.fromarray(atlas).save(args.out / "faces64.png", optimize=True)
    index = {"tile": TILE, "cols": COLS, "count": len(tiles), "seed": args.seed, "distinct_pixels": distinct,
             "source": "python-avatars 1.4.1 (MIT), Avataaars art by Pablo Stanley; rendered by "
                       "scripts/build_faces_dataset.py"}
    (args.out / "faces64.json").write_text(json.dumps(index, indent=0) + "\n")
    print(f"{len(tiles)} faces ({distinct} distinct) -> {args.out / 'faces64.png'} "
          f"({(args.out / 'faces64.png').stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
