"""Train tab: start, stop and resume a worker process, and follow its run directory live.

`start` validates the data in the request (which also fills the decode cache the worker then
reads), copies uploads into the run so it stays resumable after Gradio cleans its temp files,
and hands over to the Supervisor. `follow` streams what the run directory says until the run
ends; the page calls it on load too, which is how a reload re-attaches.
"""
from __future__ import annotations

import os
import shutil
import time

import gradio as gr
import pandas as pd

from .. import data as datamod
from ..config import TrainConfig
from ..errors import UserError
from ..runs import ENDED, RunDir
from ..worker import Supervisor
from . import common

SUPERVISOR = Supervisor()
UPLOAD = "Uploaded images or zip"
DATA_CHOICES = {"Bundled faces (10,000 cartoon faces)": "faces", "Bundled emoji (1,401)": "emoji",
                UPLOAD: None, "CelebA (torchvision download)": "celeba"}


def _data_source(data_choice, files, run: RunDir) -> str:
    if data_choice not in DATA_CHOICES:
        raise gr.Error(f"unknown data choice {str(data_choice)[:80]!r}")
    if data_choice == UPLOAD:
        return common.stage_uploads(files, run.data_dir, run.data_zip, "upload some images (or one .zip) first")
    return DATA_CHOICES[data_choice]


def start(data_choice, files, epochs, batch_size, image_size, half, flip, lr, beta1, seed, device, max_images,
          progress=gr.Progress()):
    busy = SUPERVISOR.active()
    if busy is not None:
        raise gr.Error(f"a training is already running ({busy.name}); stop it first or wait for it")
    run = SUPERVISOR.new_run_dir()
    try:
        src = _data_source(data_choice, files, run)
        cfg = TrainConfig.coerce({"data": src, "epochs": epochs, "batch_size": batch_size, "image_size": image_size,
                                  "flip": flip, "lr": lr, "beta1": beta1, "seed": seed, "device": device,
                                  "max_images": int(float(max_images or 0)) or None,
                                  **({"data_root": "data"} if src == "celeba" else {})})
        cfg = cfg.half() if half else cfg
        progress(0.2, desc="reading the images")
        _, report = datamod.load(cfg.data, cfg.image_size, data_root=cfg.data_root, max_images=cfg.max_images,
                                 channels=cfg.nc)
        progress(0.9, desc="starting the worker")
        SUPERVISOR.start(cfg, run)
    except UserError as e:
        shutil.rmtree(run.path, ignore_errors=True)
        raise gr.Error(str(e)) from None
    except BaseException:
        shutil.rmtree(run.path, ignore_errors=True)
        raise
    note = f"Started **{run.name}** on {report.summary()}."
    return note, run.name


def stop():
    run = SUPERVISOR.active()
    if run is None:
        return "Nothing is running."
    final = SUPERVISOR.stop(run)
    return f"**{run.name}**: {final}; its checkpoint is saved and it can be resumed."


def resume(run_name, epochs):
    run = common.run(run_name)
    if not run.last.exists():
        raise gr.Error(f"{run_name} has no checkpoint to resume from")
    try:
        cfg = TrainConfig.coerce({"epochs": epochs, **{k: v for k, v in run.read_config().items()
                                                       if k in TrainConfig.__dataclass_fields__ and k != "epochs"}})
        SUPERVISOR.start(cfg, run, resume=True)
    except UserError as e:
        raise gr.Error(str(e)) from None
    return f"Resumed **{run.name}** towards epoch {cfg.epochs}.", run.name


ON_SPACE = bool(os.environ.get("SPACE_ID"))


def _push(run_name, repo_id, private, token, local_credentials):
    from ..hub import push

    run = common.run(run_name)
    try:
        url = push(run.path, (repo_id or "").strip(), private=bool(private), token=token,
                   local_credentials=local_credentials)
    except UserError as e:
        raise gr.Error(str(e)) from None
    return f"Pushed **{run.path.name}** to [{repo_id}]({url})."


def push_as_visitor(run_name, repo_id, private, oauth_token: gr.OAuthToken | None = None):
    """On a Space: push with the signed-in visitor's own token, never the Space owner's."""
    if oauth_token is None:
        raise gr.Error("sign in with Hugging Face first: the app pushes with your account, never the server's")
    return _push(run_name, repo_id, private, oauth_token.token, local_credentials=False)


def push_locally(run_name, repo_id, private):
    """On your own machine: push with this machine's Hugging Face login (HF_TOKEN or `hf auth login`)."""
    return _push(run_name, repo_id, private, None, local_credentials=True)


def snapshot(run: RunDir) -> tuple:
    """(status markdown, loss frame, D-output frame, newest grid, GIF, alarms markdown, downloads)."""
    recs = run.read_metrics()
    steps = [r for r in recs if r.get("kind") == "step"]
    epochs = [r for r in recs if r.get("kind") == "epoch"]
    cfg = run.read_config() if run.config.exists() else {}
    st = run.state()
    def frame(pairs):
        """Long format for gr.LinePlot, typed even when empty (an untyped first frame makes the
        plot's axes categorical for good)."""
        rows = [(r["step"], float(r[k]), name) for r in steps for k, name in pairs]
        df = pd.DataFrame(rows, columns=["step", "value", "series"])
        return df.astype({"step": "int64", "value": "float64", "series": "str"}) if rows else None

    losses = frame((("loss_d", "D loss"), ("loss_g", "G loss")))
    probs = frame((("d_real", "D(x)"), ("d_fake", "D(G(z))")))
    text = f"**{run.name}** — {st}"
    if steps:
        last = steps[-1]
        total = cfg.get("steps_per_epoch", 0) * cfg.get("epochs", 0)
        left = max(total - last["step"], 0) * cfg.get("batch_size", 1) / max(last["images_per_s"], 1e-9)
        eta = f", ETA {time.strftime('%H:%M:%S', time.gmtime(left))}" if st == "running" and total else ""
        text += (f" · epoch {last['epoch']}/{cfg.get('epochs', '?')} · step {last['step']}"
                 f" · {last['images_per_s']:.0f} images/s{eta}")
    if st == "failed":
        text += f" · {run.status().get('reason', '')}"
    alarms = [a for e in epochs[-1:] for a in e.get("alarms", [])]
    alarm_md = "\n".join(f"⚠️ **{a['message']}** Try: {a['remedy']}." for a in alarms) or "No alarms."
    samples = run.sample_paths()
    files = [str(p) for p in (run.last, run.generator / "model.safetensors", run.gif) if p.exists()]
    return (text, losses, probs, str(samples[-1]) if samples else None,
            str(run.gif) if run.gif.exists() else None, alarm_md, files)


def follow(run_name):
    """Stream the run's state every second until it ends (then once more)."""
    if not run_name:
        names = common.run_names()
        if not names:
            yield ("No runs yet: choose data and press Start.",) + (None,) * 6
            return
        run_name = names[0]
    run = common.run(run_name)
    seen = None
    while True:
        key = (run.metrics.stat().st_mtime_ns if run.metrics.exists() else 0, run.status_file.stat().st_mtime_ns
               if run.status_file.exists() else 0)
        if key != seen:
            seen = key
            yield snapshot(run)
        st = run.state()
        if st in ENDED or (st == "new" and time.time() - run.path.stat().st_mtime > 120):
            yield snapshot(run)
            return
        time.sleep(1.0)


def build(demo: gr.Blocks) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            data_choice = gr.Radio(list(DATA_CHOICES), value=next(iter(DATA_CHOICES)), label="Data")
            files = gr.File(label="Images or one .zip", file_count="multiple",
                            file_types=["image", ".zip"], visible=False)
            with gr.Row():
                epochs = gr.Number(25, precision=0, label="Epochs")
                batch = gr.Number(128, precision=0, label="Batch size")
                size = gr.Dropdown([32, 64, 128], value=64, label="Image size")
            with gr.Row():
                half = gr.Checkbox(True, label="Half channels (32)", info="fewer channels: faster, "
                                   "and less prone to mode collapse on small data")
                flip = gr.Checkbox(True, label="Random horizontal flips")
            with gr.Accordion("The paper's optimiser settings", open=False):
                lr = gr.Number(2e-4, label="Learning rate")
                beta1 = gr.Number(0.5, label="Adam β1")
                seed = gr.Number(0, precision=0, label="Seed")
                device = gr.Dropdown(["auto", "cpu", "cuda"], value="auto", label="Device")
                max_images = gr.Number(0, precision=0, label="Use only the first N images (0: all)")
            with gr.Row():
                start_btn = gr.Button("Start", variant="primary")
                stop_btn = gr.Button("Stop", variant="stop")
            with gr.Row():
                run_name = gr.Dropdown(common.run_names(), label="Run", allow_custom_value=True, scale=3)
                resume_btn = gr.Button("Resume", scale=1)
            note = gr.Markdown()
            with gr.Accordion("Share a run on the Hugging Face Hub", open=False):
                if ON_SPACE:
                    gr.LoginButton()
                else:
                    gr.Markdown("Pushes with this machine's Hugging Face login (`HF_TOKEN` or "
                                "`hf auth login`); on a Space, visitors sign in with their own account.")
                repo_id = gr.Textbox(label="Repository (USER/NAME)")
                private = gr.Checkbox(False, label="Private")
                push_btn = gr.Button("Push generator, samples, GIF and model card")
                pushed = gr.Markdown()
        with gr.Column(scale=2):
            status = gr.Markdown("No run yet.")
            with gr.Row():
                loss_plot = gr.LinePlot(x="step", y="value", color="series", title="Losses", height=240)
                prob_plot = gr.LinePlot(x="step", y="value", color="series", title="Discriminator outputs",
                                        y_lim=[0, 1], height=240)
            with gr.Row():
                grid = gr.Image(label="Newest fixed-noise grid", type="filepath")
                gif = gr.Image(label="Progress GIF", type="filepath")
            alarms = gr.Markdown()
            downloads = gr.File(label="Downloads: checkpoint, generator (safetensors), GIF", file_count="multiple")
    data_choice.change(lambda c: gr.update(visible=c == UPLOAD), data_choice, files,
                       api_visibility="private")
    outs = [status, loss_plot, prob_plot, grid, gif, alarms, downloads]
    (start_btn.click(start, [data_choice, files, epochs, batch, size, half, flip, lr, beta1, seed, device,
                             max_images], [note, run_name], api_name="train")
     .success(follow, run_name, outs, concurrency_limit=None, api_name="follow_started", api_visibility="private"))
    stop_btn.click(stop, None, note, api_name="stop")
    push_btn.click(push_as_visitor if ON_SPACE else push_locally, [run_name, repo_id, private], pushed,
                   api_name="push")
    (resume_btn.click(resume, [run_name, epochs], [note, run_name], api_name="resume")
     .success(follow, run_name, outs, concurrency_limit=None, api_name="follow_resumed", api_visibility="private"))
    run_name.focus(lambda: gr.update(choices=common.run_names()), None, run_name, api_visibility="private")
    run_name.input(follow, run_name, outs, concurrency_limit=None, api_name="follow_picked", api_visibility="private")
    # a page (re)load follows the newest run: this is how a reload re-attaches to a running training
    demo.load(follow, run_name, outs, api_name="follow", concurrency_limit=None)
