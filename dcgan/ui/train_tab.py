"""Train tab (page only): the form built from TrainConfig, Start / Stop / Resume, the live run, the
runs compared, the architecture table.

Every event here is private and calls the same use cases as the public API (dcgan.api); the
form's widgets come from settings_form, so a new setting appears here with no edit. The run
picker and the form follow the caller's runs: on page load, on focus, after Start.
"""
from __future__ import annotations

import os

import gradio as gr
import torch

from .. import api
from ..api.limits import Limits
from ..api.training import EXAMPLE
from ..config import TrainConfig
from . import common, compare_view, live, settings_form

DATA_CHOICES = [("Bundled faces (10,000 cartoon faces)", "faces"), ("Bundled emoji (1,401)", "emoji"),
                ("Uploaded images or zip", "upload"), ("Hugging Face dataset (hf:OWNER/NAME)", "hf"),
                ("CelebA (local, torchvision or Hub copy)", "celeba")]


def hardware_note() -> str:
    """Where a run started here trains, said before Start."""
    if torch.cuda.is_available():
        where = f"the GPU ({torch.cuda.get_device_name(0)})"
    else:
        where = f"the CPU ({max(1, (os.cpu_count() or 2) - 1)} of {os.cpu_count()} threads)"
        if os.environ.get("SPACES_ZERO_GPU"):
            where += "; on ZeroGPU the training worker gets no GPU (one is lent only inside a request)"
    note = f"Runs train in a background worker on {where}. One training at a time."
    return note + (" " + Limits.from_env().text() if common.public_mode() else "")


def start_event(form: dict, data, files, hub_dataset, half, key):
    """The Start button's function: Gradio hands it {component: value} of every input."""

    @common.page_event
    def start(values: dict, request: gr.Request, progress=gr.Progress()):
        settings = settings_form.values(TrainConfig, list(form), [values[w] for w in form.values()])
        choice = values[data]
        if choice == "hf":
            name = str(values[hub_dataset] or "").strip()
            settings["data"] = name if name.startswith("hf:") else f"hf:{name}"
        elif choice != "upload":
            settings["data"] = choice
        ups = common.uploads(values[files]) if choice == "upload" else []
        if choice == "upload" and not ups:
            raise gr.Error("upload some images (or one .zip) first")
        visitor = values[key] or (common.new_key() if common.public_mode() else "")
        started = api.train(common.caller(request, visitor), settings, uploads=ups, half=bool(values[half]),
                            progress=lambda done, total: progress(done / max(total, 1),
                                                                  desc=f"decoding images {done}/{total}"))
        return started.note, gr.update(choices=common.run_names(request, visitor), value=started.run), visitor

    return start


@common.page_event
def stop(run: str | None, key: str | None, request: gr.Request) -> str:
    return api.stop(common.caller(request, key)).note


@common.page_event
def resume(run: str | None, epochs, key: str | None, request: gr.Request):
    r = api.resume(common.caller(request, key), run or None, epochs)
    return r.note, gr.update(value=r.run)


@common.page_event
def rewind(run: str | None, continue_with: str | None, key: str | None, request: gr.Request):
    r = api.rewind(common.caller(request, key), run or None, continue_with or None)
    return r.note, gr.update(value=r.run)


@common.page_event
def copies(run: str | None, key: str | None, request: gr.Request):
    """The run's generator against its own training images: likely copies, nearest neighbours."""
    if not run:
        raise gr.Error("pick a run first")
    r = api.nearest(common.caller(request, key), run, f"run:{run}", n=64)
    words = (f"**{r.copies} of {r.n}** samples of {r.generated} look like copies of its {r.n_real:,} training images "
             f"(nearer to one than {r.threshold:.3f}, which only 1% of the training images are to their own "
             "nearest neighbour); the most suspicious first.")
    return common.png(r.picture, "nearest.png"), words


@common.page_event
def form_for(run: str | None, names: list[str], key: str | None, request: gr.Request) -> list:
    """The form's values of the followed run, "half channels" off (the run's widths are in the form
    already) and its data source picked; an example run leaves the form at the paper's defaults."""
    s = api.snapshot(common.caller(request, key), run or None)
    if s is None or not s.config or s.example:
        return [gr.update() for _ in names] + [gr.update()] * 3
    return settings_form.from_config(s.config, names) + [False, *_data_choice(str(s.config.get("data", "")))]


def _data_choice(data: str) -> list:
    """(the Data radio, the Hub dataset box) for a run's data source."""
    if data in ("faces", "demo", "emoji", "celeba"):
        return [gr.update(value="faces" if data == "demo" else data), gr.update()]
    if data.startswith("hf:"):
        return [gr.update(value="hf"), gr.update(value=data[3:], visible=True)]
    return [gr.update(value="upload"), gr.update()]


@common.page_event
def push(run: str | None, repo_id: str, private: bool, key: str | None, request: gr.Request,
         oauth_token: gr.OAuthToken | None = None) -> str:
    p = api.push(common.caller(request, key), run or "", repo_id, private,
                 token=oauth_token.token if oauth_token is not None else None)
    return f"Pushed **{p.run}** to [{p.repo_id}]({p.url})."


@common.page_event
def architecture(size, half, grayscale, upsample="transposed") -> str:
    return api.summary(size, 64, 64, 100, 1 if grayscale else 3, half, upsample).markdown


def _rewind_label(run: str | None, words: str | None, key: str | None, request: gr.Request):
    s = api.snapshot(common.caller(request, key), run or None)
    return gr.update(value=s.rewind.label(words)) if s is not None and s.rewind else gr.update()


def build(demo: gr.Blocks, key: gr.BrowserState) -> None:
    with gr.Tab("Run"):
        _build_run(demo, key)
    with gr.Tab("Compare runs"):
        compare_view.build(demo, key)


def _build_run(demo: gr.Blocks, key: gr.BrowserState) -> None:
    public = common.public_mode()
    with gr.Row():
        with gr.Column(scale=1, min_width=320):
            data = gr.Radio(DATA_CHOICES, value="faces", label="Data")
            files = gr.File(label="Images or one .zip", file_count="multiple", file_types=["image", ".zip"],
                            visible=False)
            hub_dataset = gr.Textbox(label="Hub dataset (OWNER/NAME)", placeholder="nielsr/CelebA-faces",
                                     visible=False)
            half = gr.Checkbox(True, label="Half channels", info="ngf and ndf halved (32 with the paper's 64): "
                               "faster, and less prone to mode collapse on small data")
            form = settings_form.build(TrainConfig, public=public)
            gr.Markdown(hardware_note())
            with gr.Row():
                start_btn = gr.Button("Start", variant="primary")
                stop_btn = gr.Button("Stop", variant="stop")
            with gr.Row():
                run_name = gr.Dropdown([], label="Run", allow_custom_value=True, scale=3, min_width=220)
                resume_btn = gr.Button("Resume", scale=1, min_width=90)
            note = gr.Markdown()
            with gr.Accordion("Share a run on the Hugging Face Hub", open=False):
                if os.environ.get("SPACE_ID"):  # Hugging Face's sign-in exists only on a Space
                    gr.LoginButton()
                elif public:
                    gr.Markdown("Pushing needs a Hugging Face sign-in, which this app offers only on a Space.")
                else:
                    gr.Markdown("Pushes with this machine's Hugging Face login (`HF_TOKEN` or "
                                "`hf auth login`); on a Space, visitors sign in with their own account.")
                repo_id = gr.Textbox(label="Repository (USER/NAME)")
                private = gr.Checkbox(False, label="Private")
                push_btn = gr.Button("Push generator, samples, GIF and model card")
                pushed = gr.Markdown()
        with gr.Column(scale=2):
            outs = live.panel()
            with gr.Accordion("Did it copy its training images? (after the first epoch)", open=False):
                copies_btn = gr.Button("Find the nearest training images of 64 samples")
                copies_md = gr.Markdown()
                copies_img = gr.Image(label="Samples (left) beside their nearest training images", type="filepath",
                                      format="png")
    with gr.Accordion("Architecture: the paper's table for these settings", open=False):
        arch = gr.Markdown(architecture(64, True, False))
    names = list(form)
    widgets = list(form.values())
    names_state = gr.State(names)
    data.change(lambda c: (gr.update(visible=c == "upload"), gr.update(visible=c == "hf")), data,
                [files, hub_dataset], api_visibility="private")
    size, nc, up = form["image_size"], form["nc"], form["upsample"]
    for w in (size, half, nc, up):
        w.change(lambda s, h, c, u: architecture(s, h, c == 1, u), [size, half, nc, up], arch,
                 api_visibility="private")
    (start_btn.click(start_event(form, data, files, hub_dataset, half, key),
                     {data, files, hub_dataset, half, key, *widgets}, [note, run_name, key], api_visibility="private")
     .success(live.follow, [run_name, key], outs, concurrency_limit=None, api_visibility="private"))
    stop_btn.click(stop, [run_name, key], note, api_visibility="private")
    (resume_btn.click(resume, [run_name, form["epochs"], key], [note, run_name], api_visibility="private")
     .success(live.follow, [run_name, key], outs, concurrency_limit=None, api_visibility="private"))
    push_btn.click(push, [run_name, repo_id, private, key], pushed, api_visibility="private")
    copies_btn.click(copies, [run_name, key], [copies_img, copies_md], api_visibility="private")
    rewind_with, rewind_btn = outs[-2], outs[-1]
    rewind_with.input(_rewind_label, [run_name, rewind_with, key], rewind_btn, api_visibility="private")
    (rewind_btn.click(rewind, [run_name, rewind_with, key], [note, run_name], api_visibility="private")
     .success(live.follow, [run_name, key], outs, concurrency_limit=None, api_visibility="private"))
    run_name.focus(common.refresh_runs, key, run_name, api_visibility="private")
    (run_name.input(live.follow, [run_name, key], outs, concurrency_limit=None, api_visibility="private")
     .then(form_for, [run_name, names_state, key], widgets + [half, data, hub_dataset], api_visibility="private"))

    def on_load(key, request: gr.Request):
        runs = api.runs(common.caller(request, key))
        own = [r.name for r in runs if r.state != "example"]
        return gr.update(choices=[r.name for r in runs], value=own[0] if own else EXAMPLE)

    # a page (re)load lists the caller's runs, follows the newest (re-attaching to a running one), or
    # the example of a healthy run when there is none yet, and shows its settings in the form
    (demo.load(on_load, key, run_name, api_visibility="private")
     .then(form_for, [run_name, names_state, key], widgets + [half, data, hub_dataset], api_visibility="private")
     .then(live.follow, [run_name, key], outs, concurrency_limit=None, api_visibility="private"))
