"""The public HTTP API and MCP tools: the use cases exposed with `gr.api`, one function each.

Every parameter has a short value in the product's vocabulary (`generator="faces-generator"`, `data="faces"`,
a run's name), a type hint (`Literal` choices become enums) and a default, and the docstring
describes it; files come in as uploads (Gradio's FileData, `handle_file` in a script) and go out
as files (pictures as PNG, which MCP clients receive as image content, with a short text). The
page's own events are private and call the same use cases (the tab modules). `/train` takes every
TrainConfig field by name (train_endpoint.py).
"""
# no `from __future__ import annotations` here: Gradio reads the return hints as objects (a string
# "tuple[...]" would count as one output)
from dataclasses import asdict
from typing import Literal

import gradio as gr
from gradio.data_classes import FileData

from .. import api
from . import common, words

Mode = Literal["slerp", "lerp"]
Dims = Literal[64, 192, 768, 2048]
GENERATOR = "faces-generator"  # the bundled faces generator ("demo" names it too)


def _gen(generator: str, generator_file, hub_id: str | None):
    """The generator: an upload wins, then a Hub id, then the named one (api.pick_generator)."""
    return api.pick_generator(generator or GENERATOR, common.upload(generator_file), hub_id or None)


@common.gpu
@common.user_errors
def generate(generator: str = GENERATOR, seed: int = 0, n: int = 64, eval_mode: bool = True,
             generator_file: FileData | None = None, hub_id: str | None = None, truncation: float = 0.0,
             key: str | None = None, request: gr.Request = None) -> tuple[FileData, str]:
    """Sample a grid of images from a DCGAN generator; tile i is drawn from latent seed + i alone.

    Args:
        generator: "faces-generator" (the bundled faces generator; "demo" too), "emoji-generator", a run's name
            (see /runs) or a Hub id USER/NAME.
        seed: latent seed of the first tile, 0 to 9223372036854775807.
        n: number of images, 1 to 256.
        eval_mode: use BatchNorm's running statistics (each image depends only on its own seed).
        generator_file: an uploaded .safetensors or .pt generator, used instead of generator.
        hub_id: a Hub id USER/NAME, used instead of generator (kept for older scripts).
        truncation: the truncation trick: latent components outside ±truncation are drawn again (0: off;
            0.05 to 10; about 0.5 narrows variety visibly, same seed same grid).
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        The grid as one PNG, and a line saying its size and seeds.
    """
    g = api.generate(common.caller(request, key), _gen(generator, generator_file, hub_id), seed, n, eval_mode,
                     truncation=truncation)
    return common.file_data(common.png(g.image, "grid.png")), g.text


@common.gpu
@common.user_errors
def interpolate(generator: str = GENERATOR, seeds: str = "1, 2, 3", frames: int = 48, mode: Mode = "slerp",
                eval_mode: bool = True, generator_file: FileData | None = None, hub_id: str | None = None,
                start: list[float] | None = None, key: str | None = None,
                request: gr.Request = None) -> tuple[FileData, FileData, str]:
    """Walk through the latent space from keyframe to keyframe: a strip of frames and an animated GIF.

    Args:
        generator: "faces-generator", "emoji-generator", a run's name or a Hub id USER/NAME.
        seeds: two or more keyframe seeds separated by spaces or commas, e.g. "1, 2, 3".
        frames: frames along the whole walk, 2 to 240.
        mode: "slerp" (keeps the latent's length) or "lerp" (a straight line).
        eval_mode: use BatchNorm's running statistics.
        generator_file: an uploaded .safetensors or .pt generator, used instead of generator.
        hub_id: a Hub id USER/NAME, used instead of generator.
        start: a latent to begin at (the z /project returned), then the seeds (one is then enough).
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        The frames as one strip (PNG), the walk as a GIF (4x), and a line describing it.
    """
    w = api.interpolate(common.caller(request, key), _gen(generator, generator_file, hub_id), seeds, frames, mode,
                        eval_mode=eval_mode, start=start or None)
    return common.file_data(common.png(w.strip(), "frames.png")), common.file_data(common.gif(w.big(), "walk.gif")), \
        w.text


@common.gpu
@common.user_errors
def scrub(generator: str = GENERATOR, seeds: str = "1, 2, 3", t: float = 0.0, mode: Mode = "slerp",
          eval_mode: bool = True, generator_file: FileData | None = None, hub_id: str | None = None,
          key: str | None = None, request: gr.Request = None) -> FileData:
    """The image at position t along a keyframe walk (what the page's scrub slider shows), at 4x.

    Args:
        generator: "faces-generator", "emoji-generator", a run's name or a Hub id USER/NAME.
        seeds: two or more keyframe seeds, e.g. "1, 2, 3".
        t: position along the whole walk, 0 (first keyframe) to 1 (last).
        mode: "slerp" or "lerp".
        eval_mode: use BatchNorm's running statistics.
        generator_file: an uploaded generator, used instead of generator.
        hub_id: a Hub id USER/NAME, used instead of generator.
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        The image at t (PNG, 4x).
    """
    p = api.scrub(common.caller(request, key), _gen(generator, generator_file, hub_id), seeds, t, mode, eval_mode)
    return common.file_data(common.png(p.image, "at_t.png"))


@common.gpu
@common.user_errors
def directions(generator: str = GENERATOR, seed: int = 0, eval_mode: bool = True, direction_1: float = 0.0,
               direction_2: float = 0.0, direction_3: float = 0.0, direction_4: float = 0.0,
               direction_5: float = 0.0, generator_file: FileData | None = None, hub_id: str | None = None,
               key: str | None = None, request: gr.Request = None) -> tuple[FileData, str]:
    """Move one latent along the generator's five principal directions (as GANSpace finds them).

    Args:
        generator: "faces-generator", "emoji-generator", a run's name or a Hub id USER/NAME.
        seed: seed of the latent to move.
        eval_mode: use BatchNorm's running statistics.
        direction_1: amount along the first principal direction, -2 to 2 (2 moves as far as a latent is long).
        direction_2: amount along the second direction, -2 to 2.
        direction_3: amount along the third direction, -2 to 2.
        direction_4: amount along the fourth direction, -2 to 2.
        direction_5: amount along the fifth direction, -2 to 2.
        generator_file: an uploaded generator, used instead of generator.
        hub_id: a Hub id USER/NAME, used instead of generator.
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        The moved latent's image (PNG, 4x) and a line saying how it was moved.
    """
    p = api.directions(common.caller(request, key), _gen(generator, generator_file, hub_id), seed,
                       (direction_1, direction_2, direction_3, direction_4, direction_5), eval_mode)
    return common.file_data(common.png(p.image, "moved.png")), p.text


@common.gpu
@common.user_errors
def arithmetic(generator: str = GENERATOR, a: str = "1 2 3", b: str = "4 5 6", c: str = "7 8 9",
               eval_mode: bool = True, generator_file: FileData | None = None, hub_id: str | None = None,
               key: str | None = None,
               request: gr.Request = None) -> tuple[FileData, FileData, FileData, FileData]:
    """Vector arithmetic in latent space, as in the paper's Figure 7: mean(A) − mean(B) + mean(C).

    Args:
        generator: "faces-generator", "emoji-generator", a run's name or a Hub id USER/NAME.
        a: seeds whose latents are averaged into A, e.g. "1 2 3".
        b: seeds averaged into B (subtracted).
        c: seeds averaged into C (added).
        eval_mode: use BatchNorm's running statistics.
        generator_file: an uploaded generator, used instead of generator.
        hub_id: a Hub id USER/NAME, used instead of generator.
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        Four PNGs: the means of A, B and C, and A − B + C.
    """
    r = api.arithmetic(common.caller(request, key), _gen(generator, generator_file, hub_id), a, b, c, eval_mode)
    names = ("mean_A.png", "mean_B.png", "mean_C.png", "A-B+C.png")
    return tuple(common.file_data(common.png(im, name)) for im, name in zip(r.images, names))


@common.user_errors
def summary(image_size: Literal[32, 64, 128] = 64, half: bool = False, channels: Literal[1, 3] = 3, ngf: int = 64,
            ndf: int = 64, nz: int = 100,
            upsample: Literal["transposed", "resize"] = "transposed") -> tuple[str, dict]:
    """The paper's architecture table for these settings: every layer of G and D with its kernel,
    stride, padding, output shape and parameters, and the totals.

    Args:
        image_size: 32, 64 or 128.
        half: halve ngf and ndf (the blog's half channels).
        channels: image channels, 3 (RGB) or 1 (grayscale).
        ngf: generator width (the paper: 64).
        ndf: discriminator width (the paper: 64).
        nz: latent size (the paper: 100).
        upsample: G's x2 steps: "transposed" (the paper's) or "resize" (nearest x2 + 3x3 conv).

    Returns:
        The table as Markdown, and as JSON ({"generator": {"layers": [...], "params": N}, "discriminator": ...}).
    """
    t = api.summary(image_size, ngf, ndf, nz, channels, half, upsample)
    return t.markdown, t.table


@common.user_errors
def stop(run: str | None = None, key: str | None = None, request: gr.Request = None) -> str:
    """Stop your running training; it saves a checkpoint first and can be resumed.

    Args:
        run: the run to stop (as /train returned it); empty stops whichever of yours is running.
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        What happened, in one sentence.
    """
    return words.stopped(api.stop(common.caller(request, key), run or None))


@common.user_errors
def resume(run: str | None = None, epochs: int | None = None, key: str | None = None,
           request: gr.Request = None) -> tuple[str, str]:
    """Continue a stopped, finished or interrupted run of yours until it has trained `epochs` epochs in total.

    Args:
        run: the run's name; empty resumes your newest run.
        epochs: the total number of epochs to reach; empty keeps what the run asked for.
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        A note, and the run's name (pass it to /follow).
    """
    r = api.resume(common.caller(request, key), run or None, epochs if epochs not in ("", None) else None)
    return words.started(r, words.plain), r.run


@common.user_errors
def rewind(run: str | None = None, continue_with: str | None = None, lr: float | None = None,
           beta1: float | None = None, beta2: float | None = None, flip: bool | None = None,
           augment: str | None = None, epochs: int | None = None, key: str | None = None,
           request: gr.Request = None) -> tuple[str, str]:
    """Go back to a run's last healthy epoch (the newest epoch end without an alarm, kept as
    checkpoints/healthy.pt) and continue from there with changed settings; a run still training is
    stopped first, and the abandoned epochs are kept aside (Compare shows them).

    Args:
        run: the run's name; empty rewinds your newest run.
        continue_with: one of the options /follow's "rewind" offers (default: the first, the monitor's
            first remedy); ignored when any setting below is given.
        lr: a new Adam learning rate.
        beta1: a new Adam beta1.
        beta2: a new Adam beta2.
        flip: random horizontal flips on or off.
        augment: "none" or a comma list of color, translation, cutout.
        epochs: the total number of epochs to reach; empty keeps what the run asked for.
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        A note, and the run's name (pass it to /follow).
    """
    given = {k: v for k, v in (("lr", lr), ("beta1", beta1), ("beta2", beta2), ("flip", flip), ("augment", augment))
             if v not in (None, "")}
    r = api.rewind(common.caller(request, key), run or None, continue_with or None, given or None,
                   epochs if epochs not in ("", None) else None)
    return words.started(r, words.plain), r.run


@common.user_errors
def slot(key: str | None = None, request: gr.Request = None) -> tuple[str, dict]:
    """The one training slot: free or busy, about when it frees, how many runs wait, and where yours is.

    Args:
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        A sentence, and the same as JSON (busy, mine, run: the running run's name when it is yours,
        free_in_s, waiting, my_place).
    """
    s = api.slot(common.caller(request, key))
    return words.slot(s, common.public_mode()).replace("**", ""), asdict(s)


@common.user_errors
def runs(key: str | None = None, request: gr.Request = None) -> list[dict]:
    """Your training runs, newest first, then the shipped example runs (read-only, everyone's).

    Args:
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        One record per run: name, state (running, finished, stopped, failed, interrupted, new), epoch
        reached, epochs asked for, data, widths, flips, augmentation, the first alarm and the best FID.
    """
    return [r.to_dict() for r in api.runs(common.caller(request, key))]


@common.user_errors
def follow(run: str | None = None, key: str | None = None,
           request: gr.Request = None) -> tuple[str, dict, FileData | None, FileData | None]:
    """Follow a training run live, until it ends: its status, newest numbers, newest grid and GIF.

    Args:
        run: the run's name (as /train returns it); empty follows your newest run.
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        A stream of updates: the status line, the newest step and epoch records with the alarms, the
        newest fixed-noise grid (PNG) and the progress GIF.
    """
    # a generator: each update has the annotated shape (Gradio reads the schema from the return hint)
    for s in api.follow(common.caller(request, key), run or None):
        record = {**s.to_dict(), "story": words.phase(s.phase),
                  "alarms_text": words.alarms(s, words.plain, "or rewind (/rewind)" if s.rewind else "")}
        yield (words.status_line(s.name, s.status).replace("**", ""), record,
               common.file_data(common.handout(s.grid)), common.file_data(common.handout(s.gif)))


@common.user_errors
def compare(runs: list[str] | None = None, replay_alarms: bool = False,
            key: str | None = None, request: gr.Request = None) -> tuple[FileData, str, dict]:
    """Put two or more of your runs side by side: losses, D(x) and D(G(z)), sample diversity and FID
    overlaid on one step axis, each run's newest grid, the settings that differ, and the first alarms.

    Args:
        runs: names of two to eight runs; empty compares your two newest runs.
        replay_alarms: judge the runs with today's monitor instead of the alarms recorded while they trained.
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        The comparison picture (PNG), one line per run (state, first alarm), and the differing settings.
    """
    out = common.out_path("compare.png")
    c = api.compare_runs(common.caller(request, key), runs, out=out, replay=replay_alarms)
    return common.file_data(c.picture), "\n".join(words.compared(c, words.plain)), dict(c.differing)


@common.gpu
@common.user_errors
def fid(real: str = "faces", generator: str = GENERATOR, n: int = 2048, dims: Dims = 2048,
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
    r = api.fid(common.caller(request, key), real, _gen(generator, generator_file, None),
                real_uploads=common.uploads(real_files), generated_uploads=fake_up, n=n, dims=dims, resize=resize,
                image_size=image_size, fid_inf=fid_inf, pr_features=pr_features, n_real=n_real, batch_size=32)
    return api.report_markdown(r.report), r.report.to_dict()


@common.user_errors
def push(run: str | None = None, repo_id: str | None = None, private: bool = False,
         key: str | None = None, request: gr.Request = None, oauth_token: gr.OAuthToken | None = None) -> str:
    """Push one of your runs (generator, samples, GIF and model card) to the Hugging Face Hub. On your
    own machine it uses this machine's login; on a Space, your own sign-in, never the server's.

    Args:
        run: the run to push.
        repo_id: USER/NAME of the model repository to create or update.
        private: make the repository private.
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        A line with the repository's URL.
    """
    p = api.push(common.caller(request, key), run or "", repo_id or "", private,
                 token=oauth_token.token if oauth_token is not None else None)
    return f"Pushed **{p.run}** to [{p.repo_id}]({p.url})."


@common.gpu
@common.user_errors
def nearest(generator: str = GENERATOR, real: str = "faces", n: int = 64, generated_files: list[FileData] | None = None,
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
    r = api.nearest(common.caller(request, key), None if gen_up else _gen(generator, generator_file, None),
                    real, generated_uploads=gen_up, real_uploads=common.uploads(real_files), n=n)
    text = (f"{r.copies} of {r.n} generated images look like copies of {r.real} ({r.n_real} images): nearer to one "
            f"than {r.threshold:.3f}, closer than 99% of the real images are to their own nearest neighbour.")
    return common.file_data(common.png(r.picture, "nearest.png")), text, r.to_dict()


@common.gpu
@common.user_errors
def project(image: FileData | None = None, generator: str = GENERATOR, steps: int = 300, restarts: int = 4,
            generator_file: FileData | None = None, key: str | None = None,
            request: gr.Request = None) -> tuple[FileData, FileData, str, list]:
    """Project your image into a generator's latent space: the latent z whose image is closest to it
    (Adam on a pixel loss, several restarts), for walks that start from your image.

    Args:
        image: the picture to project (any size; prepared as training prepares images).
        generator: "faces-generator", "emoji-generator", a run's name or a Hub id; generator_file replaces it.
        steps: optimiser steps, 1 to 500 on a public Space (5000 locally).
        restarts: latents optimised side by side, the best kept: 1 to 8 on a public Space (16 locally).
        generator_file: an uploaded .safetensors or .pt generator, instead of generator.
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        The target as the generator sees it and its reconstruction (PNGs), a line with the PSNR and how
        it was found, and z (pass it as `start` to /interpolate to walk from your image).
    """
    up = common.upload(image)
    if up is None:
        raise api.UserError("{image}: upload the picture to project", settings=("image",))
    r = api.project(common.caller(request, key), _gen(generator, generator_file, None), up, steps=steps,
                    restarts=restarts)
    return (common.file_data(common.png(r.target, "target.png")),
            common.file_data(common.png(r.reconstruction, "reconstruction.png")),
            f"PSNR {r.psnr:.2f} dB after {r.steps} steps x {r.restarts} restarts ({r.how})", r.z)


PUBLIC = {"generate": generate, "interpolate": interpolate, "scrub": scrub, "directions": directions,
          "arithmetic": arithmetic, "summary": summary, "stop": stop, "resume": resume, "rewind": rewind, "runs": runs,
          "slot": slot,
          "follow": follow, "compare": compare, "fid": fid, "nearest": nearest, "project": project,
          "push": push}
# Answered outside the queue: these take a second or less (a 256-tile grid, a 240-frame walk: a few),
# and Gradio 6.31's MCP server turns the several outputs of a queued call into one text (it wraps the
# client's tuple in a list), while a direct call's outputs each become content: PNGs as images.
# /train decodes its data in the request (seconds for the bundled sets); /follow streams; /fid is long.
QUEUED = {"follow", "fid"}


def register() -> None:
    """Inside a Blocks context: every public endpoint (and /train, train_endpoint.py)."""
    from . import train_endpoint

    for name, fn in PUBLIC.items():
        gr.api(fn, api_name=name, queue=name in QUEUED,
               concurrency_limit=None if name == "follow" else "default")
    train_endpoint.register()
