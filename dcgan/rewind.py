"""Going back: a run continued from an earlier checkpoint (healthy.pt, or best.pt), recorded in the
run directory before anything trains again.

`record(run, source, cfg)` makes the run say it has gone back, one atomic file operation at a time,
so that every state between two steps is a readable run:

  1. the abandoned branch (records after the source's step, grids of later epochs) is built under a
     temporary name in branches/ and renamed to branches/N;
  2. config.json gains the rewind under "rewinds" (from_epoch, at_epoch, source, changed, branch)
     and the changed settings;
  3. last.pt becomes the source checkpoint, with the changed settings and a "rewind" record closing
     its metrics (temporary file, then rename): from here on the run continues from the source;
  4. metrics.jsonl is rewritten from that checkpoint, the later grids leave samples/, generator/ and
     progress.gif are redone, and status.json says "stopped" at the source's epoch.

Whoever trains next (the worker, or `train --resume`) resumes from last.pt as from any stop, so a
rewind stopped before its first step is simply a run stopped at its healthy epoch, its branch kept.
Nothing here trains.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import fields

from .config import TrainConfig
from .hub import generator_from_state
from .runs import RunDir, load_checkpoint


def record(run: RunDir, source: str, cfg: TrainConfig) -> dict:
    """Record a rewind of `run` to checkpoints/<source>.pt that continues with `cfg`'s settings;
    returns the rewind as config.json records it. The source must exist (RunDir.checkpoint_for)."""
    ck = load_checkpoint(run.checkpoint_for(source))
    config = run.read_config() if run.config.exists() else dict(ck["config"])
    changed = cfg.tuned(ck["config"])
    records = run.read_metrics()
    epochs = [r["epoch"] for r in records if r.get("kind") == "epoch"]
    entry = {"from_epoch": ck["epoch"], "at_epoch": max(epochs or [ck["epoch"]]), "source": source,
             "changed": changed, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    branch = _branch(run, records, ck["step"], entry)  # 1
    if branch is not None:
        entry["branch"] = branch
    tuned = {f.name: getattr(cfg, f.name) for f in fields(cfg) if f.metadata["tunable"]}
    run.write_config({**config, **tuned, "rewinds": [*config.get("rewinds", []), entry]})  # 2
    mark = {"kind": "rewind", "epoch": ck["epoch"], "step": ck["step"], "time": time.time(),
            **{k: v for k, v in entry.items() if k != "time"}}
    ck = {**ck, "config": {**ck["config"], **tuned}, "metrics": [*ck["metrics"], mark]}
    run.save_checkpoint({k: v for k, v in ck.items() if k != "format"})  # 3: the run is rewound from here
    run.rewrite_metrics(ck["metrics"])  # 4
    for p in run.sample_paths():
        if _epoch_of(p) > ck["epoch"]:
            p.unlink()
    run.save_generator(generator_from_state(ck))
    if run.sample_paths():
        run.update_gif()
    run.set_status("stopped", epoch=ck["epoch"], epochs=cfg.epochs,
                   reason=f"rewound to epoch {ck['epoch']} ({source}.pt)")
    return entry


def _epoch_of(path) -> int:
    return int(path.stem.split("_")[1])


def _branch(run: RunDir, records: list[dict], at_step: int, entry: dict) -> str | None:
    """Copy what was recorded after `at_step` (records, later epochs' grids) into branches/N with
    branch.json; its path relative to the run (None when nothing came after)."""
    later = [r for r in records if r.get("step", 0) > at_step
             or (r.get("kind") == "epoch" and r["epoch"] > entry["from_epoch"])]
    grids = [p for p in run.sample_paths() if _epoch_of(p) > entry["from_epoch"]]
    if not later and not grids:
        return None
    n = 1 + max((int(p.name) for p in run.branches.glob("*") if p.name.isdigit()), default=0)
    tmp = run.branches / f".tmp-{n}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "samples").mkdir(parents=True)
    (tmp / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in later))
    for p in grids:
        shutil.copyfile(p, tmp / "samples" / p.name)
    (tmp / "branch.json").write_text(json.dumps({**entry, "records": len(later)}, indent=2) + "\n")
    os.replace(tmp, run.branches / str(n))
    return f"branches/{n}"
