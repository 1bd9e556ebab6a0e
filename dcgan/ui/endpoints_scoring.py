"""The scoring endpoints: /fid and /nearest (endpoints.py registers them)."""
# no `from __future__ import annotations` here: Gradio reads the return hints as objects (a string
# "tuple[...]" would count as one output)
from typing import Literal

import gradio as gr
from gradio.data_classes import FileData

from .. import api
from . import common

Dims = Literal[64, 192, 768, 2048]


@common.gpu
@common.user_errors
def fid(real: str = "faces", generator: str = common.GENERATOR, n: int = 2048, dims: Dims = 2048,
        resize: Literal["legacy", "clean"] = "legacy",
        image_size: Literal["auto", "native", "32", "64", "128"] = "auto",
        fid_inf: bool = False, pr_features: Literal["inception", "vgg16"] = "inception",
        real_files: list[FileData] | None = None, fake_files: list[FileData] | None = None,
        generator_file: FileData | None = None, n_real: int | None = None, key: str | None = None,
        request: gr.Request = None) -> tuple[str, dict]:
    """FID between real and generated images, with its mean and covariance terms, KID, precision/recall,
    the protocol and honest warnings (and FID∞ when asked).

    Args:
        real: the real images: "faces", "emoji", "celeba", "hf:OWNER/NAME" or "run:NAME" (a run's training
            set); real_files replace it.
        generator: the generated side: "faces-generator", "emoji-generator", a run's name or a Hub id,
            sampled n times; fake_files or generator_file replace it.
        n: images to sample from the generator, 2 to 50000 (papers use 10000-50000).
        dims: Inception feature block: 2048 (the standard pool3), 768, 192 or 64.
        resize: "legacy" (bilinear, as pytorch-fid and papers) or "clean" (PIL bicubic, as clean-fid).
        image_size: how real images are read: "auto" (the generator's size, as training prepared them),
            "native" (as pytorch-fid), or 32/64/128.
        fid_inf: also FID∞, FID extrapolated to infinitely many images (honest at small N).
        pr_features: precision/recall feature space: "inception" or "vgg16" (as Kynkäänniemi et al.).
        real_files: real images or one .zip, instead of real.
        fake_files: generated images or one .zip, instead of a generator.
        generator_file: an uploaded .safetensors or .pt generator, instead of generator.
        n_real: read only the first n_real real images (a quick look; the report says so); the bundled sets'
            statistics ship with the app and are used whole.
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        The report as Markdown and as JSON (fid, fid_mean_term, fid_cov_term, fid_inf, kid_mean, kid_std,
        precision, recall, n_a, n_b, protocol, warnings).
    """
    fake_up = common.uploads(fake_files)
    r = api.fid(common.caller(request, key), real, common.chosen_generator(generator, generator_file, None),
                real_uploads=common.uploads(real_files), generated_uploads=fake_up, n=n, dims=dims, resize=resize,
                image_size=image_size, fid_inf=fid_inf, pr_features=pr_features, n_real=n_real, batch_size=32)
    return api.report_markdown(r.report), r.report.to_dict()


@common.gpu
@common.user_errors
def nearest(generator: str = common.GENERATOR, real: str = "faces", n: int = 64, generated_files: list[FileData] | None = None,
            real_files: list[FileData] | None = None, generator_file: FileData | None = None,
            key: str | None = None, request: gr.Request = None) -> tuple[FileData, str, dict]:
    """Did the generator copy its training images? Each generated image's nearest real images (a mirror
    flip and mild re-encoding do not hide a copy), likely copies flagged.

    Args:
        generator: "faces-generator", "emoji-generator", a run's name or a Hub id, sampled n times (image i
            from seed i); generated_files or generator_file replace it.
        real: the training images: "faces", "emoji", "celeba", "hf:OWNER/NAME" or "run:NAME"; real_files replace it.
        n: images to sample from the generator, 1 to 1024.
        generated_files: generated images or one .zip, instead of a generator.
        real_files: the training images or one .zip, instead of real.
        generator_file: an uploaded .safetensors or .pt generator, instead of generator.
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        A PNG of the most suspicious samples beside their nearest real images (copies framed in red), a
        line saying how many are likely copies and by what rule, and the JSON report (n, copies, threshold,
        samples: name, nearest, distance, copy).
    """
    gen_up = common.uploads(generated_files)
    r = api.nearest(common.caller(request, key), None if gen_up else common.chosen_generator(generator, generator_file, None),
                    real, generated_uploads=gen_up, real_uploads=common.uploads(real_files), n=n)
    text = (f"{r.copies} of {r.n} generated images look like copies of {r.real} ({r.n_real} images): nearer to one "
            f"than {r.threshold:.3f}, closer than 99% of the real images are to their own nearest neighbour.")
    return common.file_data(common.png(r.picture, "nearest.png")), text, r.to_dict()
