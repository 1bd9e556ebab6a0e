"""Precision/recall of a generator against its data, ours beside a reference implementation (prdc).

    python -m scripts.pr_check [--data faces] [--generator demo] [--n 500] [--weights PATH]

Featurises the first N real images (prepared at the generator's size) and N samples with the FID
Inception, then prints improved precision/recall (k = 3) from dcgan.fid and from prdc (a test
requirement), the same for two disjoint halves of the real images (what P/R read when both sides
are real), and the geometry behind them: the real k-NN radii against the distance from each
sample to its nearest real image.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("--data", default="faces")
    p.add_argument("--generator", default="demo")
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--weights", default=None)
    a = p.parse_args(argv)

    import torch
    from prdc import compute_prdc

    from dcgan import data, fid, inception
    from dcgan.hub import load_generator
    from dcgan.images import to_uint8
    from dcgan.latent import sample, z_from_seeds

    w = inception.resolve(a.weights)
    net = inception.load(w)
    g = load_generator(a.generator)

    def feats(x: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return np.concatenate([net(inception.preprocess(x[i:i + 25])).numpy() for i in range(0, len(x), 25)])

    real_u8, _ = data.load(a.data, g.image_size, max_images=2 * a.n, use_cache=False)
    real = feats(real_u8[:2 * a.n])
    fake = feats(to_uint8(sample(g, z_from_seeds(range(a.n), g.nz))))
    r1, r2 = real[:a.n], real[a.n:]
    print(f"weights: {w.label}; N = {a.n} per side")
    for label, x, y in (("real vs generated", r1, fake), ("real half 1 vs real half 2", r1, r2)):
        ref = compute_prdc(x, y, nearest_k=3)
        print(f"{label}: ours P/R = {fid.precision_recall(x, y, k=3)}, prdc P/R = "
              f"({ref['precision']}, {ref['recall']})")
    rt, ft = torch.from_numpy(r1), torch.from_numpy(fake)
    radius = torch.cdist(rt, rt).kthvalue(4, dim=1).values  # the 3rd neighbour (the 1st is the point itself)
    gap = torch.cdist(ft, rt).min(dim=1).values
    print(f"real 3-NN radius: median {radius.median():.2f}, max {radius.max():.2f}; "
          f"sample to nearest real: median {gap.median():.2f}, min {gap.min():.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
