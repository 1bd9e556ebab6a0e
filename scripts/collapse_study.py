"""Replay runs' metrics through the monitor, epoch by epoch, and print what it would have said.

    python -m scripts.collapse_study RUN_DIR [RUN_DIR ...] [--fixture-dir tests/fixtures/collapse]

For each epoch: the step at its end, the signals the monitor computes from the step records so far
(losses, D outputs, batch and sample diversity) and the alarms they raise under the current rules.
With --fixture-dir it also writes each run's metrics, trimmed to what the monitor reads, as
NAME.jsonl: the fixtures tests/test_monitor.py replays.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from dcgan import monitor
from dcgan.runs import RunDir

KEEP_STEP = ("kind", "step", "epoch", "loss_d", "loss_g", "d_real", "d_fake", "batch_diversity", "d_fake_spread",
             "grad_norm_g")
KEEP_EPOCH = ("kind", "epoch", "step", "diversity_ratio", "fresh_diversity_ratio")


def trim(records: list[dict]) -> list[dict]:
    out = []
    for r in records:
        keep = KEEP_STEP if r.get("kind") == "step" else KEEP_EPOCH if r.get("kind") == "epoch" else ()
        out.append({k: (round(v, 5) if isinstance(v, float) else v) for k, v in r.items() if k in keep})
    return [r for r in out if r]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--fixture-dir", type=Path, default=None)
    args = ap.parse_args()
    for path in args.runs:
        records = RunDir(path).read_metrics()
        print(f"== {path.name}")
        for e in monitor.replay(records):
            sig = e["signals"]
            shown = " ".join(f"{k}={v:.2f}" for k, v in sig.items() if isinstance(v, float))
            print(f"epoch {e['epoch']:3d} step {e['step']:5d} {shown} alarms={[a['kind'] for a in e['alarms']]}")
        if args.fixture_dir:
            args.fixture_dir.mkdir(parents=True, exist_ok=True)
            dest = args.fixture_dir / f"{path.name}.jsonl"
            dest.write_text("".join(json.dumps(r) + "\n" for r in trim(records)))
            print(f"-> {dest} ({dest.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
