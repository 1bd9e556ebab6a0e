"""Generate tab (page only): a seed grid, a walk with a scrubbing slider, principal directions and
latent arithmetic, each a private event over the same use cases as the public API.

Pictures go out as PNG files written atomically (common.png), one per answer: a grid is one
image with its seeds said in text, not 64 separate tiles. The generator picker lists the bundled
generators and the caller's runs, refreshed whenever it is opened and on every page load; picking
one starts computing its principal directions in the background, so the first drag is quick.
"""
from __future__ import annotations

import gradio as gr

from .. import api
from ..api.sampling import MAX_FRAMES, MAX_GRID, N_DIRECTIONS
from . import common

EVAL_INFO = ("on: each image depends only on its own latent (BatchNorm's running statistics); "
             "off: on the whole batch, as in training")
BUNDLED = [("Bundled faces generator (demo)", "demo"), ("Bundled emoji generator", "emoji")]
UPLOAD, HUB = "upload", "hub"


def generator_choices(request: gr.Request | None = None, key: str | None = None) -> list[tuple[str, str]]:
    runs = [(f"Run: {r.name}", r.name) for r in api.runs(common.caller(request, key), examples=False) if r.epoch > 0]
    return BUNDLED + runs + [("Uploaded file", UPLOAD), ("Hugging Face Hub id", HUB)]


def refresh_generators(key, request: gr.Request):
    return gr.update(choices=generator_choices(request, key))


def checkpoint(choice: str, upload, hub_id: str):
    """The picker's widgets -> a generator in the use cases' words."""
    if choice == UPLOAD:
        up = common.upload(upload)
        if up is None:
            raise gr.Error("upload a .safetensors or .pt generator first")
        return up
    if choice == HUB:
        return (hub_id or "").strip() or "demo"
    return choice or "demo"


def seeds_text(g, cols: int) -> str:
    s0 = g.seeds[0]
    return (f"{g.text}. Row r, column c (from 0) is seed {s0} + {cols}·r + c; "
            "type a seed above to see that tile first.")


@common.gpu
@common.page_event
def grid(choice, upload, hub_id, seed, n, eval_mode, truncation, key, request: gr.Request):
    g = api.generate(common.caller(request, key), checkpoint(choice, upload, hub_id), seed, n, eval_mode,
                     truncation=truncation)
    cols = max(1, round(len(g.seeds) ** 0.5))
    return common.png(g.image, "grid.png"), seeds_text(g, cols)


@common.gpu
@common.page_event
def walk(choice, upload, hub_id, seeds, frames, mode, eval_mode, key, request: gr.Request):
    w = api.interpolate(common.caller(request, key), checkpoint(choice, upload, hub_id), seeds, frames, mode,
                        eval_mode=eval_mode)
    big = w.big()
    return common.png(w.strip(), "frames.png"), common.gif(big, "walk.gif"), 0.0, common.png(big[0], "at_t.png"), w.text


@common.gpu
@common.page_event
def scrub(choice, upload, hub_id, seeds, t, mode, eval_mode, key, request: gr.Request):
    p = api.scrub(common.caller(request, key), checkpoint(choice, upload, hub_id), seeds, t, mode, eval_mode)
    return common.png(p.image, "at_t.png")


@common.gpu
@common.page_event
def move(choice, upload, hub_id, seed, eval_mode, d1, d2, d3, d4, d5, key, request: gr.Request):
    p = api.directions(common.caller(request, key), checkpoint(choice, upload, hub_id), seed, (d1, d2, d3, d4, d5),
                       eval_mode)
    return common.png(p.image, "moved.png")


@common.gpu
@common.page_event
def arithmetic(choice, upload, hub_id, a, b, c, eval_mode, key, request: gr.Request):
    r = api.arithmetic(common.caller(request, key), checkpoint(choice, upload, hub_id), a, b, c, eval_mode)
    return tuple(common.png(im, f"{i}.png") for i, im in enumerate(r.images))


def picked(choice, upload, hub_id, key, request: gr.Request):
    """Show the upload / Hub id box the choice needs; start the choice's directions in the background."""
    try:
        api.warm_directions(common.caller(request, key), checkpoint(choice, upload, hub_id))
    except Exception:  # noqa: BLE001 - a bad pick is reported when it is used
        pass
    return gr.update(visible=choice == UPLOAD), gr.update(visible=choice == HUB)


def build(demo: gr.Blocks, key: gr.BrowserState) -> None:
    with gr.Row():
        choice = gr.Dropdown(generator_choices(), value="demo", label="Generator", scale=2, min_width=240)
        upload = gr.File(label="Generator file (.safetensors or .pt)", file_types=[".safetensors", ".pt"],
                         visible=False, scale=2)
        hub_id = gr.Textbox(label="Hub id (USER/NAME)", visible=False, scale=2)
        eval_mode = gr.Checkbox(True, label="BatchNorm eval mode", info=EVAL_INFO, scale=3)
    src = [choice, upload, hub_id]
    choice.change(picked, src + [key], [upload, hub_id], api_visibility="private")
    choice.focus(refresh_generators, key, choice, api_visibility="private")
    demo.load(refresh_generators, key, choice, api_visibility="private")

    with gr.Tab("Seed grid"):
        first, first_text = _first_impression()  # the picture first: the page opens on faces, phones too
        picture = gr.Image(first, label="Grid", type="filepath", format="png", show_label=False)
        seeds_md = gr.Markdown(first_text)
        with gr.Row():
            seed = gr.Number(0, precision=0, label="Seed (tile i uses seed + i)", minimum=0)
            n = gr.Slider(1, MAX_GRID, 64, step=1, label="Images")
            truncation = gr.Slider(0, 3, 0, step=0.05, label="Latent limit T (0: off)",
                                   info="the truncation trick: latent values outside ±T are drawn again; less "
                                        "variety, more typical faces")
            go = gr.Button("Generate", variant="primary")
        go.click(grid, src + [seed, n, eval_mode, truncation, key], [picture, seeds_md], api_visibility="private")

    with gr.Tab("Walk"):
        with gr.Row():
            keys = gr.Textbox("1, 2, 3", label="Keyframe seeds (2 or more)")
            frames = gr.Slider(2, MAX_FRAMES, 48, step=1, label="Frames")
            mode = gr.Radio(["slerp", "lerp"], value="slerp", label="Interpolation",
                            info="slerp keeps the latent's magnitude; lerp passes near the origin")
            walk_btn = gr.Button("Walk", variant="primary")
        walk_md = gr.Markdown()
        strip = gr.Image(label="Frames, left to right, top to bottom", type="filepath", format="png")
        with gr.Row():
            gif = gr.Image(label="GIF (4x, nearest neighbour)", type="filepath")
            with gr.Column():
                t = gr.Slider(0, 1, 0, step=0.005, label="Scrub along the walk")
                live = gr.Image(label="At t (4x)", type="filepath", format="png")
        walk_btn.click(walk, src + [keys, frames, mode, eval_mode, key], [strip, gif, t, live, walk_md],
                       api_visibility="private")
        t.input(scrub, src + [keys, t, mode, eval_mode, key], live, trigger_mode="always_last",
                show_progress="hidden", queue=False, api_visibility="private")

    with gr.Tab("Your image"):
        gr.Markdown("Upload a picture: the generator's closest image is found by optimising its latent "
                    "(projection), then you can walk from it to any seed.")
        with gr.Row():
            your = gr.Image(label="Your image", type="filepath", sources=["upload"], height=256)
            target = gr.Image(label="As the generator sees it (4x)", type="filepath", format="png", height=256)
            recon = gr.Image(label="Its closest image (4x)", type="filepath", format="png", height=256)
        with gr.Row():
            steps = gr.Slider(20, 500, 300, step=10, label="Optimiser steps")
            project_btn = gr.Button("Project", variant="primary")
            cancel_btn = gr.Button("Cancel", variant="stop")
        project_md = gr.Markdown()
        z_state = gr.State([])
        with gr.Row():
            to_seed = gr.Number(7, precision=0, minimum=0, label="Walk to seed")
            walk_frames = gr.Slider(2, MAX_FRAMES, 32, step=1, label="Frames")
            walk_from_btn = gr.Button("Walk from my image")
        walk_from_md = gr.Markdown()
        walk_gif = gr.Image(label="From your image to the seed (4x)", type="filepath")
        projecting = project_btn.click(project_image, src + [your, steps, key], [target, recon, project_md, z_state],
                                       api_visibility="private")
        cancel_btn.click(lambda: None, None, None, cancels=[projecting], api_visibility="private")
        walk_from_btn.click(walk_from, src + [z_state, to_seed, walk_frames, eval_mode, key], [walk_gif, walk_from_md],
                            api_visibility="private")

    with gr.Tab("Directions"):
        gr.Markdown("Principal directions of the generator's first layer (as GANSpace finds them): "
                    "drag a slider to move the latent along one.")
        with gr.Row():
            with gr.Column():
                base = gr.Number(0, precision=0, label="Base seed", minimum=0)
                sliders = [gr.Slider(-2, 2, 0, step=0.05, label=f"Direction {i + 1}") for i in range(N_DIRECTIONS)]
            dir_img = gr.Image(label="Result (4x)", type="filepath", format="png")
        for s in sliders:
            s.input(move, src + [base, eval_mode] + sliders + [key], dir_img, trigger_mode="always_last",
                    show_progress="hidden", queue=False, api_visibility="private")
        base.submit(move, src + [base, eval_mode] + sliders + [key], dir_img, api_visibility="private")

    with gr.Tab("Arithmetic"):
        gr.Markdown("Each term is the mean latent of a few seeds, as in the paper's Figure 7.")
        with gr.Row():
            a = gr.Textbox("1 2 3", label="A seeds")
            b = gr.Textbox("4 5 6", label="B seeds")
            c = gr.Textbox("7 8 9", label="C seeds")
            go_ar = gr.Button("A − B + C", variant="primary")
        with gr.Row():
            terms = [gr.Image(label=label, type="filepath", format="png", min_width=120)
                     for label in ("mean of A", "mean of B", "mean of C", "A − B + C")]
        go_ar.click(arithmetic, src + [a, b, c, eval_mode, key], terms, api_visibility="private")


@common.gpu
@common.page_event
def project_image(choice, upload, hub_id, image, steps, key, request: gr.Request, progress=gr.Progress()):
    """Your image into the latent space: the target, the reconstruction, and the latent kept for a walk."""
    if not image:
        raise gr.Error("upload an image to project first")
    who, ckpt = common.caller(request, key), checkpoint(choice, upload, hub_id)
    picture = common.upload(image)

    def call(should_stop, on_step):
        return api.project(who, ckpt, picture, steps=steps, restarts=4, progress=on_step, should_stop=should_stop)

    r = yield from common.cancellable(call, progress, outputs=4)
    words = (f"PSNR {r.psnr:.1f} dB after {r.steps} steps × {r.restarts} restarts ({r.how}). "
             "Walk from it below; scripts get the latent itself from /project.")
    big = [im.resize((4 * im.width, 4 * im.height), 0) for im in (r.target, r.reconstruction)]  # 0: nearest
    yield common.png(big[0], "target.png"), common.png(big[1], "reconstruction.png"), words, r.z


@common.gpu
@common.page_event
def walk_from(choice, upload, hub_id, z, to_seed, frames, eval_mode, key, request: gr.Request):
    if not z:
        raise gr.Error("project an image first: the walk starts at its latent")
    w = api.interpolate(common.caller(request, key), checkpoint(choice, upload, hub_id), seeds=str(to_seed),
                        frames=frames, eval_mode=eval_mode, start=z)
    return common.gif(w.big(), "walk.gif"), w.text


def _first_impression():
    """The demo generator's first 64 tiles, so the page opens on faces."""
    try:
        g = api.generate(api.LOCAL, "demo", 0, 64, True)
    except Exception:  # noqa: BLE001 - a checkout without the bundled generator still builds the page
        return None, ""
    return common.png(g.image, "grid.png"), seeds_text(g, 8)
