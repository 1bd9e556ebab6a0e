"""Build the bundled sets' real-side FID statistics that ship in dcgan/assets/fid/.

    python -m scripts.reference_stats [--weights PATH] [--sets faces emoji] [--keep 2048]

For each bundled set, at the size it trains at (64x64, RGB, prepared as training prepares it) and
the default protocol (legacy resize, 2048-d pool3), featurises every image with the standard TF-FID
Inception and writes the compact statistics (metrics.Evaluator names the file by the data's
fingerprint, the protocol, the weights' id and the preprocessing version, so they are used only when
all of these match). Refuses non-standard weights. Prints the file sizes and how much the compact
form moves an FID against the full-precision statistics (it must stay under 1e-6 relative).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("--weights", default=None, help="FID weights (default: as `dcgan fid` finds them)")
    p.add_argument("--sets", nargs="+", default=["faces", "emoji"])
    p.add_argument("--keep", type=int, default=2048, help="feature rows kept for KID and precision/recall")
    p.add_argument("--batch-size", type=int, default=50)
    a = p.parse_args(argv)

    from tqdm import tqdm

    from dcgan import data, fid, metrics

    bar = tqdm(unit="img")

    def progress(done, total):
        bar.total = total
        bar.n = done
        bar.refresh()

    ev = metrics.Evaluator(weights=a.weights, device="cpu", batch_size=a.batch_size, progress=progress)
    if not ev.fid_weights.standard:
        print(f"refusing: {ev.fid_weights.label} are not the standard weights", file=sys.stderr)
        return 2
    metrics.SHIPPED.mkdir(parents=True, exist_ok=True)
    full = {}
    for name in a.sets:
        src = data.open_source(name)
        bar.reset()
        bar.set_description(name)
        t = time.perf_counter()
        side = ev.side(name, image_size=64, channels=3)  # also cached in full precision
        secs = time.perf_counter() - t
        out = metrics.SHIPPED / ev._stats_name(src.report.fingerprint, 64, 3)
        fid.save_compact_stats(out, side.mu, side.sigma, side.features, side.n, a.keep, lossy=side.lossy,
                               sizes=np.array(sorted(side.sizes)), skipped=side.skipped,
                               mode_names=np.array(list(side.modes), dtype=str),
                               mode_counts=np.array(list(side.modes.values()), dtype=np.int64),
                               protocol=metrics.protocol(side.n, ev.resize, ev.dims, 64), weights_id=ev.fid_weights.id,
                               weights_value_id=ev.fid_weights.value_id, fingerprint=src.report.fingerprint,
                               preprocess_version=metrics.PREPROCESS_VERSION)
        full[name] = (side, out)
        print(f"\n{name}: {side.n} images in {secs:.0f} s ({side.n / secs:.1f} img/s); {out.name}: "
              f"{out.stat().st_size / 2**20:.2f} MiB")
    if len(full) >= 2:  # each compact file against full precision, on an FID between two sets
        (s1, p1), (s2, p2) = list(full.values())[:2]
        z1, z2 = fid.load_stats(p1), fid.load_stats(p2)
        exact = fid.frechet_distance(s1.mu, s1.sigma, s2.mu, s2.sigma)
        for label, (ma, sa, mb, sb) in ((a.sets[0], (z1["mu"], z1["sigma"], s2.mu, s2.sigma)),
                                        (a.sets[1], (s1.mu, s1.sigma, z2["mu"], z2["sigma"])),
                                        ("both", (z1["mu"], z1["sigma"], z2["mu"], z2["sigma"]))):
            compact = fid.frechet_distance(ma, sa, mb, sb)
            print(f"FID {a.sets[0]} vs {a.sets[1]}: full {exact:.9f}, {label} compact {compact:.9f}, "
                  f"relative change {abs(compact - exact) / exact:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
