"""Replay runs' metrics through the monitor, epoch by epoch, and print what it would have said.

    python -m scripts.collapse_study RUN_DIR [RUN_DIR ...] [--fixture-dir tests/fixtures/collapse]

For each epoch: the step at its end, the signals the monitor computes from the records so far and
the alarms they raise under the current rules. Runs recorded before the trainer measured the
samples' extreme-pixel share get it here, from their saved grids (the same uint8 samples the
trainer measures) and from the same real images. With --fixture-dir it also writes each run's
settings and metrics, trimmed to what the monitor reads, as NAME.jsonl: the fixtures that
tests/test_monitor.py replays.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from dcgan import data, monitor, spectrum
from dcgan.runs import RunDir
from dcgan.train import SPECTRUM_IMAGES

KEEP_STEP = ("kind", "step", "epoch", "loss_d", "loss_g", "d_real", "d_fake", "batch_diversity", "d_fake_spread",
             "grad_norm_g")
KEEP_EPOCH = ("kind", "epoch", "step", "diversity_ratio", "fresh_diversity_ratio", "saturation", "real_saturation",
              "spectrum", "real_spectrum")
CONTEXT = ("data", "n_images", "ngf", "ndf", "flip", "augment", "lr", "beta1", "batch_size", "max_images",
           "precision", "upsample")


def grid_tiles(path: Path, n: int, size: int, pad: int = 2) -> np.ndarray:
    """The n tiles of a sample grid written by images.grid (nrow = int(sqrt(n)), 2 px padding)."""
    a = np.asarray(Image.open(path).convert("RGB"))
    nrow = int(math.sqrt(n)) or 1
    out = []
    for i in range(n):
        r, c = divmod(i, nrow)
        y, x = pad + r * (size + pad), pad + c * (size + pad)
        out.append(a[y:y + size, x:x + size])
    return np.stack(out)


def backfill(run: RunDir, records: list[dict]) -> list[dict]:
    """Add saturation / real_saturation and the periodic spectrum (spectrum / real_spectrum) to
    epoch records that lack them, from the saved grids (the trainer measures the spectrum on the
    64 fixed and 64 fresh samples; a grid has the fixed ones only)."""
    epochs = [r for r in records if r.get("kind") == "epoch"]
    if all(r.get("saturation") is not None and r.get("spectrum") for r in epochs):
        return records
    cfg = run.read_config()
    n, size = cfg.get("n_samples", 64), cfg["image_size"]
    real, _ = data.load(cfg["data"], size, max_images=cfg.get("max_images"), channels=cfg.get("nc", 3))
    pick = torch.randperm(len(real), generator=torch.Generator().manual_seed(cfg["seed"]))
    real_sat = monitor.saturation(real[pick[:n]])
    real_spec = spectrum.peak_contrast(real[pick[:SPECTRUM_IMAGES]])
    side = 2 + int(math.sqrt(n)) * (size + 2)  # a grid as the trainer writes it (shipped examples are scaled down)
    for r in epochs:
        path = run.sample_path(r["epoch"])
        if path.exists() and (r.get("saturation") is None or not r.get("spectrum")):
            with Image.open(path) as im:
                if im.size != (side, side):
                    continue
            tiles = torch.from_numpy(grid_tiles(path, n, size)).permute(0, 3, 1, 2)
            if r.get("saturation") is None:
                r["saturation"], r["real_saturation"] = monitor.saturation(tiles), real_sat
            if not r.get("spectrum"):
                r["spectrum"], r["real_spectrum"] = spectrum.peak_contrast(tiles), real_spec
    return records


def trim(records: list[dict]) -> list[dict]:
    out = []
    for r in records:
        keep = KEEP_STEP if r.get("kind") == "step" else KEEP_EPOCH if r.get("kind") == "epoch" else ()
        out.append({k: _round(v) for k, v in r.items() if k in keep})
    return [r for r in out if r]


def _round(v):
    if isinstance(v, float):
        return round(v, 5)
    if isinstance(v, dict):
        return {k: _round(x) for k, x in v.items()}
    return v


def load_fixture(path: Path) -> tuple[dict, list[dict]]:
    """(settings, records) of a fixture written by this script."""
    lines = [json.loads(x) for x in Path(path).read_text().splitlines() if x.strip()]
    return lines[0]["config"], lines[1:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--fixture-dir", type=Path, default=None)
    args = ap.parse_args()
    for path in args.runs:
        run = RunDir(path)
        cfg = run.read_config()
        context = {k: cfg.get(k) for k in CONTEXT}
        records = backfill(run, run.read_metrics())
        print(f"== {path.name}")
        for e in monitor.replay(records, context):
            sig = e["signals"]
            shown = " ".join(f"{k}={sig[k]:.2f}" for k in ("d_real_mean", "d_fake_mean", "diversity_ratio",
                                                             "fresh_diversity_ratio", "saturation", "checkerboard")
                             if k in sig)
            shown += f" {sig.get('checkerboard_trend', '')}"
            print(f"epoch {e['epoch']:3d} step {e['step']:5d} {shown} alarms={[a['kind'] for a in e['alarms']]}")
        if args.fixture_dir:
            args.fixture_dir.mkdir(parents=True, exist_ok=True)
            dest = args.fixture_dir / f"{path.name}.jsonl"
            lines = [{"kind": "config", "config": context}] + trim(records)
            dest.write_text("".join(json.dumps(r) + "\n" for r in lines))
            print(f"-> {dest} ({dest.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
