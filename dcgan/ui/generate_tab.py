"""Generate tab: seed grids, latent walks with a scrubbing slider, principal directions, arithmetic.

Each callback is a thin adapter: widget values -> latent.py / images.py -> pictures, and each is
also a public API endpoint (and an MCP tool) whose parameters are named, described in its
docstring and defaulted, so `Client(url).predict(api_name="/generate")` works with no arguments.
Tile i of a grid comes from seed + i alone, so any tile can be made again on its own.
"""
from __future__ import annotations

import weakref

import gradio as gr
import torch

from .. import latent
from ..images import grid_image, save_gif, to_pils, to_uint8
from . import common

N_DIRECTIONS = 5
EVAL_INFO = ("On: BatchNorm uses the running statistics learned in training, so each image depends "
             "only on its own latent (reproducible). Off: statistics of the current batch, as during "
             "training; images then change with what else is in the batch.")
MODES = ["slerp", "lerp"]


def _big(im):
    """4x nearest-neighbour, so a 64-px sample is seen at a readable size with its real pixels."""
    return im.resize((im.width * 4, im.height * 4), resample=0)


def _g(generator, generator_file, hub_id):
    return common.generator(common.resolve(generator, generator_file, hub_id))


def _mode(mode) -> str:
    if mode not in MODES:
        raise gr.Error(f"mode must be slerp or lerp, got {str(mode)[:40]!r}")
    return mode


@common.gpu
@common.user_errors
def generate(generator: str = common.DEMO, generator_file: str | None = None, hub_id: str | None = None,
             seed: int = 0, n: int = 64, eval_mode: bool = True):
    """Sample a grid of images from a DCGAN generator; tile i is drawn from latent seed + i alone.

    Args:
        generator: "Bundled demo generator" (faces), "Bundled emoji generator", "Run: NAME" for a
            training run, "Uploaded file" (with generator_file) or "Hugging Face Hub id" (with hub_id).
        generator_file: a .safetensors or .pt generator, when generator is "Uploaded file".
        hub_id: USER/NAME of a generator on the Hugging Face Hub, when generator is "Hugging Face Hub id".
        seed: latent seed of the first tile (0 to 2^63 - 1).
        n: number of images, 1 to 256.
        eval_mode: use BatchNorm's running statistics (reproducible per image); false uses batch statistics.

    Returns:
        The grid as one image, and the tiles with their seeds as captions.
    """
    g = _g(generator, generator_file, hub_id)
    n = common.number(n, "n", 1, 256, integer=True)
    seeds = latent.grid_seeds(common.seed(seed), n)
    x = latent.sample(g, latent.z_from_seeds(seeds, g.nz), eval_mode=bool(eval_mode))
    tiles = to_pils(to_uint8(x))
    return grid_image(x), [(im, f"seed {s}") for im, s in zip(tiles, seeds)]


@common.gpu
@common.user_errors
def interpolate(generator: str = common.DEMO, generator_file: str | None = None, hub_id: str | None = None,
                seeds: str = "1, 2, 3", frames: int = 48, mode: str = "slerp", eval_mode: bool = True):
    """Walk through the latent space from keyframe to keyframe: frames and an animated GIF.

    Args:
        generator: which generator (see generate).
        generator_file: a .safetensors or .pt generator, when generator is "Uploaded file".
        hub_id: USER/NAME on the Hugging Face Hub, when generator is "Hugging Face Hub id".
        seeds: two or more keyframe seeds, separated by spaces or commas, e.g. "1, 2, 3".
        frames: number of frames along the whole walk, 2 to 240.
        mode: "slerp" (spherical: keeps the latent's length, the default) or "lerp" (straight line).
        eval_mode: use BatchNorm's running statistics.

    Returns:
        The frames, the GIF (shown 4x), the scrub slider reset to 0, and the first frame at 4x.
    """
    g = _g(generator, generator_file, hub_id)
    keys = latent.z_from_seeds(common.seeds_from_text(seeds, 2), g.nz)
    frames = common.number(frames, "frames", 2, 240, integer=True)
    imgs = to_pils(to_uint8(latent.sample(g, latent.walk(keys, frames, _mode(mode)), eval_mode=bool(eval_mode))))
    path = common.scratch(".gif")
    save_gif([_big(im) for im in imgs], path, duration_ms=80)
    return imgs, str(path), 0.0, _big(imgs[0])


@common.gpu
@common.user_errors
def scrub(generator: str = common.DEMO, generator_file: str | None = None, hub_id: str | None = None,
          seeds: str = "1, 2, 3", t: float = 0.0, mode: str = "slerp", eval_mode: bool = True):
    """The image at position t along a keyframe walk (what the scrub slider shows).

    Args:
        generator: which generator (see generate).
        generator_file: a .safetensors or .pt generator, when generator is "Uploaded file".
        hub_id: USER/NAME on the Hugging Face Hub, when generator is "Hugging Face Hub id".
        seeds: two or more keyframe seeds, e.g. "1, 2, 3".
        t: position along the whole walk, 0 (first keyframe) to 1 (last).
        mode: "slerp" or "lerp".
        eval_mode: use BatchNorm's running statistics.

    Returns:
        The image at t, at 4x.
    """
    g = _g(generator, generator_file, hub_id)
    keys = latent.z_from_seeds(common.seeds_from_text(seeds, 2), g.nz)
    t = common.number(t, "t", 0.0, 1.0)
    z = latent.at(keys, t, _mode(mode))[None]
    return _big(to_pils(to_uint8(latent.sample(g, z, eval_mode=bool(eval_mode))))[0])


_DIRECTIONS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # generator -> (k, nz)


def _directions(g) -> torch.Tensor:
    if g not in _DIRECTIONS:
        _DIRECTIONS[g] = latent.principal_directions(g, k=N_DIRECTIONS)
    return _DIRECTIONS[g]


@common.gpu
@common.user_errors
def directions(generator: str = common.DEMO, generator_file: str | None = None, hub_id: str | None = None,
               seed: int = 0, eval_mode: bool = True, direction_1: float = 0.0, direction_2: float = 0.0,
               direction_3: float = 0.0, direction_4: float = 0.0, direction_5: float = 0.0):
    """Move one latent along the generator's principal directions (as GANSpace finds them).

    Args:
        generator: which generator (see generate).
        generator_file: a .safetensors or .pt generator, when generator is "Uploaded file".
        hub_id: USER/NAME on the Hugging Face Hub, when generator is "Hugging Face Hub id".
        seed: seed of the latent to move.
        eval_mode: use BatchNorm's running statistics.
        direction_1: amount along the first principal direction, -2 to 2 (2 moves as far as a latent is long).
        direction_2: amount along the second direction, -2 to 2.
        direction_3: amount along the third direction, -2 to 2.
        direction_4: amount along the fourth direction, -2 to 2.
        direction_5: amount along the fifth direction, -2 to 2.

    Returns:
        The moved latent's image, at 4x.
    """
    g = _g(generator, generator_file, hub_id)
    amounts = [common.number(a, f"direction_{i + 1}", -2.0, 2.0)
               for i, a in enumerate((direction_1, direction_2, direction_3, direction_4, direction_5))]
    z = latent.move_along(latent.z_from_seed(common.seed(seed), g.nz), _directions(g), amounts)
    return _big(to_pils(to_uint8(latent.sample(g, z[None], eval_mode=bool(eval_mode))))[0])


@common.gpu
@common.user_errors
def arithmetic(generator: str = common.DEMO, generator_file: str | None = None, hub_id: str | None = None,
               a: str = "1 2 3", b: str = "4 5 6", c: str = "7 8 9", eval_mode: bool = True):
    """Vector arithmetic in latent space, as in the paper's Figure 7: mean(A) - mean(B) + mean(C).

    Args:
        generator: which generator (see generate).
        generator_file: a .safetensors or .pt generator, when generator is "Uploaded file".
        hub_id: USER/NAME on the Hugging Face Hub, when generator is "Hugging Face Hub id".
        a: seeds whose latents are averaged into A, e.g. "1 2 3".
        b: seeds averaged into B (subtracted).
        c: seeds averaged into C (added).
        eval_mode: use BatchNorm's running statistics.

    Returns:
        Four images: the means of A, B and C, and A - B + C.
    """
    g = _g(generator, generator_file, hub_id)
    za, zb, zc = (latent.z_from_seeds(common.seeds_from_text(t), g.nz) for t in (a, b, c))
    z = torch.stack([za.mean(0), zb.mean(0), zc.mean(0), latent.arithmetic(za, zb, zc)])
    imgs = to_pils(to_uint8(latent.sample(g, z, eval_mode=bool(eval_mode))))
    return list(zip(imgs, ["mean of A", "mean of B", "mean of C", "A − B + C"]))


def build() -> None:
    with gr.Row():
        choice = gr.Dropdown(common.generator_choices(), value=common.DEMO, label="Generator", scale=2)
        upload = gr.File(label="Generator file (.safetensors or .pt)", file_types=[".safetensors", ".pt"],
                         visible=False, scale=2)
        hub_id = gr.Textbox(label="Hub id (USER/NAME)", visible=False, scale=2)
        refresh = gr.Button("↻ runs", scale=0, min_width=80)
        eval_mode = gr.Checkbox(True, label="BatchNorm eval mode", info=EVAL_INFO, scale=3)
    choice.change(lambda c: (gr.update(visible=c == common.UPLOAD), gr.update(visible=c == common.HUB)),
                  choice, [upload, hub_id], api_visibility="private")
    refresh.click(lambda: gr.update(choices=common.generator_choices()), None, choice, api_visibility="private")
    src = [choice, upload, hub_id]

    with gr.Tab("Seed grid"):
        with gr.Row():
            seed = gr.Number(0, precision=0, label="Seed (tile i uses seed + i)")
            n = gr.Slider(1, 256, 64, step=1, label="Images")
            go = gr.Button("Generate", variant="primary")
        first_grid, first_tiles = _first_impression()
        with gr.Row():
            grid = gr.Image(first_grid, label="Grid", type="pil", format="png")
            gallery = gr.Gallery(first_tiles, label="Tiles (click one to see its seed)", columns=8, height=420,
                                 format="png")
        go.click(generate, src + [seed, n, eval_mode], [grid, gallery], api_name="generate")

    with gr.Tab("Walk"):
        with gr.Row():
            keys = gr.Textbox("1, 2, 3", label="Keyframe seeds (2 or more)")
            frames = gr.Slider(2, 240, 48, step=1, label="Frames")
            mode = gr.Radio(MODES, value="slerp", label="Interpolation",
                            info="slerp keeps the latent's magnitude; lerp passes near the origin")
            walk_btn = gr.Button("Walk", variant="primary")
        with gr.Row():
            strip = gr.Gallery(label="Frames", columns=12, height=300, format="png")
            gif = gr.Image(label="GIF (4x, nearest neighbour)", type="filepath", height=300)
        with gr.Row():
            t = gr.Slider(0, 1, 0, step=0.005, label="Scrub along the walk", scale=3)
            live = gr.Image(label="At t (4x)", type="pil", format="png", scale=1)
        walk_btn.click(interpolate, src + [keys, frames, mode, eval_mode], [strip, gif, t, live], api_name="interpolate")
        # a few milliseconds of work: answered directly, without the queue's round trips
        t.input(scrub, src + [keys, t, mode, eval_mode], live, api_name="scrub", trigger_mode="always_last",
                show_progress="hidden", queue=False)

    with gr.Tab("Directions"):
        gr.Markdown("Principal directions of the generator's first layer (as GANSpace finds them): "
                    "drag a slider to move the latent along one.")
        with gr.Row():
            base = gr.Number(0, precision=0, label="Base seed")
            dir_img = gr.Image(label="Result (4x)", type="pil", format="png")
        sliders = [gr.Slider(-2, 2, 0, step=0.05, label=f"Direction {i + 1}") for i in range(N_DIRECTIONS)]
        for s in sliders:
            s.input(directions, src + [base, eval_mode] + sliders, dir_img, trigger_mode="always_last",
                    show_progress="hidden", queue=False, api_name="directions" if s is sliders[0] else None,
                    api_visibility="public" if s is sliders[0] else "private")
        base.submit(directions, src + [base, eval_mode] + sliders, dir_img, api_visibility="private")

    with gr.Tab("Arithmetic"):
        gr.Markdown("Each term is the mean latent of a few seeds, as in the paper's Figure 7.")
        with gr.Row():
            a = gr.Textbox("1 2 3", label="A seeds")
            b = gr.Textbox("4 5 6", label="B seeds")
            c = gr.Textbox("7 8 9", label="C seeds")
            go_ar = gr.Button("A − B + C", variant="primary")
        result = gr.Gallery(label="Terms and result", columns=4, height=260, format="png")
        go_ar.click(arithmetic, src + [a, b, c, eval_mode], result, api_name="arithmetic")


def _first_impression():
    """The default generator's first 64 tiles, so the tab shows faces the moment the page opens."""
    try:
        return generate(common.DEMO, None, None, 0, 64, True)
    except gr.Error:  # a checkout without the bundled generator still builds the page
        return None, None
