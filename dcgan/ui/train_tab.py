"""Train tab: start, stop and resume a worker process, follow it live, compare runs, and the
architecture table of the chosen settings.

`train` validates the data in the request (which also fills the decode cache the worker then
reads), copies uploads into the run so it stays resumable after Gradio cleans its temp files, and
hands over to the Supervisor; it returns the run's name, which `follow` (ui/live.py) streams.
Every public function here is an API endpoint (and an MCP tool) with named, defaulted and
described parameters. The form maps onto TrainConfig's fields; no training logic lives here.
"""
from __future__ import annotations

import os
import shutil

import gradio as gr

from .. import data as datamod
from ..config import TrainConfig
from ..errors import UserError
from ..models import ModelConfig
from ..summary import markdown as summary_markdown
from ..summary import table as summary_table
from ..worker import Supervisor
from . import common, compare_view, live

SUPERVISOR = Supervisor()
FACES, EMOJI, UPLOAD, HUB_DATA, CELEBA = ("Bundled faces (10,000 cartoon faces)", "Bundled emoji (1,401)",
                                         "Uploaded images or zip", "Hugging Face dataset (hf:OWNER/NAME)",
                                         "CelebA (local, torchvision or Hub copy)")
DATA_CHOICES = {FACES: "faces", EMOJI: "emoji", UPLOAD: None, HUB_DATA: None, CELEBA: "celeba"}
AUGMENT_ALL = "color,translation,cutout"
ON_SPACE = bool(os.environ.get("SPACE_ID"))


def _data_source(data, files, hub_dataset, run) -> str:
    if data not in DATA_CHOICES:
        raise gr.Error(f"data must be one of: {', '.join(DATA_CHOICES)}")
    if data == UPLOAD:
        return common.stage_uploads(files, run.data_dir, run.data_zip, "upload some images (or one .zip) first")
    if data == HUB_DATA:
        name = str(hub_dataset or "").strip()
        return name if name.startswith("hf:") else f"hf:{name}"
    return DATA_CHOICES[data]


@common.user_errors
def train(data: str = FACES, files: list[str] | None = None, epochs: int = 25, batch_size: int = 128,
          image_size: int = 64, half: bool = True, flip: bool = True, lr: float = 2e-4, beta1: float = 0.5,
          seed: int = 0, device: str = "auto", max_images: int = 0, hub_dataset: str | None = None, augment: bool = False,
          grayscale: bool = False, precision: str = "auto", tensorboard: bool = False,
          progress=gr.Progress(track_tqdm=True)):
    """Start training a DCGAN in a background worker (one training at a time); returns the run's name.

    Args:
        data: "Bundled faces (10,000 cartoon faces)", "Bundled emoji (1,401)", "Uploaded images or zip"
            (with files), "Hugging Face dataset (hf:OWNER/NAME)" (with hub_dataset) or "CelebA (local,
            torchvision or Hub copy)".
        files: images or one .zip, when data is "Uploaded images or zip".
        epochs: epochs to train.
        batch_size: images per step (the paper: 128).
        image_size: 32, 64 or 128.
        half: half the channels of G and D (32 instead of the paper's 64): faster, and the blog's fix for collapse.
        flip: random horizontal flips of the real images.
        lr: Adam learning rate (the paper: 0.0002).
        beta1: Adam beta1 (the paper: 0.5).
        seed: seeds everything random in the run.
        device: "auto", "cpu" or "cuda".
        max_images: use only the first N images; 0 uses all.
        hub_dataset: OWNER/NAME of a Hugging Face image dataset, when data is the Hub choice.
        augment: differentiable augmentation (color, translation, cutout) for small datasets.
        grayscale: train on one channel (luminance) instead of RGB.
        precision: "auto" (bf16 where the hardware has it), "fp32" or "bf16".
        tensorboard: also log to TensorBoard event files in the run directory.

    Returns:
        A note saying what started, and the run's name (pass it to /follow, /stop, /resume, /compare).
    """
    busy = SUPERVISOR.active()
    if busy is not None:
        raise gr.Error(f"a training is already running ({busy.name}); stop it first or wait for it")
    run = SUPERVISOR.new_run_dir()
    try:
        src = _data_source(data, files, hub_dataset, run)
        values = {"data": src, "epochs": epochs, "batch_size": batch_size, "image_size": image_size, "flip": flip,
                  "lr": lr, "beta1": beta1, "seed": common.seed(seed), "device": device, "precision": precision,
                  "max_images": common.number(max_images or 0, "max_images", 0, 10 ** 9, integer=True) or None,
                  "augment": AUGMENT_ALL if augment else "none", "nc": 1 if grayscale else 3,
                  "track": "tensorboard" if tensorboard else "", **({"data_root": "data"} if src == "celeba" else {})}
        cfg = TrainConfig.coerce(values)
        cfg = cfg.half() if half else cfg
        progress(0.05, desc="reading the images")
        _, report = datamod.load(cfg.data, cfg.image_size, data_root=cfg.data_root, max_images=cfg.max_images,
                                 channels=cfg.nc, progress=lambda done, total: progress(
                                     0.05 + 0.85 * done / max(total, 1), desc=f"decoding images {done}/{total}"))
        progress(0.9, desc="starting the worker")
        SUPERVISOR.start(cfg, run)
    except BaseException:
        shutil.rmtree(run.path, ignore_errors=True)
        raise
    return f"Started **{run.name}** on {report.summary()}.", run.name


@common.user_errors
def stop():
    """Stop the running training; it saves a checkpoint first and can be resumed.

    Returns:
        What happened, in one sentence.
    """
    run = SUPERVISOR.active()
    if run is None:
        return "Nothing is running."
    final = SUPERVISOR.stop(run)
    return f"**{run.name}**: {final}; its checkpoint is saved and it can be resumed."


@common.user_errors
def resume(run_name: str | None = None, epochs: int = 25):
    """Continue a stopped, finished or interrupted run until it has trained `epochs` epochs in total.

    Args:
        run_name: the run's name; empty resumes the newest run.
        epochs: the total number of epochs to reach.

    Returns:
        A note, and the run's name.
    """
    run = common.run(run_name or (common.run_names() or [None])[0])
    if not run.last.exists():
        raise gr.Error(f"{run.name} has no checkpoint to resume from")
    saved = {k: v for k, v in run.read_config().items() if k in TrainConfig.__dataclass_fields__}
    cfg = TrainConfig.coerce({**saved, "epochs": epochs})
    SUPERVISOR.start(cfg, run, resume=True)
    return f"Resumed **{run.name}** towards epoch {cfg.epochs}.", run.name


@common.user_errors
def runs():
    """List the training runs and their status, newest first.

    Returns:
        One record per run: name, state (running, finished, stopped, failed, interrupted, new), epoch
        reached, epochs asked for, data, width, flips, augmentation, the first alarm and the best FID.
    """
    from .. import compare as cmp

    out = []
    for r in common.list_runs():
        cfg = r.read_config() if r.config.exists() else {}
        view = cmp.load([r.path])[0] if r.config.exists() else None
        last = view.epochs[-1] if view and view.epochs else {}
        out.append({"name": r.name, "state": r.state(), "epoch": last.get("epoch", 0), "epochs": cfg.get("epochs"),
                    "data": cfg.get("data"), "ngf": cfg.get("ngf"), "ndf": cfg.get("ndf"), "flip": cfg.get("flip"),
                    "augment": cfg.get("augment"), "first_alarm": view.first_alarm if view else None,
                    "best_fid": view.best_fid if view else None})
    return out


@common.user_errors
def summary(image_size: int = 64, half: bool = False, grayscale: bool = False, ngf: int = 64, ndf: int = 64,
            nz: int = 100):
    """The paper's architecture table for these settings: every layer of G and D with its kernel,
    stride, padding, output shape and parameters, and the totals.

    Args:
        image_size: 32, 64 or 128.
        half: halve ngf and ndf (the blog's half channels).
        grayscale: one image channel instead of three.
        ngf: generator width (the paper: 64).
        ndf: discriminator width (the paper: 64).
        nz: latent size (the paper: 100).

    Returns:
        The table as Markdown, and as JSON ({"generator": {"layers": [...], "params": N}, "discriminator": ...}).
    """
    size = common.number(image_size, "image_size", 32, 128, integer=True)
    ngf, ndf = (common.number(x, name, 1, 1024, integer=True) for x, name in ((ngf, "ngf"), (ndf, "ndf")))
    ngf, ndf = (max(1, ngf // 2), max(1, ndf // 2)) if half else (ngf, ndf)
    t = summary_table(ModelConfig(nz=common.number(nz, "nz", 1, 4096, integer=True), ngf=ngf, ndf=ndf,
                                  nc=1 if grayscale else 3, image_size=size))
    return summary_markdown(t), t


def _push(run_name, repo_id, private, token, local_credentials):
    from ..hub import push

    run = common.run(run_name)
    try:
        url = push(run.path, str(repo_id or "").strip(), private=bool(private), token=token,
                   local_credentials=local_credentials)
    except UserError as e:
        raise gr.Error(str(e)) from None
    return f"Pushed **{run.name}** to [{repo_id}]({url})."


@common.user_errors
def push_as_visitor(run_name: str | None = None, repo_id: str | None = None, private: bool = False,
                    oauth_token: gr.OAuthToken | None = None):
    """On a Space: push a run to the Hub with the signed-in visitor's own token, never the Space owner's.

    Args:
        run_name: the run to push.
        repo_id: USER/NAME of the model repository to create or update.
        private: make the repository private.
    """
    if oauth_token is None:
        raise gr.Error("sign in with Hugging Face first: the app pushes with your account, never the server's")
    return _push(run_name, repo_id, private, oauth_token.token, local_credentials=False)


@common.user_errors
def push_locally(run_name: str | None = None, repo_id: str | None = None, private: bool = False):
    """On your own machine: push a run's generator, samples, GIF and model card to the Hub with this
    machine's Hugging Face login (HF_TOKEN or `hf auth login`).

    Args:
        run_name: the run to push.
        repo_id: USER/NAME of the model repository to create or update.
        private: make the repository private.
    """
    return _push(run_name, repo_id, private, None, local_credentials=True)


def build(demo: gr.Blocks) -> None:
    with gr.Tab("Run"):
        _build_train(demo)
    with gr.Tab("Compare runs"):
        compare_view.build()


def _build_train(demo: gr.Blocks) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            data = gr.Radio(list(DATA_CHOICES), value=FACES, label="Data")
            files = gr.File(label="Images or one .zip", file_count="multiple", file_types=["image", ".zip"],
                            visible=False)
            hub_dataset = gr.Textbox(label="Hub dataset (OWNER/NAME)", placeholder="nielsr/CelebA-faces",
                                     visible=False)
            with gr.Row():
                epochs = gr.Number(25, precision=0, label="Epochs")
                batch = gr.Number(128, precision=0, label="Batch size")
                size = gr.Dropdown([32, 64, 128], value=64, label="Image size")
            with gr.Row():
                half = gr.Checkbox(True, label="Half channels (32)", info="fewer channels: faster, "
                                   "and less prone to mode collapse on small data")
                flip = gr.Checkbox(True, label="Random horizontal flips")
            with gr.Row():
                augment = gr.Checkbox(False, label="Small dataset? Augment",
                                      info="DiffAugment (color, translation, cutout) on all D sees")
                grayscale = gr.Checkbox(False, label="Grayscale (1 channel)")
            with gr.Accordion("The paper's optimiser settings, device, logging", open=False):
                lr = gr.Number(2e-4, label="Learning rate")
                beta1 = gr.Number(0.5, label="Adam β1")
                seed = gr.Number(0, precision=0, label="Seed")
                device = gr.Dropdown(["auto", "cpu", "cuda"], value="auto", label="Device")
                precision = gr.Radio(["auto", "fp32", "bf16"], value="auto", label="Precision",
                                     info="auto: bf16 on GPUs and on CPUs with AVX512-BF16 or AMX")
                max_images = gr.Number(0, precision=0, label="Use only the first N images (0: all)")
                tensorboard = gr.Checkbox(False, label="Log to TensorBoard (event files in the run directory)")
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
            outs = live.panel()
    with gr.Accordion("Architecture: the paper's table for these settings (image size, half channels, grayscale)",
                      open=False):
        arch = gr.Markdown(summary(64, True, False)[0])
        arch_json = gr.JSON(visible=False)
    data.change(lambda c: (gr.update(visible=c == UPLOAD), gr.update(visible=c == HUB_DATA)), data,
                [files, hub_dataset], api_visibility="private")
    for widget, key in ((size, "size"), (half, "half"), (grayscale, "grayscale")):  # private names: /summary stays free
        widget.change(summary, [size, half, grayscale], [arch, arch_json], api_name=f"summary_on_{key}",
                      api_visibility="private")
    api_summary = gr.Button(visible=False)  # the /summary endpoint, with the paper's widths by default
    api_summary.click(summary, [gr.Number(64, visible=False), gr.Checkbox(False, visible=False),
                                gr.Checkbox(False, visible=False), gr.Number(64, visible=False),
                                gr.Number(64, visible=False), gr.Number(100, visible=False)],
                      [arch, arch_json], api_name="summary")
    form = [data, files, epochs, batch, size, half, flip, lr, beta1, seed, device, max_images, hub_dataset, augment,
            grayscale, precision, tensorboard]
    (start_btn.click(train, form, [note, run_name], api_name="train")
     .success(live.follow, run_name, outs, concurrency_limit=None, api_name="follow_started", api_visibility="private"))
    stop_btn.click(stop, None, note, api_name="stop")
    push_btn.click(push_as_visitor if ON_SPACE else push_locally, [run_name, repo_id, private], pushed,
                   api_name="push")
    (resume_btn.click(resume, [run_name, epochs], [note, run_name], api_name="resume")
     .success(live.follow, run_name, outs, concurrency_limit=None, api_name="follow_resumed", api_visibility="private"))
    runs_btn = gr.Button(visible=False)
    runs_btn.click(runs, None, gr.JSON(visible=False), api_name="runs")
    run_name.focus(lambda: gr.update(choices=common.run_names()), None, run_name, api_name="list_run_names",
                   api_visibility="private")
    run_name.input(live.follow, run_name, outs, concurrency_limit=None, api_name="follow_picked", api_visibility="private")
    # a page (re)load follows the newest run: this is how a reload re-attaches to a running training
    demo.load(live.follow, run_name, outs, api_name="follow", concurrency_limit=None)
