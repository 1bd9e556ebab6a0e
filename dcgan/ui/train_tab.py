"""Train tab (page only): the form built from TrainConfig, Start / Stop / Resume, the training slot,
the live run, the runs compared, the architecture table.

Every event here is private and calls the same use cases as the public API (dcgan.api); the
form's widgets come from settings_form, so a new setting appears here with no edit. Start, Resume,
Rewind and picking a run each stream the run into the live panel in one event, so a refusal is one
toast and leaves every output as it was; a new stream cancels the one before. What the form shows
is what trains: "Half channels" halves the widths in the form itself.
"""
from __future__ import annotations

import os
from dataclasses import replace

import gradio as gr
import torch

from .. import api
from ..config import TrainConfig
from . import common, compare_view, settings_form, words
from .live import EMPTY, Panel, claim, stream

DATA_CHOICES = [("Bundled faces (10,000 cartoon faces)", "faces"), ("Bundled emoji (1,401)", "emoji"),
                ("Uploaded images or zip", "upload"), ("Hugging Face dataset (hf:OWNER/NAME)", "hf"),
                ("CelebA (local, torchvision or Hub copy)", "celeba")]
HALF = 32  # the widths the "Half channels" box sets: the paper's 64 halved


def hardware_note() -> str:
    """Where a run started here trains, said before Start."""
    if torch.cuda.is_available():
        where = f"the GPU ({torch.cuda.get_device_name(0)})"
    else:
        where = f"the CPU ({max(1, (os.cpu_count() or 2) - 1)} of {os.cpu_count()} threads)"
        if os.environ.get("SPACES_ZERO_GPU"):
            where += "; on ZeroGPU the training worker gets no GPU (one is lent only inside a request)"
    note = f"Runs train in a background worker on {where}. One training at a time."
    return note + (" " + words.limits(api.limits()) if common.public_mode() else "")


def slot_line(key: str | None, request: gr.Request) -> str:
    """The training slot as this visitor may know it (refreshed every few seconds)."""
    return words.slot(api.slot(common.caller(request, key)), common.public_mode())


def _followed(caller, run: str, before: int, superseded, note_for=None):
    """Yield the panel after `before` outputs left as they are, while the run changes; note_for(s),
    when given, rewrites the first of those (the note) whenever what it says changes."""
    said = None
    for s, values in stream(caller, run, superseded):
        head = tuple(gr.skip() for _ in range(before))
        note = note_for(s) if note_for is not None else None
        if note is not None and note != said:
            head = (note,) + head[1:]
            said = note
        yield head + values


def _note_for(result):
    """The note under Start as the run moves: its place and wait while it waits (counted down with
    the run view's), then no place in line once it trains."""
    def note(s):
        if s.state == "queued":
            return words.started(replace(result, queued=s.status.position or result.queued, wait_s=s.status.wait_s))
        return words.started(replace(result, queued=0, wait_s=None))
    return note


def start_event(form: dict, data, files, hub_dataset, key):
    """The Start button's function: Gradio hands it {component: value} of every input."""

    @common.page_event
    def start(values: dict, request: gr.Request, progress=gr.Progress()):
        settings = settings_form.values(TrainConfig, list(form), [values[w] for w in form.values()])
        choice = values[data]
        if choice == "hf":
            name = str(values[hub_dataset] or "").strip()
            if not name:
                raise common.Refused("type the Hub dataset's name, OWNER/NAME")
            settings["data"] = name if name.startswith("hf:") else f"hf:{name}"
        elif choice != "upload":
            settings["data"] = choice
        ups = common.uploads(values[files]) if choice == "upload" else []
        if choice == "upload" and not ups:
            raise common.Refused("upload some images (or one .zip) first")
        visitor = values[key] or (common.new_key() if common.public_mode() else "")
        caller = common.caller(request, visitor)
        started = api.train(caller, settings, uploads=ups,
                            progress=lambda done, total: progress(done / max(total, 1),
                                                                  desc=f"decoding images {done}/{total}"))
        note = words.started(started)
        yield (note, gr.update(choices=common.run_names(request, visitor), value=started.run), visitor) \
            + tuple(gr.skip() for _ in EMPTY)
        yield from _followed(caller, started.run, 3, claim(request), _note_for(started))

    return start


@common.page_event
def stop(run: str | None, key: str | None, request: gr.Request) -> str:
    return words.stopped(api.stop(common.caller(request, key), run or None))


def _continued(result, caller, request, key):
    """After Resume or Rewind: the note and the run picker, then the run streamed into the panel."""
    note = words.started(result)
    yield (note, gr.update(choices=common.run_names(request, key), value=result.run)) + tuple(
        gr.skip() for _ in EMPTY)
    yield from _followed(caller, result.run, 2, claim(request), _note_for(result))


@common.page_event
def resume(run: str | None, epochs, key: str | None, request: gr.Request):
    caller = common.caller(request, key)
    yield from _continued(api.resume(caller, run or None, epochs), caller, request, key)


@common.page_event
def rewind(run: str | None, continue_with: str | None, key: str | None, request: gr.Request):
    caller = common.caller(request, key)
    yield from _continued(api.rewind(caller, run or None, continue_with or None), caller, request, key)


def show_run_event(form: dict, half, data, hub_dataset):
    names = list(form)

    @common.page_event
    def show_run(run: str | None, key: str | None, request: gr.Request):
        """The picked run (the newest, else the example) streamed into the panel; the form shows its
        settings (an example run leaves the form at the paper's defaults)."""
        caller = common.caller(request, key)
        first = api.snapshot(caller, run or None)  # refused here, once, before any output changes
        if first is None:
            yield EMPTY + tuple(gr.skip() for _ in range(len(names) + 3))
            return
        if first.config and not first.example:
            cfg = first.config
            form_values = settings_form.from_config(cfg, names) + [
                cfg.get("ngf") == cfg.get("ndf") == HALF, *_data_choice(str(cfg.get("data", "")))]
        else:
            form_values = [gr.skip() for _ in range(len(names) + 3)]
        rest = tuple(gr.skip() for _ in form_values)
        for i, (s, values) in enumerate(stream(caller, first.name, claim(request))):
            yield values + (tuple(form_values) if i == 0 else rest)

    return show_run


def _data_choice(data: str) -> list:
    """(the Data radio, the Hub dataset box) for a run's data source."""
    if data in ("faces", "demo", "emoji", "celeba"):
        return [gr.update(value="faces" if data == "demo" else data), gr.update()]
    if data.startswith("hf:"):
        return [gr.update(value="hf"), gr.update(value=data[3:], visible=True)]
    return [gr.update(value="upload"), gr.update()]


@common.page_event
def copies(run: str | None, key: str | None, request: gr.Request):
    """The run's generator against its own training images: likely copies, nearest neighbours."""
    if not run:
        raise common.Refused("pick a run first")
    r = api.nearest(common.caller(request, key), run, f"run:{run}", n=64)
    return common.png(r.picture, "nearest.png"), words.copies(r, "its training images")


@common.page_event
def push(run: str | None, repo_id: str, private: bool, key: str | None, request: gr.Request,
         oauth_token: gr.OAuthToken | None = None) -> str:
    p = api.push(common.caller(request, key), run or "", repo_id, private,
                 token=oauth_token.token if oauth_token is not None else None)
    return f"Pushed **{p.run}** to [{p.repo_id}]({p.url})."


@common.page_event
def architecture(size, ngf, ndf, nz, channels, upsample="transposed") -> str:
    """The paper's table for the form's settings, exactly as a run started now would be built."""
    return api.summary(size, ngf, ndf, nz, channels, False, upsample).markdown


@common.page_event
def halve(half: bool, ngf, ndf):
    """Half channels ticked: the widths in the form halved (unticked: doubled back), so the form
    always shows what will train."""
    if half:
        return max(1, int(ngf or 64) // 2), max(1, int(ndf or 64) // 2)
    return int(ngf or HALF) * 2, int(ndf or HALF) * 2


def _rewind_label(run: str | None, choice: str | None, key: str | None, request: gr.Request):
    s = api.snapshot(common.caller(request, key), run or None)
    return gr.update(value=words.rewind_label(s.rewind, choice)) if s is not None and s.rewind else gr.update()


def build(demo: gr.Blocks, key: gr.BrowserState) -> None:
    with gr.Tab("Run"):
        _build_run(demo, key)
    with gr.Tab("Compare runs"):
        compare_view.build(demo, key)


def _build_run(demo: gr.Blocks, key: gr.BrowserState) -> None:
    public = common.public_mode()
    with gr.Row(elem_id="train-row"):
        with gr.Column(scale=1, min_width=320):
            data = gr.Radio(DATA_CHOICES, value="faces", label="Data")
            files = gr.File(label="Images or one .zip", file_count="multiple", file_types=["image", ".zip"],
                            visible=False)
            hub_dataset = gr.Textbox(label="Hub dataset (OWNER/NAME)", placeholder="nielsr/CelebA-faces",
                                     visible=False)
            half = gr.Checkbox(True, label="Half channels", info=f"G and D widths at {HALF} (the paper's 64 halved): "
                               "faster, and less prone to mode collapse on small data")
            form = settings_form.build(TrainConfig, public=public, widths=HALF)
            gr.Markdown(hardware_note())
            slot = gr.Markdown()
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
        with gr.Column(scale=2, elem_id="run-view"):
            panel = Panel()
            with gr.Accordion("Did it copy its training images? (after the first epoch)", open=False):
                copies_btn = gr.Button("Find the nearest training images of 64 samples")
                copies_md = gr.Markdown()
                copies_img = gr.Image(label="Samples (left) beside their nearest training images", type="filepath",
                                      format="png", elem_classes=["picture"])
    with gr.Accordion("Architecture: the paper's table for these settings", open=False):
        arch = gr.Markdown(api.summary(64, HALF, HALF).markdown)
    widgets = list(form.values())
    outs = panel.outputs
    data.change(lambda c: (gr.update(visible=c == "upload"), gr.update(visible=c == "hf")), data,
                [files, hub_dataset], api_visibility="private")
    shape = [form["image_size"], form["ngf"], form["ndf"], form["nz"], form["channels"], form["upsample"]]
    for w in shape:
        w.change(architecture, shape, arch, api_visibility="private")
    half.input(halve, [half, form["ngf"], form["ndf"]], [form["ngf"], form["ndf"]], api_visibility="private")

    show = show_run_event(form, half, data, hub_dataset)
    run_outs = outs + widgets + [half, data, hub_dataset]
    # a page (re)load lists the caller's runs, follows the newest (re-attaching to a running one), or
    # the example of a healthy run when there is none yet, and shows its settings in the form.
    # Every stream into the panel claims it (live.claim): the one before ends, so two never race.
    demo.load(slot_line, key, slot, api_visibility="private")
    streaming = dict(concurrency_limit=None, trigger_mode="multiple", api_visibility="private")
    (demo.load(on_load, key, run_name, api_visibility="private")
     .then(show, [run_name, key], run_outs, **streaming))
    start_btn.click(start_event(form, data, files, hub_dataset, key), {data, files, hub_dataset, key, *widgets},
                    [note, run_name, key, *outs], **streaming)
    resume_btn.click(resume, [run_name, form["epochs"], key], [note, run_name, *outs], **streaming)
    panel.rewind_btn.click(rewind, [run_name, panel.rewind_with, key], [note, run_name, *outs], **streaming)
    run_name.input(show, [run_name, key], run_outs, **streaming)
    stop_btn.click(stop, [run_name, key], note, api_visibility="private")
    push_btn.click(push, [run_name, repo_id, private, key], pushed, api_visibility="private")
    copies_btn.click(copies, [run_name, key], [copies_img, copies_md], api_visibility="private")
    panel.rewind_with.input(_rewind_label, [run_name, panel.rewind_with, key], panel.rewind_btn,
                            api_visibility="private")
    run_name.focus(common.refresh_runs, key, run_name, api_visibility="private")
    gr.Timer(5).tick(slot_line, key, slot, show_progress="hidden", api_visibility="private")


def on_load(key, request: gr.Request):
    runs = api.runs(common.caller(request, key))
    own = [r.name for r in runs if r.state != "example"]
    return gr.update(choices=[r.name for r in runs], value=own[0] if own else api.EXAMPLE)
