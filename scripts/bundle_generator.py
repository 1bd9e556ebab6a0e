"""Bundle a trained run as one of the app's generators: checkpoints/faces-generator/ (the default,
also called `demo`) or checkpoints/emoji-generator/.

    python -m scripts.bundle_generator RUN_DIR --as faces

Writes exactly what `python -m dcgan push` would upload (weights, config, model card, last grid,
a progress GIF at half size), plus the diversity of 64 samples measured against the real images of
the run's bundled dataset with the monitor's own measure.
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import torch

from dcgan import data, hub, latent, monitor
from dcgan.images import to_float


def diversity_note(run_dir: Path, dataset: str) -> str:
    g = hub.load_generator(run_dir)
    real, _ = data.load(dataset, g.image_size)
    pick = torch.randperm(len(real), generator=torch.Generator().manual_seed(0))[:64]
    real_div = monitor.diversity(to_float(real[pick]))
    fake_div = monitor.diversity(latent.sample(g, latent.z_from_seeds(range(1000, 1064), g.nz)))
    return (f"\nBundled as DCGAN Studio's {dataset} generator. Diversity of 64 samples (seeds 1000-1063, eval "
            f"mode): {fake_div:.2f}, against {real_div:.2f} for 64 real images (ratio {fake_div / real_div:.2f}).\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--as", dest="name", choices=sorted(hub.BUNDLED), required=True,
                    help="which bundled generator this run becomes")
    ap.add_argument("--gif-every", type=int, default=4, help="keep every k-th epoch in the GIF")
    ap.add_argument("--note", default="", help="a sentence for the card about how the run went")
    args = ap.parse_args()
    dest = hub.BUNDLED[args.name]
    shutil.rmtree(dest, ignore_errors=True)
    hub.stage(args.run_dir, dest, repo_id=None, gif_every=args.gif_every, gif_scale=0.5, bundled=args.name,
              extra=diversity_note(args.run_dir, args.name) + (f"\n{args.note}\n" if args.note else ""))
    for p in sorted(dest.iterdir()):
        print(f"{p.stat().st_size / 1e6:7.2f} MB  {p.name}")


if __name__ == "__main__":
    main()
