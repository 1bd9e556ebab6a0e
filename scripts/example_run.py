"""Ship a run's history as a read-only example run (dcgan/assets/examples/NAME): config.json with a
sentence saying what it is, metrics.jsonl, a few epoch grids at half size, a small progress GIF
and status.json. No checkpoints (the bundled generator is the weights).

    python -m scripts.example_run RUN_DIR --name example-faces --epochs 1 5 10 20 40 80 --note "..."
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from PIL import Image

from dcgan.runs import RunDir, write_grid_gif

EXAMPLES = Path(__file__).resolve().parent.parent / "dcgan" / "assets" / "examples"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("run_dir", type=Path)
    p.add_argument("--name", required=True)
    p.add_argument("--epochs", type=int, nargs="+", required=True, help="epoch grids to keep")
    p.add_argument("--note", required=True, help="what the example is, for config.json's 'example'")
    a = p.parse_args(argv)
    run, dest = RunDir(a.run_dir), EXAMPLES / a.name
    shutil.rmtree(dest, ignore_errors=True)
    (dest / "samples").mkdir(parents=True)
    cfg = run.read_config()
    for k in ("fid_weights", "data_root"):
        cfg.pop(k, None)
    cfg["example"] = a.note
    (dest / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    shutil.copyfile(run.metrics, dest / "metrics.jsonl")
    last = max(r["epoch"] for r in run.read_metrics() if r.get("kind") == "epoch")
    (dest / "status.json").write_text(json.dumps({"state": run.status().get("state", "finished"), "epoch": last}))
    kept = []
    for e in a.epochs:
        src = run.path / "samples" / f"epoch_{e:03d}.png"
        with Image.open(src) as im:
            im.convert("RGB").resize((im.width // 2, im.height // 2), Image.LANCZOS).save(
                dest / "samples" / src.name, optimize=True)
        kept.append(src)
    picked = run.sample_paths()[::max(1, len(run.sample_paths()) // 20)]
    write_grid_gif(picked + [run.sample_paths()[-1]], dest / "progress.gif", scale=lambda im: 0.4,
                   duration_ms=200, hold=4)
    for f in sorted(dest.rglob("*")):
        if f.is_file():
            print(f"{f.stat().st_size / 1e3:8.1f} kB  {f.relative_to(dest)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
