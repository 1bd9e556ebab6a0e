"""Throughput benchmarks, each against the conventional way, on the same model, data and device.

    python -m dcgan bench [--train] [--fid] [--generate] [--device auto] [--json] [--dry-run]

--train   images/s of a textbook loop (image files through a DataLoader with torchvision
          transforms, Sigmoid + BCELoss, `.item()` every step, as pytorch/examples does) against
          our trainer (uint8 dataset on the device, no per-step sync) in fp32, in bf16 where the
          device has it (CUDA; CPUs with AVX512-BF16 or AMX) and bf16 + torch.compile on CUDA.
--fid     Inception features/s of our pipeline against pytorch-fid on the same PNG files and
          weights (pytorch-fid is the `[bench]` extra, imported only here); frechet_distance
          against scipy.linalg.sqrtm on the same 2048-d statistics.
--generate latency of one 64x64 image and of a 64-image grid from the demo generator.
--dry-run every part at toy sizes, to check that the benchmark itself runs (the suite does this).

Every function takes its settings as arguments and leaves no patched function or changed
environment variable behind. Timings are wall-clock medians after warm-up; nothing in the test
suite asserts a time.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from . import data as datamod
from .errors import UserError


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def _timed(fn, repeat: int, device) -> list[float]:
    out = []
    for _ in range(repeat):
        _sync(device)
        t = time.perf_counter()
        fn()
        _sync(device)
        out.append(time.perf_counter() - t)
    return out


def _demo_pngs(root: Path, n: int) -> list[Path]:
    """n PNG files under root/x/ (an ImageFolder layout), cycling through the demo emoji."""
    from PIL import Image

    tiles = datamod.bundled_images("faces")
    (root / "x").mkdir(parents=True, exist_ok=True)
    paths = [root / "x" / f"{i:06d}.png" for i in range(n)]
    for i, p in enumerate(paths):
        Image.fromarray(tiles[i % len(tiles)]).save(p)
    return paths


# ------------------------------------------------------------------------- FID

def bench_frechet(stats_a: str | None = None, stats_b: str | None = None, repeat: int = 3, dims: int = 2048) -> dict:
    import scipy.linalg

    from .fid import frechet_distance, load_stats

    if stats_a and stats_b:
        a, b = load_stats(stats_a), load_stats(stats_b)
        mu1, s1, mu2, s2, source = a["mu"], a["sigma"], b["mu"], b["sigma"], "given .npz statistics"
    else:
        # full-rank 2048-d covariances with a decaying spectrum like pool3's
        rng = np.random.default_rng(0)
        d = dims
        f1 = rng.standard_normal((2 * d, d)) * np.geomspace(1.0, 1e-2, d)
        f2 = rng.standard_normal((2 * d, d)) * np.geomspace(1.2, 1e-2, d) + 0.05
        mu1, s1, mu2, s2 = f1.mean(0), np.cov(f1, rowvar=False), f2.mean(0), np.cov(f2, rowvar=False)
        source = f"synthetic {d}-d statistics ({2 * d} samples each)"

    def ref():
        covmean = scipy.linalg.sqrtm(s1 @ s2).real
        return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))

    t_ours = _timed(lambda: frechet_distance(mu1, s1, mu2, s2), repeat, torch.device("cpu"))
    t_ref = _timed(ref, repeat, torch.device("cpu"))
    ours, theirs = frechet_distance(mu1, s1, mu2, s2), ref()
    return {"source": source, "dims": int(mu1.shape[0]), "ours_s": statistics.median(t_ours),
            "sqrtm_s": statistics.median(t_ref), "speedup": statistics.median(t_ref) / statistics.median(t_ours),
            "fid_ours": ours, "fid_sqrtm": theirs, "rel_diff": abs(ours - theirs) / max(abs(theirs), 1e-12)}


def _decode_all(folder: Path) -> int:
    from .data import open_source
    from .decoding import decode

    return sum(len(chunk) for chunk in decode(open_source(str(folder)), None, plain=True))


def _pytorch_fid():
    """pytorch-fid's modules, or one line on how to install the [bench] extra."""
    try:
        import pytorch_fid.inception as pfi
        from pytorch_fid import fid_score
    except ImportError:
        raise UserError("the features benchmark compares against pytorch-fid, which is not installed: "
                        "pip install 'dcgan-studio[bench]' (or pass --train / --generate only)") from None
    return pfi, fid_score


def pytorch_fid_model(weights: Path, device: torch.device):
    """pytorch-fid's own InceptionV3 with our weights (any format we read, written in its layout),
    built through its public constructor: it reads its weights through torch.hub's cache, so the file
    is placed in a temporary hub folder under the name it asks for and the hub folder is restored
    afterwards (nothing of theirs patched)."""
    from .inception import open_weights

    pfi, _ = _pytorch_fid()
    before = torch.hub.get_dir()
    with tempfile.TemporaryDirectory() as hub:
        (Path(hub) / "checkpoints").mkdir()
        torch.save(open_weights(weights, "given")[1], Path(hub) / "checkpoints" / Path(pfi.FID_WEIGHTS_URL).name)
        torch.hub.set_dir(hub)
        try:
            return pfi.InceptionV3([3]).to(device).eval()
        finally:
            torch.hub.set_dir(before)


def bench_features(device: torch.device, n: int, batch_size: int, weights: str | None) -> dict:
    _, fid_score = _pytorch_fid()
    from .metrics import Evaluator

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        note = None
        if weights is None:
            from .errors import WeightsUnavailable
            from .inception import make_random_weights, weights_path

            try:
                weights = str(weights_path(None, download=False))
            except WeightsUnavailable:  # speed does not depend on the weights' values
                weights, note = str(make_random_weights(tmp / "random.pth")), "random weights (none installed)"
        files = _demo_pngs(tmp / "imgs", n)
        ev = Evaluator(weights=weights, device=str(device), batch_size=batch_size)
        wfile = ev.weights_file
        ref_model = pytorch_fid_model(wfile, device)
        ev.side(str(tmp / "imgs"), use_cache=False)  # warm-up; use_cache=False: measure featurising
        t_decode = _timed(lambda: _decode_all(tmp / "imgs"), 1, device)[0]  # the decode alone, as FID reads
        t_ours = _timed(lambda: ev.side(str(tmp / "imgs"), use_cache=False), 1, device)[0]
        fid_score.calculate_activation_statistics(files[:batch_size], ref_model, batch_size, 2048, device, 2)
        ref_mu = [None]

        def reference():
            ref_mu[0] = fid_score.calculate_activation_statistics(files, ref_model, batch_size, 2048, device, 2)[0]

        t_ref = _timed(reference, 1, device)[0]
        ours = ev.side(str(tmp / "imgs"), use_cache=False)
        gflop = _inception_gflop(ev.model, device)
    scale = float(np.abs(ref_mu[0]).max())
    return {"n": n, "batch_size": batch_size, "ours_img_s": n / t_ours, "pytorch_fid_img_s": n / t_ref,
            "decode_img_s": n / t_decode, "gflop_per_image": gflop, "ours_gflop_s": gflop * n / t_ours,
            "mu_max_rel_diff": float(np.abs(ours.mu - ref_mu[0]).max()) / scale,
            "speedup": t_ref / t_ours, "weights": note or ev.fid_weights.label}


def _inception_gflop(model, device) -> float:
    """Forward GFLOP of one 299x299 image, counted by torch (convolutions and matmuls)."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, 299, 299, device=device))
    return counter.get_total_flops() / 1e9


# ------------------------------------------------------------------------- training

def _conventional_loop(root: Path, cfg, device: torch.device, steps: int, warmup: int) -> float:
    """The textbook loop: ImageFolder + transforms in a DataLoader, Sigmoid + BCELoss, .item() per step."""
    import torchvision.transforms as T
    from torch import nn
    from torch.utils.data import DataLoader
    from torchvision.datasets import ImageFolder

    from .models import build

    tf = T.Compose([T.Resize(cfg.image_size), T.CenterCrop(cfg.image_size), T.RandomHorizontalFlip(),
                    T.ToTensor(), T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    loader = DataLoader(ImageFolder(str(root), transform=tf), batch_size=cfg.batch_size, shuffle=True,
                        num_workers=2, drop_last=True)
    g, d = build(cfg.model(), seed=0)
    g, d = g.to(device), d.to(device)
    bce = nn.BCELoss()
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    t0 = None
    for i, (real, _) in enumerate(loader):
        if i == warmup + steps:
            break
        if i == warmup:
            _sync(device)
            t0 = time.perf_counter()
        real = real.to(device)
        b = real.size(0)
        d.zero_grad()
        label = torch.full((b,), 1.0, device=device)
        out = d(real)
        err_real = bce(out, label)
        err_real.backward()
        d_x = out.mean().item()
        fake = g(torch.randn(b, cfg.nz, 1, 1, device=device))
        label.fill_(0.0)
        out = d(fake.detach())
        err_fake = bce(out, label)
        err_fake.backward()
        d_gz1 = out.mean().item()
        opt_d.step()
        g.zero_grad()
        label.fill_(1.0)
        out = d(fake)
        err_g = bce(out, label)
        err_g.backward()
        d_gz2 = out.mean().item()
        opt_g.step()
        _ = (err_real.item() + err_fake.item(), err_g.item(), d_x, d_gz1, d_gz2)
    _sync(device)
    # wall time from the first measured step to the end: the loader's waits count, as a user feels them
    return cfg.batch_size * steps / (time.perf_counter() - t0)


def _our_loop(root: Path, cfg, steps: int, warmup: int) -> float:
    """Our trainer end to end; images/s over the step records after warm-up (one epoch, no epoch end)."""
    from .events import Logged
    from .train import train

    with tempfile.TemporaryDirectory() as out:
        rates = []
        for ev in train(cfg, Path(out) / "run"):
            if not isinstance(ev, Logged):
                continue
            # each step record's rate covers the log window (step - log_every, step]: whole windows after warm-up
            if ev.step - cfg.log_every >= warmup:
                rates.append(ev.images_per_s)
            if ev.step >= warmup + steps:
                break
    return statistics.median(rates)


def train_flops_per_image(cfg) -> float:
    """FLOPs of one training step per image (D on real and fake, G through D), counted by torch."""
    import torch.nn.functional as F
    from torch.utils.flop_counter import FlopCounterMode

    from .models import build

    g, d = build(cfg.model(), seed=0)
    b = 4
    real, z = torch.rand(b, 3, cfg.image_size, cfg.image_size) * 2 - 1, torch.randn(b, cfg.nz, 1, 1)
    ones, zeros = torch.ones(b), torch.zeros(b)
    with FlopCounterMode(display=False) as fc:
        fake = g(z)
        loss_d = (F.binary_cross_entropy_with_logits(d.logits(real), ones)
                  + F.binary_cross_entropy_with_logits(d.logits(fake.detach()), zeros))
        loss_d.backward()
        F.binary_cross_entropy_with_logits(d.logits(fake), ones).backward()
    return fc.get_total_flops() / b


# dense bf16 tensor-core peaks (vendor figures), for "fraction of the bound"
PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12}


def bench_train(device: torch.device, batch_size: int, ngf: int, ndf: int, steps: int, warmup: int,
                image_size: int = 64, repeats: int = 2) -> dict:
    from .config import TrainConfig, bf16_supported

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "imgs"
        # logged (and host-synced) every few steps as in a real run, not every step
        log_every = max(1, min(10, steps // 5))
        n = batch_size * (steps + warmup + log_every + 1)
        _demo_pngs(root, n)
        base = dict(data=str(root), epochs=1, batch_size=batch_size, ngf=ngf, ndf=ndf, device=str(device),
                    log_every=log_every, ckpt_every_s=1e9, image_size=image_size)
        cfg = TrainConfig(**base)
        loops = {"conventional": lambda: _conventional_loop(root, cfg, device, steps, warmup),
                 "ours_fp32": lambda: _our_loop(root, TrainConfig(**base, precision="fp32"), steps, warmup)}
        if bf16_supported(device):
            loops["ours_bf16"] = lambda: _our_loop(root, TrainConfig(**base, precision="bf16"), steps, warmup)
        # interleaved rounds, best round per loop: a shared CPU's noise slows whatever runs when it
        # strikes, so the best of two rounds is the fairer figure (timeit's rule)
        rounds = [{k: fn() for k, fn in loops.items()} for _ in range(repeats)]
        rows = {k: max(r[k] for r in rounds) for k in loops}
        compile_error = None
        if device.type == "cuda":
            try:
                rows["ours_bf16_compile"] = _our_loop(root, TrainConfig(**base, precision="bf16", compile=True),
                                                      steps, warmup + log_every)
            except Exception as e:  # a compiler bug in one torch release must not cost the other rows
                compile_error = f"{type(e).__name__}: {str(e).strip().splitlines()[0][:200]}"
    flops = train_flops_per_image(cfg)
    out = {"device": str(device), "batch_size": batch_size, "ngf": ngf, "ndf": ndf, "steps": steps,
           "repeats": repeats, "images_per_s": rows, "speedup": {k: v / rows["conventional"] for k, v in rows.items()},
           "gflop_per_image": flops / 1e9, "tflop_per_s": {k: v * flops / 1e12 for k, v in rows.items()}}
    if compile_error:
        out["compile_error"] = compile_error
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        peak = next((v for k, v in PEAK_BF16.items() if k in name), None)
        if peak:
            out["bf16_peak_tflops"] = peak / 1e12
            out["fraction_of_bf16_peak"] = {k: v * flops / peak for k, v in rows.items() if "bf16" in k}
    return out


# ------------------------------------------------------------------------- generation

def bench_generate(checkpoint: str, device: torch.device, repeat: int = 30) -> dict:
    from .hub import load_generator
    from .images import grid_image, to_pils, to_uint8
    from .latent import sample, z_from_seeds

    g = load_generator(checkpoint, device)
    z1, z64 = z_from_seeds([0], g.nz), z_from_seeds(range(64), g.nz)
    one = lambda: to_pils(to_uint8(sample(g, z1)))  # noqa: E731 - a slider move: z -> picture
    grid = lambda: grid_image(sample(g, z64), 8)  # noqa: E731

    def one_encoded():  # what the server does for a slider move, PNG encoding included
        import io

        one()[0].save(io.BytesIO(), format="PNG")

    for f in (one, grid, one_encoded):
        f()
    return {"checkpoint": checkpoint, "device": str(device),
            "one_image_ms": 1000 * statistics.median(_timed(one, repeat, device)),
            "one_image_encoded_ms": 1000 * statistics.median(_timed(one_encoded, repeat, device)),
            "grid64_ms": 1000 * statistics.median(_timed(grid, max(5, repeat // 3), device))}


# ------------------------------------------------------------------------- entry

def run(device: str = "auto", train: bool = True, fid: bool = True, generate: bool = True, batch_size: int = 128,
        ngf: int = 64, ndf: int = 64, steps: int | None = None, fid_n: int | None = None, fid_batch_size: int = 16,
        weights: str | None = None, stats_a: str | None = None, stats_b: str | None = None,
        checkpoint: str = "demo", dry_run: bool = False) -> dict:
    """The chosen benchmarks on one device; dry_run shrinks every size to seconds of work."""
    from .config import resolve_device

    dev = resolve_device(device)
    gpu = dev.type == "cuda"
    if dry_run:
        batch_size, ngf, ndf, steps, fid_n, fid_batch_size = 8, 8, 8, 1, 4, 2
    out: dict = {"device": str(dev), "torch": torch.__version__, "threads": torch.get_num_threads(), "dry_run": dry_run}
    if generate:
        out["generate"] = bench_generate(checkpoint, dev, repeat=2 if dry_run else 30)
    if fid:
        out["frechet"] = bench_frechet(stats_a, stats_b, repeat=1 if dry_run else 3, dims=64 if dry_run else 2048)
        out["features"] = bench_features(dev, fid_n or (512 if gpu else 16), fid_batch_size, weights)
    if train:
        out["train"] = bench_train(dev, batch_size, ngf, ndf, steps or (50 if gpu else 10),
                                   warmup=1 if dry_run else (10 if gpu else 2), image_size=32 if dry_run else 64,
                                   repeats=1 if dry_run else 2)
    return out


def table(r: dict) -> str:
    lines = [f"device {r['device']}, torch {r['torch']}, {r['threads']} threads"]
    if "train" in r:
        t = r["train"]
        lines.append(f"\ntraining, batch {t['batch_size']}, ngf {t['ngf']}, ndf {t['ndf']}, {t['steps']} steps, "
                     f"best of {t.get('repeats', 1)} interleaved rounds:")
        for k, v in t["images_per_s"].items():
            lines.append(f"  {k:<18} {v:10.1f} images/s   {t['speedup'][k]:5.2f}x   "
                         f"{t['tflop_per_s'][k]:8.3f} TFLOP/s")
        lines.append(f"  ({t['gflop_per_image']:.2f} GFLOP per training image, counted by torch)")
        if "compile_error" in t:
            lines.append(f"  ours_bf16_compile  failed: {t['compile_error']}")
        for k, v in t.get("fraction_of_bf16_peak", {}).items():
            lines.append(f"  {k}: {100 * v:.1f}% of the {t['bf16_peak_tflops']:.0f} TFLOP/s bf16 peak")
    if "features" in r:
        f = r["features"]
        lines.append(f"\nInception features ({f['n']} PNGs, batch {f['batch_size']}, {f['weights']}):")
        lines.append(f"  ours           {f['ours_img_s']:10.1f} images/s   {f['speedup']:5.2f}x   "
                     f"{f.get('ours_gflop_s', 0):7.0f} GFLOP/s ({f.get('gflop_per_image', 0):.2f} GFLOP an image)")
        lines.append(f"  pytorch-fid    {f['pytorch_fid_img_s']:10.1f} images/s   (fp32 both; mu differs by at most "
                     f"{f.get('mu_max_rel_diff', 0):.1e} of its largest value)")
        if "decode_img_s" in f:
            lines.append(f"  (our decode alone, as FID reads the files: {f['decode_img_s']:.0f} images/s)")
    if "frechet" in r:
        f = r["frechet"]
        lines.append(f"\nfrechet_distance, {f['dims']}-d ({f['source']}):")
        lines.append(f"  ours (eigh)    {f['ours_s'] * 1000:10.1f} ms   {f['speedup']:5.1f}x faster")
        lines.append(f"  scipy sqrtm    {f['sqrtm_s'] * 1000:10.1f} ms   relative difference {f['rel_diff']:.2e}")
    if "generate" in r:
        gnr = r["generate"]
        lines.append(f"\ngeneration ({gnr['checkpoint']}): one image {gnr['one_image_ms']:.1f} ms "
                     f"({gnr['one_image_encoded_ms']:.1f} ms with PNG encoding: a slider move's server work), "
                     f"64-image grid {gnr['grid64_ms']:.1f} ms")
    return "\n".join(lines)
