"""`dcgan VERB` (or `python -m dcgan VERB`): train, generate, interpolate, fid, stats, push, bench,
summary, compare, app.

Thin adapters over the library: parse flags, call one library function, print a short result
(or one JSON object with --json). The `train` flags are derived from TrainConfig's fields
(config.add_arguments), so every training setting is a flag. Exit status: 0 done; 2 a mistake the
user can fix (bad data, settings, checkpoint, statistics: errors.UserError), printed as one line;
3 the work could not go on for a reason outside the input (training stopped by a non-finite loss
or a full disk, FID weights missing), also one line; 1 a bug, with its traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from .errors import ConfigError, UserError


def _train_args(p: argparse.ArgumentParser) -> None:
    from .config import add_arguments

    p.add_argument("--out", required=True, help="run directory to write (or resume)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from checkpoints/last.pt")
    p.add_argument("--json", action="store_true", help="print events as JSON lines instead of a progress bar")
    add_arguments(p)


def cmd_train(a: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .config import from_args
    from .train import train

    cfg = from_args(a)
    quiet = int(os.environ.get("RANK", "0")) > 0  # under torchrun only rank 0 talks
    stop = threading.Event()

    def on_signal(signum, frame):
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()
        print("\nstopping: saving a checkpoint (Ctrl-C again to abort without one)", file=sys.stderr)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    bar = None
    decoding = _progress_bar("decoding images", "img", disable=quiet or a.json)
    try:
        for ev in train(cfg, a.out, resume=a.resume, stop=stop, data_progress=decoding):
            if quiet:
                continue
            if a.json:
                print(json.dumps(ev, default=str), flush=True)
                continue
            t = ev["type"]
            if t == "start":
                decoding.close()
                print(f"data: {ev['data']['n_images']} images ({ev['data']['n_skipped']} skipped); "
                      f"device {ev['device']}; {ev['steps_per_epoch']} steps/epoch", file=sys.stderr)
                for name, why in ev["data"]["skipped"][:5]:
                    print(f"  skipped {name}: {why}", file=sys.stderr)
                spe, epochs = ev["steps_per_epoch"], ev["config"]["epochs"]
                first = (ev["resumed_from_epoch"] or 0) + 1
                bar = tqdm(total=spe, desc=f"epoch {first}/{epochs}", unit="step", dynamic_ncols=True)
            elif t == "step":
                bar.update(ev["step"] - (ev["epoch"] - 1) * spe - bar.n)  # steps are logged every k
                bar.set_postfix(loss_d=f"{ev['loss_d']:.3f}", loss_g=f"{ev['loss_g']:.3f}",
                                img_s=f"{ev['images_per_s']:.0f}")
            elif t == "epoch":
                bar.close()
                fid = f", {ev['fid_protocol']} {ev['fid']:.2f} (best {ev['best_fid']:.2f})" if "fid" in ev else ""
                tqdm.write(f"epoch {ev['epoch']}/{ev['epochs']}: samples {ev['sample']} "
                           f"(diversity {ev['diversity_ratio']:.2f} of real{fid})", file=sys.stderr)
                if ev["epoch"] < ev["epochs"]:
                    bar = tqdm(total=spe, desc=f"epoch {ev['epoch'] + 1}/{epochs}", unit="step", dynamic_ncols=True)
            elif t in ("alarm", "warning"):
                tqdm.write(f"{t}: {ev.get('text') or ev['message']}", file=sys.stderr)
            elif t == "done":
                if bar is not None and not bar.disable:
                    bar.close()
                print(f"{ev['reason']} at epoch {ev['epoch']}, step {ev['step']}: {a.out}")
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    return 0


def cmd_generate(a: argparse.Namespace) -> int:
    from .hub import load_generator
    from .images import grid_image, save_png, to_pils, to_uint8
    from .latent import grid_seeds, sample, z_from_seeds

    g = load_generator(a.checkpoint, device=_device(a.device))
    seeds = grid_seeds(a.seed, a.n)
    x = sample(g, z_from_seeds(seeds, g.nz), eval_mode=not a.train_mode)
    out = Path(a.out)
    if out.suffix.lower() in (".png", ".jpg", ".webp"):
        save_png(grid_image(x, a.nrow), out)
        files = [str(out)]
    else:
        out.mkdir(parents=True, exist_ok=True)
        files = []
        for s, im in zip(seeds, to_pils(to_uint8(x))):
            save_png(im, out / f"seed{s:06d}.png")
            files.append(str(out / f"seed{s:06d}.png"))
    _report(a, {"n": a.n, "seeds": seeds, "files": files}, f"{a.n} images -> {out}")
    return 0


def cmd_interpolate(a: argparse.Namespace) -> int:
    from .hub import load_generator
    from .images import save_gif, to_pils, to_uint8
    from .latent import sample, walk, z_from_seeds

    g = load_generator(a.checkpoint, device=_device(a.device))
    z = walk(z_from_seeds(a.seeds, g.nz), a.frames, a.mode, loop=a.loop)
    frames = to_pils(to_uint8(sample(g, z, eval_mode=not a.train_mode)))
    save_gif(frames, a.out, duration_ms=a.duration)
    _report(a, {"frames": len(frames), "seeds": a.seeds, "mode": a.mode, "file": a.out},
            f"{len(frames)} frames ({a.mode}) -> {a.out}")
    return 0


class _progress_bar:
    """fn(done, total) drawing a tqdm bar, started on the first call (so nothing shows when the
    work was cached) and restarted when a new total begins."""

    def __init__(self, desc: str, unit: str, disable: bool = False):
        self.desc, self.unit, self.disable, self.bar = desc, unit, disable, None

    def __call__(self, done: int, total: int) -> None:
        from tqdm import tqdm

        if self.disable:
            return
        if self.bar is None or self.bar.total != total or done < self.bar.n:
            self.close()
            self.bar = tqdm(total=total, unit=self.unit, desc=self.desc, dynamic_ncols=True, leave=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _evaluator(a):
    from .metrics import Evaluator

    bar = _progress_bar("features", "img", disable=getattr(a, "json", False))
    ev = Evaluator(weights=a.weights, device=a.device, batch_size=a.batch_size, resize=a.resize,
                   dims=a.dims, progress=bar, pr_features=getattr(a, "pr_features", "inception"),
                   pr_weights=getattr(a, "pr_weights", None))
    return ev, bar


def _fid_sides(a: argparse.Namespace) -> tuple[str, str]:
    """(real, generated) from REAL GENERATED positionals and/or --real / --fake."""
    positional = [x for x in (a.a, a.b) if x]
    real = a.real or (positional.pop(0) if positional else None)
    fake = a.fake or (positional.pop(0) if positional else None)
    if not real or not fake or positional:
        raise ConfigError("give one real side and one generated side: fid REAL GENERATED, or --real R --fake G")
    return str(real), str(fake)


def _prepared_size(a: argparse.Namespace, specs, device) -> tuple[int | None, int]:
    """--image-size, or the size (and channels) of the first generator among the sides; None: native."""
    from .hub import load_generator
    from .metrics import is_generator

    for spec in specs:
        if is_generator(spec):
            g = load_generator(spec)
            return (a.image_size or g.image_size), g.nc
    return a.image_size, 3


def cmd_fid(a: argparse.Namespace) -> int:
    from .metrics import compare, report_markdown

    real, fake = _fid_sides(a)
    ev, bar = _evaluator(a)
    size, channels = _prepared_size(a, (real, fake), ev.device)
    side_a = ev.side(real, n=a.n, seed=a.seed, data_root=a.data_root, image_size=size, channels=channels)
    side_b = ev.side(fake, n=a.n, seed=a.seed, data_root=a.data_root, image_size=size, channels=channels)
    bar.close()
    rep = compare(ev, side_a, side_b, fid_inf=a.fid_inf)
    rep["real"], rep["generated"] = real, fake
    if a.json:
        print(json.dumps(rep))
    else:
        print(report_markdown(rep))
    return 0


def cmd_stats(a: argparse.Namespace) -> int:
    from .fid import StatsError, save_stats

    ev, bar = _evaluator(a)
    side = ev.side(a.src, n=a.n, seed=a.seed, data_root=a.data_root, image_size=a.image_size)
    bar.close()
    if side.sigma is None:
        raise StatsError(f"{a.src} has {side.n} image(s); statistics need at least 2")
    save_stats(a.out, side.mu, side.sigma, features=side.features, n=side.n)
    how = f"prepared at {a.image_size}px as training does" if a.image_size else "native size"
    _report(a, {"out": a.out, "n": side.n, "dims": ev.dims, "resize": ev.resize, "image_size": a.image_size},
            f"mu, sigma of {side.n} images ({ev.dims}-d, {ev.resize}, {how}) -> {a.out}")
    return 0


def cmd_push(a: argparse.Namespace) -> int:
    from .hub import push

    url = push(a.run_dir, a.repo_id, private=a.private)
    _report(a, {"url": url, "repo_id": a.repo_id}, f"pushed {a.run_dir} -> {url}")
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
    from .models import ModelConfig
    from .summary import markdown, table

    ngf, ndf = (a.ngf // 2, a.ndf // 2) if a.half else (a.ngf, a.ndf)
    t = table(ModelConfig(nz=a.nz, ngf=ngf, ndf=ndf, nc=a.channels, image_size=a.image_size))
    print(json.dumps(t) if a.json else markdown(t))
    return 0


def cmd_compare(a: argparse.Namespace) -> int:
    from . import compare

    views = compare.load(a.runs, replay=a.replay_alarms)
    out = compare.save(views, a.out)
    diff = compare.differing(views)
    first = {v.name: v.first_alarm for v in views}
    _report(a, {"out": str(out), "runs": [v.name for v in views], "differing": dict(diff),
                "first_alarm": first},
            f"{len(views)} runs -> {out}" + "".join(f"\n  {k}: {' | '.join(map(str, vals))}" for k, vals in diff)
            + "".join(f"\n  {n}: first alarm at epoch {x['epoch']} ({x['kind']})" for n, x in first.items() if x))
    return 0


def cmd_app(a: argparse.Namespace) -> int:
    """The browser app, as `python app.py` starts it (for an installed package, which has no app.py)."""
    from .ui.app import build_app, launch_kwargs

    build_app().launch(server_name=a.host, server_port=a.port, mcp_server=a.mcp or None, **launch_kwargs())
    return 0


def _fid_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, default=None, help="images to sample from a generator side (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="generator image i uses seed + i")
    p.add_argument("--weights", default=None, help="FID Inception weights (.pth); default: $DCGAN_FID_WEIGHTS "
                                                   "or the standard file, downloaded once")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=50)
    p.add_argument("--resize", default="legacy", choices=("legacy", "clean"),
                   help="legacy: bilinear as pytorch-fid (comparable with papers); clean: PIL bicubic")
    p.add_argument("--dims", type=int, default=2048, choices=(64, 192, 768, 2048))
    p.add_argument("--image-size", type=int, default=None,
                   help="prepare real images as training does (shorter side to S, centre crop) before the "
                        "resize to 299; default: the generator's size when a side is a generator, else native")
    p.add_argument("--data-root", default=None, help="for 'celeba'")
    p.add_argument("--json", action="store_true")


def _device(name: str):
    from .train import resolve_device

    return resolve_device(name)


def _report(a, obj: dict, text: str) -> None:
    print(json.dumps(obj) if getattr(a, "json", False) else text)


def _sampling_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", default="demo",
                   help="run dir, .pt, .safetensors, save_pretrained folder, Hub id or 'demo' (default)")
    p.add_argument("--device", default="auto")
    p.add_argument("--train-mode", action="store_true",
                   help="use BatchNorm batch statistics instead of the running ones (eval mode)")
    p.add_argument("--json", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    ap = argparse.ArgumentParser(prog="dcgan", description="DCGAN Studio: train, explore and score DCGANs.")
    ap.add_argument("--version", action="version", version=f"dcgan-studio {__version__}")
    sub = ap.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = sub.add_parser("train", help="train a DCGAN into a run directory")
    _train_args(p)
    p.set_defaults(fn=cmd_train)

    p = sub.add_parser("generate", help="sample a grid (or a folder of PNGs) from a generator")
    _sampling_args(p)
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--seed", type=int, default=0, help="tile i uses seed + i")
    p.add_argument("--nrow", type=int, default=None)
    p.add_argument("--out", required=True, help="grid .png, or a folder for one PNG per seed")
    p.set_defaults(fn=cmd_generate)

    p = sub.add_parser("interpolate", help="a GIF walking through latent keyframes")
    _sampling_args(p)
    p.add_argument("--seeds", type=int, nargs="+", required=True, help="two or more keyframe seeds")
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--mode", default="slerp", choices=("slerp", "lerp"))
    p.add_argument("--loop", action="store_true", help="return to the first keyframe")
    p.add_argument("--duration", type=int, default=80, help="ms per frame")
    p.add_argument("--out", required=True, help="output .gif")
    p.set_defaults(fn=cmd_interpolate)

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
    _fid_args(p)
    p.set_defaults(fn=cmd_fid)

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
    p.add_argument("--checkpoint", default="demo", help="generator for the latency benchmark")
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
    p.add_argument("src", help="folder, .zip, demo, celeba or a generator")
    p.add_argument("--out", required=True, help="output .npz")
    _fid_args(p)
    p.set_defaults(fn=cmd_stats)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
