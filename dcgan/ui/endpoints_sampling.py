"""The sampling endpoints: /generate, /interpolate, /scrub, /directions, /arithmetic, /project
(endpoints.py registers them).
"""
# no `from __future__ import annotations` here: Gradio reads the return hints as objects (a string
# "tuple[...]" would count as one output)
from typing import Literal

import gradio as gr
from gradio.data_classes import FileData

from .. import api
from . import common

Mode = Literal["slerp", "lerp"]


@common.gpu
@common.user_errors
def generate(generator: str = common.GENERATOR, seed: int = 0, n: int = 64, eval_mode: bool = True,
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
    g = api.generate(common.caller(request, key), common.chosen_generator(generator, generator_file, hub_id), seed, n, eval_mode,
                     truncation=truncation)
    return common.file_data(common.png(g.image, "grid.png")), g.text


@common.gpu
@common.user_errors
def interpolate(generator: str = common.GENERATOR, seeds: str = "1, 2, 3", frames: int = 48, mode: Mode = "slerp",
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
    w = api.interpolate(common.caller(request, key), common.chosen_generator(generator, generator_file, hub_id), seeds, frames, mode,
                        eval_mode=eval_mode, start=start or None)
    return common.file_data(common.png(w.strip(), "frames.png")), common.file_data(common.gif(w.big(), "walk.gif")), \
        w.text


@common.gpu
@common.user_errors
def scrub(generator: str = common.GENERATOR, seeds: str = "1, 2, 3", t: float = 0.0, mode: Mode = "slerp",
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
    p = api.scrub(common.caller(request, key), common.chosen_generator(generator, generator_file, hub_id), seeds, t, mode, eval_mode)
    return common.file_data(common.png(p.image, "at_t.png"))


@common.gpu
@common.user_errors
def directions(generator: str = common.GENERATOR, seed: int = 0, eval_mode: bool = True, direction_1: float = 0.0,
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
    p = api.directions(common.caller(request, key), common.chosen_generator(generator, generator_file, hub_id), seed,
                       (direction_1, direction_2, direction_3, direction_4, direction_5), eval_mode)
    return common.file_data(common.png(p.image, "moved.png")), p.text


@common.gpu
@common.user_errors
def arithmetic(generator: str = common.GENERATOR, a: str = "1 2 3", b: str = "4 5 6", c: str = "7 8 9",
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
    r = api.arithmetic(common.caller(request, key), common.chosen_generator(generator, generator_file, hub_id), a, b, c, eval_mode)
    names = ("mean_A.png", "mean_B.png", "mean_C.png", "A-B+C.png")
    return tuple(common.file_data(common.png(im, name)) for im, name in zip(r.images, names))


@common.gpu
@common.user_errors
def project(image: FileData | None = None, generator: str = common.GENERATOR, steps: int = 300, restarts: int = 4,
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
    r = api.project(common.caller(request, key), common.chosen_generator(generator, generator_file, None), up, steps=steps,
                    restarts=restarts)
    return (common.file_data(common.png(r.target, "target.png")),
            common.file_data(common.png(r.reconstruction, "reconstruction.png")),
            f"PSNR {r.psnr:.2f} dB after {r.steps} steps x {r.restarts} restarts ({r.how})", r.z)
