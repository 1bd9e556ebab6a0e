"""Score the bundled generators with the standard FID weights and write the numbers where people look.

    python -m scripts.score_bundled [--n 10000] [--names faces emoji] [--weights PATH]

For each bundled generator, `dcgan fid DATA NAME --n N --fid-inf` as the API computes it (real side:
the bundled set's shipped statistics; generated side: N samples, seed i for image i), then writes
checkpoints/NAME-generator/fid.json (the whole report) and the "## Scores" section of its model card.
Refuses non-standard weights: a bundled score must be comparable.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = {"faces": "faces", "emoji": "emoji"}


def section(rep: dict, n: int, name: str) -> str:
    f = lambda v, p=2: "n/a" if v is None else f"{v:.{p}f}"  # noqa: E731
    kid = f(rep["kid_mean"], 4) + ("" if rep["kid_std"] is None else f" ± {rep['kid_std']:.4f}")
    return (f"## Scores\n\nMeasured with the standard TF-FID Inception weights (2015-12-05), real side = all "
            f"{rep['n_a']:,} bundled {DATA[name]} images prepared at 64×64 as training does, generated side = "
            f"{rep['n_b']:,} samples (seed i for image i, eval mode), protocol `{rep['protocol']}`:\n\n"
            f"| metric | value |\n|---|---|\n| FID | {f(rep['fid'])} |\n| mean term / covariance term | "
            f"{f(rep['fid_mean_term'])} / {f(rep['fid_cov_term'])} |\n| FID∞ | {f(rep.get('fid_inf'))} |\n"
            f"| KID | {kid} |\n| precision / recall (Inception pool3, k = 3) | {f(rep['precision'], 3)} / "
            f"{f(rep['recall'], 3)} |\n\n"
            f"`dcgan fid {DATA[name]} {name}-generator --n {n} --fid-inf --json` (the whole report: `fid.json`).\n")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--names", nargs="+", default=["faces", "emoji"])
    p.add_argument("--weights", default=None)
    a = p.parse_args(argv)

    from tqdm import tqdm

    from dcgan import api

    for name in a.names:
        bar = tqdm(desc=name, unit="img")

        def progress(step):
            if step.total:
                bar.total, bar.n = step.total, step.done
                bar.refresh()

        r = api.fid(api.LOCAL, DATA[name], f"{name}-generator", n=a.n, fid_inf=True, weights=a.weights,
                    progress=progress)
        bar.close()
        rep = r.report.to_dict()
        if rep["n_b"] != a.n or rep["real"] == rep["generated"]:
            print(f"refusing: the generated side was not the {name} generator ({rep['generated']})", file=sys.stderr)
            return 2
        if not rep["weights_standard"]:
            print(f"refusing: {rep['weights']}", file=sys.stderr)
            return 2
        folder = REPO / "checkpoints" / f"{name}-generator"
        (folder / "fid.json").write_text(json.dumps(rep, indent=2) + "\n")
        card = (folder / "README.md").read_text()
        text = section(rep, a.n, name)
        card = re.sub(r"## Scores\n.*?(?=\n## )", text.rstrip("\n") + "\n", card, flags=re.S) if "## Scores" in card \
            else card.replace("\n## Limitations", "\n" + text + "\n## Limitations")
        (folder / "README.md").write_text(card)
        print(f"{name}: FID {rep['fid']:.3f} (mean {rep['fid_mean_term']:.3f} + cov {rep['fid_cov_term']:.3f}), "
              f"FID∞ {rep.get('fid_inf')}, KID {rep['kid_mean']}, P/R {rep['precision']}/{rep['recall']}, "
              f"{rep['protocol']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
