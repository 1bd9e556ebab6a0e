"""Evaluate tab: FID, KID and precision/recall between real images and generated ones, with a report.

The real side is uploaded images or a zip, a run's training set, the bundled demo set, or saved
.npz statistics; the fake side is a generator sampled N times or uploaded images. Without FID
weights the tab says how to provide them instead of failing.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import gradio as gr

from .. import data as datamod
from ..errors import WeightsUnavailable
from ..images import grid, to_pil, to_uint8
from ..inception import weights_path
from ..latent import sample, z_from_seeds
from ..metrics import Evaluator, compare, report_markdown
from . import common

# the real side: what the radio shows -> what it means
REAL_UPLOAD, REAL_RUN, REAL_FACES, REAL_EMOJI, REAL_NPZ = (
    "Uploaded images or zip", "Training set of a run", "Bundled faces dataset", "Bundled emoji dataset",
    "Saved statistics (.npz)")
REAL = [REAL_UPLOAD, REAL_RUN, REAL_FACES, REAL_EMOJI, REAL_NPZ]
REAL_ALIASES = {"Bundled demo dataset": REAL_FACES}  # the label before the faces became the demo
FAKE_GENERATOR, FAKE_UPLOAD = "A generator", "Uploaded images or zip"
FAKE = [FAKE_GENERATOR, FAKE_UPLOAD]


def weights_note() -> str:
    try:
        return f"FID weights: `{weights_path(download=False).name}`."
    except WeightsUnavailable as e:
        return f"⚠️ {e} On a machine with internet access they are downloaded on first use."


def _preview(spec: str | None, g=None, n: int = 32):
    """uint8 (n, 3, 64, 64) of a source, for the real-vs-fake grids."""
    if g is not None:
        return to_uint8(sample(g, z_from_seeds(range(n), g.nz)))
    if spec is None:
        return None
    x, _ = datamod.load(spec, 64, max_images=n, use_cache=False)
    return x


SIZE_AUTO, SIZE_NATIVE = "the generator's size, prepared as training does", "native size, as pytorch-fid"
SIZES = [SIZE_AUTO, SIZE_NATIVE, "32", "64", "128"]


@common.gpu
@common.user_errors
def fid(real: str = REAL_FACES, real_files: list[str] | None = None, real_run: str | None = None,
        real_npz: str | None = None, fake: str = FAKE_GENERATOR, generator: str = common.DEMO,
        generator_file: str | None = None, hub_id: str | None = None, n: int = 2048,
        fake_files: list[str] | None = None, dims: int = 2048, resize: str = "legacy", fid_inf: bool = False,
        image_size: str = SIZE_AUTO, pr_features: str = "inception", progress=gr.Progress()):
    """FID between real and generated images, with its mean and covariance terms, optional FID∞, KID,
    precision/recall, the protocol used and honest warnings; plus sample grids and a report file.

    Args:
        real: the real side: "Bundled faces dataset", "Bundled emoji dataset", "Uploaded images or zip"
            (with real_files), "Training set of a run" (with real_run) or "Saved statistics (.npz)" (with real_npz).
        real_files: real images or one .zip, for "Uploaded images or zip".
        real_run: the run whose training data are the real side, for "Training set of a run".
        real_npz: a pytorch-fid .npz with mu and sigma, for "Saved statistics (.npz)".
        fake: the generated side: "A generator" (sampled n times) or "Uploaded images or zip" (with fake_files).
        generator: which generator, as in /generate: "Bundled demo generator", "Run: NAME", ...
        generator_file: a .safetensors or .pt generator, when generator is "Uploaded file".
        hub_id: USER/NAME on the Hugging Face Hub, when generator is "Hugging Face Hub id".
        n: how many images to sample from the generator (2 to 50000; papers use 10000-50000).
        fake_files: generated images or one .zip, for "Uploaded images or zip".
        dims: Inception feature block: 2048 (the standard pool3), 768, 192 or 64.
        resize: "legacy" (bilinear, as pytorch-fid and papers) or "clean" (PIL bicubic, as clean-fid).
        fid_inf: also FID∞, FID extrapolated to infinitely many images (honest at small N).
        image_size: how real images are read: the generator's size (as training prepared them), native
            size (as pytorch-fid), or 32/64/128.
        pr_features: precision/recall feature space: "inception" or "vgg16" (as Kynkäänniemi et al.).

    Returns:
        The report as Markdown, as JSON, real-vs-generated grids, and the report files (JSON + Markdown).
    """
    tmp = common.scratch_dir("eval-")
    try:
        return _fid(tmp, REAL_ALIASES.get(real, real), real_files, real_run, real_npz, fake, generator,
                    generator_file, hub_id, common.number(n, "n", 2, 50_000, integer=True), fake_files,
                    common.number(dims, "dims", 64, 2048, integer=True), resize, bool(fid_inf), image_size,
                    pr_features, progress)
    except WeightsUnavailable as e:
        which = "VGG-16" if "VGG-16" in str(e) else "FID"
        return f"### {which} weights are missing\n{e}", None, None, None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _real_spec(real_kind, real_files, real_run, real_npz, tmp: Path) -> tuple[str, bool]:
    """(data spec, whether its statistics may be cached)."""
    if real_kind == REAL_UPLOAD:
        return common.stage_uploads(real_files, tmp / "real", tmp / "real.zip",
                                    "upload images (or one .zip) for this side"), False
    if real_kind == REAL_RUN:
        return common.run(real_run).read_config()["data"], True
    if real_kind in (REAL_FACES, REAL_EMOJI):
        return ("faces" if real_kind == REAL_FACES else "emoji"), True
    if real_kind == REAL_NPZ:
        if not real_npz:
            raise gr.Error("upload a .npz with mu and sigma")
        spec = str(real_npz if isinstance(real_npz, str) else real_npz.name)
        if not spec.endswith(".npz"):
            raise gr.Error("statistics must be an .npz file")
        return spec, False
    raise gr.Error(f"unknown real-image source {str(real_kind)[:80]!r}")


def _size(choice, g) -> int | None:
    if choice == SIZE_NATIVE:
        return None
    if choice in (None, "", SIZE_AUTO):
        return g.image_size if g is not None else None
    return common.number(choice, "image_size", 32, 128, integer=True)


def _fid(tmp, real_kind, real_files, real_run, real_npz, fake_kind, gen_choice, gen_upload, gen_hub, n, fake_files,
         dims, resize, fid_inf, image_size, pr_features, progress):
    stage = {"name": "real"}
    ev = Evaluator(dims=dims, resize=resize, batch_size=32, pr_features=pr_features,
                   progress=lambda done, total: progress(done / max(total, 1), desc=f"features: {stage['name']}"))
    g = None
    if fake_kind == FAKE_GENERATOR:
        g = common.generator(common.resolve(gen_choice, gen_upload, gen_hub))
    elif fake_kind != FAKE_UPLOAD:
        raise gr.Error(f"unknown generated-image source {str(fake_kind)[:80]!r}")
    size = _size(image_size, g)
    real_spec, cache = _real_spec(real_kind, real_files, real_run, real_npz, tmp)
    a = ev.side(real_spec, use_cache=cache, image_size=size, channels=g.nc if g is not None and size else 3)
    stage["name"] = "generated"
    if g is not None:
        b, fake_spec = ev.generator_side(g, n), None
    else:
        fake_spec = common.stage_uploads(fake_files, tmp / "fake", tmp / "fake.zip",
                                         "upload images (or one .zip) for this side")
        b = ev.side(fake_spec, use_cache=False, image_size=size)
    rep = compare(ev, a, b, fid_inf=fid_inf)
    rep["real"] = real_spec if real_kind != REAL_UPLOAD else "uploaded images"
    rep["generated"] = gen_choice if g is not None else "uploaded images"
    real_prev = None if real_spec.endswith(".npz") else _preview(real_spec)
    previews = [(to_pil(grid(x, 8)), label) for x, label in ((real_prev, "real"), (_preview(fake_spec, g), "generated"))
                if x is not None]
    md = report_markdown(rep)
    jpath, mpath = common.scratch(".json"), common.scratch(".md")
    jpath.write_text(json.dumps(rep, indent=2))
    mpath.write_text(md)
    return md, rep, previews, [str(jpath), str(mpath)]


def build() -> None:
    gr.Markdown(weights_note())
    with gr.Row():
        with gr.Column():
            gr.Markdown("### Real images")
            real_kind = gr.Radio(REAL, value=REAL_FACES, label="Source")
            real_files = gr.File(label="Images or one .zip", file_count="multiple", file_types=["image", ".zip"],
                                 visible=False)
            real_run = gr.Dropdown(common.run_names(), label="Run", visible=False)
            real_npz = gr.File(label="Statistics (.npz)", file_types=[".npz"], visible=False)
        with gr.Column():
            gr.Markdown("### Generated images")
            fake_kind = gr.Radio(FAKE, value=FAKE_GENERATOR, label="Source")
            gen_choice = gr.Dropdown(common.generator_choices(), value=common.DEMO, label="Generator")
            gen_upload = gr.File(label="Generator file", file_types=[".safetensors", ".pt"], visible=False)
            gen_hub = gr.Textbox(label="Hub id (USER/NAME)", visible=False)
            n = gr.Number(2048, precision=0, minimum=2, label="N generated")
            fake_files = gr.File(label="Images or one .zip", file_count="multiple", file_types=["image", ".zip"],
                                 visible=False)
    with gr.Row():
        dims = gr.Dropdown([2048, 768, 192, 64], value=2048, label="Feature dims (2048 = standard pool3)")
        resize = gr.Radio(["legacy", "clean"], value="legacy", label="Resize",
                          info="legacy: bilinear like pytorch-fid and papers; clean: PIL bicubic (clean-fid)")
        size = gr.Dropdown(SIZES, value=SIZE_AUTO, label="Real images read at",
                           info="CelebA-64 FIDs compare with real images at 64×64, prepared as for training")
    with gr.Row():
        fid_inf = gr.Checkbox(False, label="Also FID∞", info="FID extrapolated to N → ∞ (Chong & Forsyth 2020): "
                              "honest at the few hundred images a CPU can afford")
        pr_features = gr.Radio(["inception", "vgg16"], value="inception", label="Precision/recall features",
                               info="vgg16: as Kynkäänniemi et al. and torch-fidelity (needs VGG-16 weights)")
        go = gr.Button("Compute FID", variant="primary")
    summary = gr.Markdown()
    with gr.Row():
        previews = gr.Gallery(label="Real vs generated", columns=2, height=360, format="png")
        with gr.Column():
            report = gr.JSON(label="Report")
            files = gr.File(label="Report (JSON + Markdown)", file_count="multiple")
    real_kind.change(lambda k: (gr.update(visible=k == REAL_UPLOAD), gr.update(visible=k == REAL_RUN,
                                                                               choices=common.run_names()),
                                gr.update(visible=k == REAL_NPZ)), real_kind, [real_files, real_run, real_npz],
                     api_visibility="private")
    fake_kind.change(lambda k: (gr.update(visible=k == FAKE_GENERATOR), gr.update(visible=k == FAKE_GENERATOR),
                                gr.update(visible=k == FAKE_UPLOAD)), fake_kind, [gen_choice, n, fake_files],
                     api_visibility="private")
    gen_choice.change(lambda c: (gr.update(visible=c == common.UPLOAD), gr.update(visible=c == common.HUB)),
                      gen_choice, [gen_upload, gen_hub], api_visibility="private")
    go.click(fid, [real_kind, real_files, real_run, real_npz, fake_kind, gen_choice, gen_upload, gen_hub, n,
                   fake_files, dims, resize, fid_inf, size, pr_features], [summary, report, previews, files],
             api_name="fid")
