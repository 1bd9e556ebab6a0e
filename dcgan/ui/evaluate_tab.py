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
from ..errors import UserError, WeightsUnavailable
from ..images import grid, to_pil, to_uint8
from ..inception import weights_path
from ..latent import sample, z_from_seeds
from ..metrics import Evaluator, compare
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


@common.gpu
def fid(real_kind, real_files, real_run, real_npz, fake_kind, gen_choice, gen_upload, gen_hub, n, fake_files,
        dims, resize, progress=gr.Progress()):
    tmp = common.scratch_dir("eval-")
    try:
        return _fid(tmp, REAL_ALIASES.get(real_kind, real_kind), real_files, real_run, real_npz, fake_kind, gen_choice,
                    gen_upload, gen_hub, n, fake_files, int(dims), resize, progress)
    except WeightsUnavailable as e:
        return f"### FID weights are missing\n{e}", None, None, None
    except UserError as e:
        raise gr.Error(str(e)) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _real_spec(real_kind, real_files, real_run, real_npz, tmp: Path) -> tuple[str, bool]:
    """(data spec, whether its statistics may be cached)."""
    if real_kind == REAL_UPLOAD:
        return common.stage_uploads(real_files, tmp / "real", tmp / "real.zip", "upload images (or one .zip) for this side"), False
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


def _fid(tmp, real_kind, real_files, real_run, real_npz, fake_kind, gen_choice, gen_upload, gen_hub, n, fake_files,
         dims, resize, progress):
    stage = {"name": "real"}
    ev = Evaluator(dims=dims, resize=resize, batch_size=32,
                   progress=lambda done, total: progress(done / max(total, 1), desc=f"features: {stage['name']}"))
    real_spec, cache = _real_spec(real_kind, real_files, real_run, real_npz, tmp)
    a = ev.side(real_spec, use_cache=cache)
    stage["name"] = "generated"
    g = None
    if fake_kind == FAKE_GENERATOR:
        g = common.generator(common.resolve(gen_choice, gen_upload, gen_hub))
        b = ev.generator_side(g, int(n))
        fake_spec = None
    elif fake_kind == FAKE_UPLOAD:
        fake_spec = common.stage_uploads(fake_files, tmp / "fake", tmp / "fake.zip", "upload images (or one .zip) for this side")
        b = ev.side(fake_spec, use_cache=False)
    else:
        raise gr.Error(f"unknown generated-image source {str(fake_kind)[:80]!r}")
    rep = compare(ev, a, b)
    real_prev = None if real_spec.endswith(".npz") else _preview(real_spec)
    previews = [(to_pil(grid(x, 8)), label) for x, label in ((real_prev, "real"), (_preview(fake_spec, g), "generated"))
                if x is not None]
    md = _markdown(rep)
    jpath, mpath = common.scratch(".json"), common.scratch(".md")
    jpath.write_text(json.dumps(rep, indent=2))
    mpath.write_text(md)
    return md, rep, previews, [str(jpath), str(mpath)]


def _markdown(rep: dict) -> str:
    f = lambda v, p: "n/a" if v is None else f"{v:.{p}f}"  # noqa: E731
    lines = [f"## {rep['protocol']}: FID {rep['fid']:.3f}", "",
             "| metric | value |", "|---|---|", f"| FID | {rep['fid']:.4f} |",
             f"| KID | {f(rep['kid_mean'], 5)} ± {f(rep['kid_std'], 5)} |",
             f"| precision | {f(rep['precision'], 3)} |", f"| recall | {f(rep['recall'], 3)} |",
             f"| N real / generated | {rep['n_a']} / {rep['n_b']} |",
             f"| protocol | {rep['protocol']} ({rep['dims']}-d, {rep['resize']} resize, {rep['weights']}) |"]
    if rep["warnings"]:
        lines += ["", "### Warnings"] + [f"- {w}" for w in rep["warnings"]]
    return "\n".join(lines)


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
                   fake_files, dims, resize], [summary, report, previews, files], api_name="fid")
