"""What a public app allows one visitor, and the disk it may fill: read from the Space owner's
environment, applied by the use cases to callers that are not the machine's own user.

    DCGAN_MAX_WORK       epochs × images one run may train (default 300000: 30 epochs of the faces)
    DCGAN_MAX_TRAIN_MIN  wall-clock minutes one run may train before it stops itself (default 30)
    DCGAN_RUNS_QUOTA_MB  the runs folder's size, uploads and Hub downloads included (default 4000)
    DCGAN_RUN_TTL_H      hours after it ends that an anonymous visitor's run is kept (default 24)

`expire` removes ended runs of anonymous visitors (owner "key:..."), oldest first, once they are
older than the TTL or while the folder is over its quota; never a running or queued run, never a
signed-in user's; each removal is logged (runs/expired.log and the app's log).
"""
from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ..runs import ENDED, RunDir, list_runs, runs_root

log = logging.getLogger("dcgan.limits")


def _env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass(frozen=True)
class Limits:
    max_work: int
    max_minutes: float
    quota_mb: float
    ttl_hours: float

    @classmethod
    def from_env(cls) -> "Limits":
        return cls(int(_env("DCGAN_MAX_WORK", 300_000)), _env("DCGAN_MAX_TRAIN_MIN", 30),
                   _env("DCGAN_RUNS_QUOTA_MB", 4000), _env("DCGAN_RUN_TTL_H", 24))

    def text(self) -> str:
        """The caps, said before Start."""
        return (f"On this shared Space one run may train at most {self.max_work:,} image passes (epochs × "
                f"images) and {self.max_minutes:g} minutes; runs wait their turn in a queue, one per visitor. "
                f"Runs of visitors who are not signed in are removed {self.ttl_hours:g} h after they end.")


def folder_bytes(root: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(root):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(dirpath, f))
            except OSError:
                pass
    return total


def expires_at(run: RunDir, limits: Limits) -> float | None:
    """When an anonymous visitor's ended run will be removed (epoch seconds); None if never."""
    owner = run.owner() or ""
    if not owner.startswith("key:") or run.state() not in ENDED:
        return None
    return run.status_file.stat().st_mtime + 3600 * limits.ttl_hours if run.status_file.exists() else None


def expire(limits: Limits, root: Path | None = None, now: float | None = None) -> list[str]:
    """Remove what `limits` says must go; the names removed."""
    root = root or runs_root()
    now = now or time.time()
    candidates = sorted((r for r in list_runs(root) if expires_at(r, limits) is not None),
                        key=lambda r: r.status_file.stat().st_mtime)
    removed = []
    over = folder_bytes(root) > limits.quota_mb * 2**20
    for run in candidates:
        if not (expires_at(run, limits) <= now or over):
            continue
        size = folder_bytes(run.path)
        shutil.rmtree(run.path, ignore_errors=True)
        removed.append(run.name)
        line = f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now))} removed {run.name} ({size / 2**20:.1f} MB): " \
               + ("over the quota" if over else f"ended more than {limits.ttl_hours:g} h ago")
        log.info(line)
        try:
            with open(root / "expired.log", "a") as f:
                f.write(line + "\n")
        except OSError:
            pass
        over = folder_bytes(root) > limits.quota_mb * 2**20
    return removed
