"""Generate tab: seed grids, latent walks with a scrubbing slider, principal directions, arithmetic.

Each callback is a thin adapter: widget values -> latent.py / images.py -> pictures. Tile i of a
grid comes from seed + i alone, so any tile can be made again on its own.
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


def _big(im):
    """4x nearest-neighbour, so a 64-px sample is seen at a readable size with its real pixels."""
    return im.resize((im.width * 4, im.height * 4), resample=0)


def _g(choice, upload, hub_id):
    return common.generator(common.resolve(choice, upload, hub_id))


@common.gpu
@common.user_errors
def generate(choice, upload, hub_id, seed, n, eval_mode):
    g = _g(choice, upload, hub_id)
    n = int(min(max(int(n), 1), 256))
    seeds = latent.grid_seeds(int(seed), n)
    x = latent.sample(g, latent.z_from_seeds(seeds, g.nz), eval_mode=eval_mode)
    tiles = to_pils(to_uint8(x))
    return grid_image(x), [(im, f"seed {s}") for im, s in zip(tiles, seeds)]


@common.gpu
@common.user_errors
def interpolate(choice, upload, hub_id, seeds_text, frames, mode, eval_mode):
    g = _g(choice, upload, hub_id)
    keys = latent.z_from_seeds(common.seeds_from_text(seeds_text, 2), g.nz)
    frames = int(min(max(int(frames), 2), 240))
    imgs = to_pils(to_uint8(latent.sample(g, latent.walk(keys, frames, mode), eval_mode=eval_mode)))
    path = common.scratch(".gif")
    save_gif([_big(im) for im in imgs], path, duration_ms=80)
    return imgs, str(path), 0.0, _big(imgs[0])


@common.gpu
@common.user_errors
def scrub(choice, upload, hub_id, seeds_text, t, mode, eval_mode):
    g = _g(choice, upload, hub_id)
    keys = latent.z_from_seeds(common.seeds_from_text(seeds_text, 2), g.nz)
    return _big(to_pils(to_uint8(latent.sample(g, latent.at(keys, t, mode)[None], eval_mode=eval_mode)))[0])


_DIRECTIONS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # generator -> (k, nz)


def _directions(g) -> torch.Tensor:
    if g not in _DIRECTIONS:
        _DIRECTIONS[g] = latent.principal_directions(g, k=N_DIRECTIONS)
    return _DIRECTIONS[g]


@common.gpu
@common.user_errors
def directions(choice, upload, hub_id, seed, eval_mode, *alphas):
    g = _g(choice, upload, hub_id)
    dirs = _directions(g)
    z = latent.move_along(latent.z_from_seed(int(seed), g.nz), dirs, alphas)
    return _big(to_pils(to_uint8(latent.sample(g, z[None], eval_mode=eval_mode)))[0])


@common.gpu
@common.user_errors
def arithmetic(choice, upload, hub_id, a_text, b_text, c_text, eval_mode):
    g = _g(choice, upload, hub_id)
    a, b, c = (latent.z_from_seeds(common.seeds_from_text(t), g.nz) for t in (a_text, b_text, c_text))
    z = torch.stack([a.mean(0), b.mean(0), c.mean(0), latent.arithmetic(a, b, c)])
    imgs = to_pils(to_uint8(latent.sample(g, z, eval_mode=eval_mode)))
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
        with gr.Row():
            grid = gr.Image(label="Grid", type="pil", format="png")
            gallery = gr.Gallery(label="Tiles (click one to see its seed)", columns=8, height=420, format="png")
        go.click(generate, src + [seed, n, eval_mode], [grid, gallery], api_name="generate")

    with gr.Tab("Walk"):
        with gr.Row():
            keys = gr.Textbox("1, 2, 3", label="Keyframe seeds (2 or more)")
            frames = gr.Slider(2, 240, 48, step=1, label="Frames")
            mode = gr.Radio(["slerp", "lerp"], value="slerp", label="Interpolation",
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
