"""The sampling verbs: generate a grid, interpolate a walk, project an image into z."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError
from .words import report

def sampling_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", default="faces-generator",
                   help="faces-generator (the default; 'demo' too), emoji-generator, a run dir, .pt, .safetensors, "
                        "save_pretrained folder or Hub id")
    p.add_argument("--device", default="auto")
    p.add_argument("--train-mode", action="store_true",
                   help="use BatchNorm batch statistics instead of the running ones (eval mode)")
    p.add_argument("--json", action="store_true")


def cmd_generate(a: argparse.Namespace) -> int:
    from ..api import LOCAL, generate
    from ..images import save_png

    out = Path(a.out)
    picture = out.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp")
    if out.suffix and not picture:
        raise ConfigError(f"--out {out.name}: a grid is a .png, .jpg or .webp file; a folder (no suffix) gets one "
                          "PNG per seed")
    if not picture and out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out.name} is a file; give a folder for one PNG per seed")
    grid = generate(LOCAL, a.checkpoint, seed=a.seed, n=a.n, eval_mode=not a.train_mode, nrow=a.nrow,
                    truncation=a.truncation)
    if picture:
        save_png(grid.image, out)
        files = [str(out)]
    else:
        out.mkdir(parents=True, exist_ok=True)
        files = []
        for s, im in zip(grid.seeds, grid.tiles):
            save_png(im, out / f"seed{s:06d}.png")
            files.append(str(out / f"seed{s:06d}.png"))
    report(a, {"n": len(grid.seeds), "seeds": grid.seeds, "files": files}, f"{grid.text} -> {out}")
    return 0


def cmd_interpolate(a: argparse.Namespace) -> int:
    from ..api import LOCAL, interpolate
    from ..images import save_gif

    if Path(a.out).suffix.lower() != ".gif":
        raise ConfigError(f"--out {Path(a.out).name}: the walk is an animated GIF; name the file .gif")
    if not 10 <= a.duration <= 60_000:
        raise ConfigError(f"--duration must be 10 to 60000 ms per frame (got {a.duration})")
    walk = interpolate(LOCAL, a.checkpoint, seeds=a.seeds, frames=a.frames, mode=a.mode, loop=a.loop,
                       eval_mode=not a.train_mode, start=a.start)
    save_gif(walk.frames, a.out, duration_ms=a.duration)
    report(a, {"frames": len(walk.frames), "seeds": walk.seeds, "mode": walk.mode, "file": a.out},
            f"{walk.text} -> {a.out}")
    return 0


def cmd_project(a: argparse.Namespace) -> int:
    from ..api import LOCAL, project
    from ..progress import Bar

    bar = Bar("projecting", "step", disable=a.json)
    r = project(LOCAL, a.checkpoint, a.image, steps=a.steps, restarts=a.restarts, seed=a.seed, out=a.out,
                progress=lambda step: bar(round(step.fraction * a.steps), a.steps))
    bar.close()
    out = Path(a.out)
    report(a, {**r.to_dict(), "reconstruction": str(out / "reconstruction.png"), "latent": str(out / "latent.npy")},
            f"{r.name}: PSNR {r.psnr:.2f} dB after {r.steps} steps x {r.restarts} restarts ({r.how}) -> "
            f"{out / 'reconstruction.png'}, {out / 'latent.npy'} (walk from it: dcgan interpolate --start "
            f"{out / 'latent.npy'} --seeds 1 2 ...)")
    return 0


def add_verbs(sub) -> None:
    """Add this family's verbs to the `dcgan` parser's subcommands."""
    p = sub.add_parser("generate", help="sample a grid (or a folder of PNGs) from a generator")
    sampling_args(p)
    p.add_argument("--n", type=int, default=64, help="images, 1 to 256")
    p.add_argument("--seed", type=int, default=0, help="tile i uses seed + i (0 to 2^63 - 1)")
    p.add_argument("--nrow", type=int, default=None, help="tiles per row (default: a square grid)")
    p.add_argument("--truncation", type=float, default=None,
                   help="the truncation trick: redraw latent components outside ±T (0.05 to 10); smaller T, less "
                        "variety and more typical images; the same seed still gives the same grid")
    p.add_argument("--out", required=True, help="grid .png, or a folder for one PNG per seed")
    p.set_defaults(fn=cmd_generate)

    p = sub.add_parser("interpolate", help="a GIF walking through latent keyframes")
    sampling_args(p)
    p.add_argument("--seeds", type=int, nargs="+", required=True, help="two or more keyframe seeds (one with --start)")
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--mode", default="slerp", choices=("slerp", "lerp"))
    p.add_argument("--loop", action="store_true", help="return to the first keyframe")
    p.add_argument("--duration", type=int, default=80, help="ms per frame")
    p.add_argument("--start", default=None, help="begin at this latent (latent.npy from `dcgan project`), then the "
                                                  "seeds (one seed is then enough)")
    p.add_argument("--out", required=True, help="output .gif")
    p.set_defaults(fn=cmd_interpolate)

    p = sub.add_parser("project", help="find the latent whose image matches yours (GAN inversion): a "
                                       "reconstruction and a latent.npy that walks can start from")
    sampling_args(p)
    p.add_argument("--image", required=True, help="the image to project (any size; prepared as training does)")
    p.add_argument("--out", required=True, help="folder for target.png, reconstruction.png, latent.npy, project.json")
    p.add_argument("--steps", type=int, default=300, help="optimiser steps (1 to 5000)")
    p.add_argument("--restarts", type=int, default=4, help="latents optimised side by side, the best kept (1 to 16)")
    p.add_argument("--seed", type=int, default=0, help="restart r starts from the latent of seed + r")
    p.set_defaults(fn=cmd_project)
