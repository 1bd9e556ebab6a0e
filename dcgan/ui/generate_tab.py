"""Generate tab (page only): a seed grid, a walk with a scrubbing slider, your own image's latent,
principal directions and latent arithmetic, each a private event over the same use cases as the
public API.

Every picture on the tab belongs to the generator, seeds and BatchNorm mode its controls show: the
tab opens with all of them drawn by the bundled faces generator, and picking another generator,
flipping the BatchNorm toggle, or pressing Enter in a seed box draws them again (a refusal is one
toast and leaves them as they were). Pictures go out as PNG files written atomically (common.png),
one per answer; 64-px samples are shown at 4x, nearest neighbour, so their pixels stay visible.
"""
from __future__ import annotations

import gradio as gr
from PIL import Image

from .. import api
from . import common

EVAL_INFO = ("on: each image depends only on its own latent (BatchNorm's running statistics); "
             "off: on the whole batch, as in training")
BUNDLED = [("Bundled faces generator", "faces-generator"), ("Bundled emoji generator", "emoji-generator")]
UPLOAD, HUB = "upload", "hub"
DEFAULT = common.GENERATOR


def generator_choices(request: gr.Request | None = None, key: str | None = None) -> list[tuple[str, str]]:
    runs = [(f"Run: {r.name}", r.name) for r in api.runs(common.caller(request, key), examples=False) if r.epoch > 0]
    return BUNDLED + runs + [("Uploaded file", UPLOAD), ("Hugging Face Hub id", HUB)]


def refresh_generators(key, request: gr.Request):
    return gr.update(choices=generator_choices(request, key))


def checkpoint(choice: str, upload, hub_id: str):
    """The picker's widgets -> a generator in the use cases' words (api.pick_generator)."""
    if choice == UPLOAD:
        up = common.upload(upload)
        if up is None:
            raise common.Refused("upload a .safetensors or .pt generator first")
        return up
    if choice == HUB:
        return api.pick_generator(None, None, hub_id or "")
    return choice or DEFAULT


def seeds_text(g, cols: int) -> str:
    if len(g.seeds) == 1:
        return f"{g.text}."
    return (f"{g.text}. Row r, column c (from 0) is seed {g.seeds[0]} + {cols}·r + c; "
            "type a seed above to see that tile first.")


def _grid(caller, ckpt, seed, n, eval_mode, truncation):
    g = api.generate(caller, ckpt, seed, n, eval_mode, truncation=truncation)
    cols = max(1, round(len(g.seeds) ** 0.5))
    return common.png(g.image, "grid.png"), seeds_text(g, cols)


def _walk(caller, ckpt, seeds, frames, mode, eval_mode):
    w = api.interpolate(caller, ckpt, seeds, frames, mode, eval_mode=eval_mode)
    big = w.big()
    return common.png(w.strip(), "frames.png"), common.gif(big, "walk.gif"), 0.0, common.png(big[0], "at_t.png"), w.text


def _moved(caller, ckpt, seed, eval_mode, amounts):
    return common.png(api.directions(caller, ckpt, seed, amounts, eval_mode).image, "moved.png")


def _terms(caller, ckpt, a, b, c, eval_mode):
    r = api.arithmetic(caller, ckpt, a, b, c, eval_mode)
    return tuple(common.png(_big(im), f"{i}.png") for i, im in enumerate(r.images))


def _big(im: Image.Image) -> Image.Image:
    return im.resize((4 * im.width, 4 * im.height), Image.NEAREST) if im.width <= 128 else im


@common.gpu
@common.page_event
def grid(choice, upload, hub_id, seed, n, eval_mode, truncation, key, request: gr.Request):
    return _grid(common.caller(request, key), checkpoint(choice, upload, hub_id), seed, n, eval_mode, truncation)


@common.gpu
@common.page_event
def walk(choice, upload, hub_id, seeds, frames, mode, eval_mode, key, request: gr.Request):
    return _walk(common.caller(request, key), checkpoint(choice, upload, hub_id), seeds, frames, mode, eval_mode)


@common.gpu
@common.page_event
def scrub(choice, upload, hub_id, seeds, t, mode, eval_mode, key, request: gr.Request):
    p = api.scrub(common.caller(request, key), checkpoint(choice, upload, hub_id), seeds, t, mode, eval_mode)
    return common.png(p.image, "at_t.png")


@common.gpu
@common.page_event(labels={"seed": "Base seed"})
def move(choice, upload, hub_id, seed, eval_mode, d1, d2, d3, d4, d5, key, request: gr.Request):
    return _moved(common.caller(request, key), checkpoint(choice, upload, hub_id), seed, eval_mode,
                  (d1, d2, d3, d4, d5))


@common.gpu
@common.page_event
def arithmetic(choice, upload, hub_id, a, b, c, eval_mode, key, request: gr.Request):
    return _terms(common.caller(request, key), checkpoint(choice, upload, hub_id), a, b, c, eval_mode)


def _everything(request, choice, upload, hub_id, eval_mode, seed, n, truncation, seeds, frames, mode, base,
                d1, d2, d3, d4, d5, a, b, c, key):
    caller, ckpt = common.caller(request, key), checkpoint(choice, upload, hub_id)
    return (*_grid(caller, ckpt, seed, n, eval_mode, truncation), *_walk(caller, ckpt, seeds, frames, mode, eval_mode),
            _moved(caller, ckpt, base, eval_mode, (d1, d2, d3, d4, d5)), *_terms(caller, ckpt, a, b, c, eval_mode))


@common.gpu
@common.page_event(labels={"seed": "Seed"})
def everything(choice, upload, hub_id, eval_mode, seed, n, truncation, seeds, frames, mode, base, d1, d2, d3, d4, d5,
               a, b, c, key, request: gr.Request):
    """Every picture of the tab again, for the generator and BatchNorm mode now chosen (all or none:
    one refusal leaves them all as they were)."""
    return _everything(request, choice, upload, hub_id, eval_mode, seed, n, truncation, seeds, frames, mode, base,
                       d1, d2, d3, d4, d5, a, b, c, key)


@common.gpu
@common.page_event(labels={"seed": "Seed"})
def on_choice(choice, upload, hub_id, eval_mode, seed, n, truncation, seeds, frames, mode, base, d1, d2, d3, d4, d5,
              a, b, c, key, request: gr.Request):
    """A generator picked from the list: every picture again (an upload or a Hub id waits for its
    file or its Enter)."""
    if choice in (UPLOAD, HUB):
        return gr.skip()
    return _everything(request, choice, upload, hub_id, eval_mode, seed, n, truncation, seeds, frames, mode, base,
                       d1, d2, d3, d4, d5, a, b, c, key)


def picked(choice, upload, hub_id, key, request: gr.Request):
    """Show the upload / Hub id box the choice needs; start the choice's directions in the background."""
    try:
        api.warm_directions(common.caller(request, key), checkpoint(choice, upload, hub_id))
    except Exception:  # noqa: BLE001 - a bad pick is reported when it is drawn
        pass
    return gr.update(visible=choice == UPLOAD), gr.update(visible=choice == HUB)


def build(demo: gr.Blocks, key: gr.BrowserState) -> None:
    first = _first_pictures()
    with gr.Row():
        choice = gr.Dropdown(generator_choices(), value=DEFAULT, label="Generator", scale=2, min_width=240)
        upload = gr.File(label="Generator file (.safetensors or .pt)", file_types=[".safetensors", ".pt"],
                         visible=False, scale=2)
        hub_id = gr.Textbox(label="Hub id (USER/NAME), then Enter", visible=False, scale=2)
        eval_mode = gr.Checkbox(True, label="BatchNorm eval mode", info=EVAL_INFO, scale=3)
    src = [choice, upload, hub_id]
    choice.focus(refresh_generators, key, choice, api_visibility="private")
    demo.load(refresh_generators, key, choice, api_visibility="private")

    with gr.Tab("Seed grid"):
        # the picture first: the page opens on faces, phones too
        picture = gr.Image(first.get("grid"), label="Grid", type="filepath", format="png", show_label=False,
                           buttons=["download", "fullscreen"], elem_classes=["picture"])
        seeds_md = gr.Markdown(first.get("grid_text", ""))
        with gr.Row():
            seed = gr.Textbox("0", label="Seed (tile i uses seed + i), then Enter", min_width=160)
            n = gr.Slider(1, api.MAX_GRID, 64, step=1, label="Images")
            truncation = gr.Slider(0, 3, 0, step=0.05, label="Latent limit T (0: off)",
                                   info="the truncation trick: latent values outside ±T are drawn again; less "
                                        "variety, more typical faces")
            go = gr.Button("Generate", variant="primary")
        grid_in = src + [seed, n, eval_mode, truncation, key]
        go.click(grid, grid_in, [picture, seeds_md], api_visibility="private")
        seed.submit(grid, grid_in, [picture, seeds_md], api_visibility="private")
        n.release(grid, grid_in, [picture, seeds_md], api_visibility="private")
        truncation.release(grid, grid_in, [picture, seeds_md], api_visibility="private")

    with gr.Tab("Walk"):
        with gr.Row():
            keys = gr.Textbox("1, 2, 3", label="Keyframe seeds (2 or more), then Enter")
            frames = gr.Slider(2, api.MAX_FRAMES, 48, step=1, label="Frames")
            mode = gr.Radio(["slerp", "lerp"], value="slerp", label="Interpolation",
                            info="slerp keeps the latent's magnitude; lerp passes near the origin")
            walk_btn = gr.Button("Walk", variant="primary")
        walk_md = gr.Markdown(first.get("walk_text", ""))
        gr.Markdown("**Frames**, left to right, top to bottom")
        strip = gr.Image(first.get("strip"), show_label=False, type="filepath", format="png",
                         buttons=["fullscreen"], elem_classes=["picture"])
        with gr.Row():
            with gr.Column(min_width=200):
                gr.Markdown("**The walk** as a GIF (4x, nearest neighbour)")
                gif = gr.Image(first.get("gif"), show_label=False, type="filepath", buttons=["download"],
                               elem_classes=["picture"])
            with gr.Column(min_width=200):
                t = gr.Slider(0, 1, 0, step=0.005, label="Scrub along the walk")
                live = gr.Image(first.get("at_t"), show_label=False, type="filepath", format="png", buttons=[],
                                elem_classes=["picture"])
        walk_in = src + [keys, frames, mode, eval_mode, key]
        walk_out = [strip, gif, t, live, walk_md]
        walk_btn.click(walk, walk_in, walk_out, api_visibility="private")
        keys.submit(walk, walk_in, walk_out, api_visibility="private")
        t.input(scrub, src + [keys, t, mode, eval_mode, key], live, trigger_mode="always_last",
                show_progress="hidden", queue=False, api_visibility="private")

    with gr.Tab("Your image"):
        gr.Markdown("Upload a picture: the generator's closest image is found by optimising its latent "
                    "(projection), then you can walk from it to any seed.")
        with gr.Row():
            your = gr.Image(label="Your image", type="filepath", sources=["upload"], height=256)
            target = gr.Image(label="As the generator sees it (4x)", type="filepath", format="png", height=256,
                              buttons=[], elem_classes=["picture"])
            recon = gr.Image(label="Its closest image (4x)", type="filepath", format="png", height=256,
                             buttons=["download"], elem_classes=["picture"])
        with gr.Row():
            steps = gr.Slider(20, 500, 300, step=10, label="Optimiser steps")
            project_btn = gr.Button("Project", variant="primary")
            cancel_btn = gr.Button("Cancel", variant="stop")
        project_md = gr.Markdown()
        z_state = gr.State([])
        with gr.Row():
            to_seed = gr.Textbox("7", label="Walk to seed", min_width=120)
            walk_frames = gr.Slider(2, api.MAX_FRAMES, 32, step=1, label="Frames")
            walk_from_btn = gr.Button("Walk from my image")
        walk_from_md = gr.Markdown()
        walk_gif = gr.Image(label="From your image to the seed (4x)", type="filepath", elem_classes=["picture"])
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
                base = gr.Textbox("0", label="Base seed, then Enter")
                sliders = [gr.Slider(-2, 2, 0, step=0.05, label=f"Direction {i + 1}") for i in range(api.N_DIRECTIONS)]
            dir_img = gr.Image(first.get("moved"), label="Result (4x)", type="filepath", format="png", show_label=False,
                               buttons=[], elem_classes=["picture"])
        move_in = src + [base, eval_mode] + sliders + [key]
        for s in sliders:
            s.input(move, move_in, dir_img, trigger_mode="always_last", show_progress="hidden", queue=False,
                    api_visibility="private")
        base.submit(move, move_in, dir_img, api_visibility="private")

    with gr.Tab("Arithmetic"):
        gr.Markdown("Each term is the mean latent of a few seeds, as in the paper's Figure 7: A − B + C.")
        with gr.Row():
            a = gr.Textbox("1 2 3", label="A seeds", min_width=100)
            b = gr.Textbox("4 5 6", label="B seeds", min_width=100)
            c = gr.Textbox("7 8 9", label="C seeds", min_width=100)
            go_ar = gr.Button("A − B + C", variant="primary", min_width=100)
        with gr.Row():
            terms = []
            for i, caption in enumerate(("mean of A", "− mean of B", "+ mean of C", "= A − B + C")):
                with gr.Column(min_width=90):
                    terms.append(gr.Image(first.get("terms", [None] * 4)[i], show_label=False, type="filepath",
                                          format="png", buttons=[], elem_classes=["picture"]))
                    gr.Markdown(f"**{caption}**")
        ar_in = src + [a, b, c, eval_mode, key]
        go_ar.click(arithmetic, ar_in, terms, api_visibility="private")
        for box in (a, b, c):
            box.submit(arithmetic, ar_in, terms, api_visibility="private")

    # a new generator or BatchNorm mode draws every picture of the tab again
    all_in = src + [eval_mode, seed, n, truncation, keys, frames, mode, base, *sliders, a, b, c, key]
    all_out = [picture, seeds_md, *walk_out, dir_img, *terms]
    redraw = dict(api_visibility="private", trigger_mode="always_last")
    choice.change(picked, src + [key], [upload, hub_id], api_visibility="private")
    choice.input(on_choice, all_in, all_out, **redraw)
    eval_mode.input(everything, all_in, all_out, **redraw)
    upload.upload(everything, all_in, all_out, **redraw)
    hub_id.submit(everything, all_in, all_out, **redraw)


@common.gpu
@common.page_event
def project_image(choice, upload, hub_id, image, steps, key, request: gr.Request, progress=gr.Progress()):
    """Your image into the latent space: the target, the reconstruction, and the latent kept for a walk."""
    if not image:
        raise common.Refused("upload an image to project first")
    who, ckpt = common.caller(request, key), checkpoint(choice, upload, hub_id)
    picture = common.upload(image)

    def call(should_stop, on_step):
        return api.project(who, ckpt, picture, steps=steps, restarts=4, progress=on_step, should_stop=should_stop)

    r = yield from common.cancellable(call, progress, outputs=4)
    text = (f"PSNR {r.psnr:.1f} dB after {r.steps} steps × {r.restarts} restarts ({r.how}). "
            "Walk from it below; scripts get the latent itself from /project.")
    yield common.png(_big(r.target), "target.png"), common.png(_big(r.reconstruction), "reconstruction.png"), text, r.z


@common.gpu
@common.page_event(labels={"seeds": "Walk to seed", "frames": "Frames"})
def walk_from(choice, upload, hub_id, z, to_seed, frames, eval_mode, key, request: gr.Request):
    if not z:
        raise common.Refused("project an image first: the walk starts at its latent")
    w = api.interpolate(common.caller(request, key), checkpoint(choice, upload, hub_id), seeds=str(to_seed),
                        frames=frames, eval_mode=eval_mode, start=z)
    return common.gif(w.big(), "walk.gif"), w.text


def _first_pictures() -> dict:
    """Every picture of the tab from the bundled faces generator, so the page opens on faces (and no
    sub-tab opens blank)."""
    try:
        who = api.LOCAL
        g, text = _grid(who, DEFAULT, 0, 64, True, 0)
        strip, gif, _, at_t, walk_text = _walk(who, DEFAULT, "1, 2, 3", 48, "slerp", True)
        return {"grid": g, "grid_text": text, "strip": strip, "gif": gif, "at_t": at_t, "walk_text": walk_text,
                "moved": _moved(who, DEFAULT, 0, True, (0, 0, 0, 0, 0)), "terms": _terms(who, DEFAULT, "1 2 3",
                                                                                       "4 5 6", "7 8 9", True)}
    except Exception:  # noqa: BLE001 - a checkout without the bundled generator still builds the page
        return {}
