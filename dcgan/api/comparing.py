"""Use case: runs side by side (`compare_runs`): curves overlaid, newest grids, the settings that
differ, each run's first alarm and FID, and the branches a rewind left. Drawn by comparison.py;
the answer is data (results.Comparison), worded by each adapter.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

from .. import comparison
from ..errors import ConfigError
from ..runs import list_runs
from . import checks
from .access import run_for
from .caller import Caller
from .results import ComparedRun, Comparison

MAX_RUNS = 8
EXAMPLE_PAIR = ("example-300-faces", "example-300-faces-augment")  # collapsed, and fixed by augmentation


def compare_runs(caller: Caller, runs: Sequence[str] | None = None, out: str | Path | None = None,
                 replay: bool = False) -> Comparison:
    """Two or more runs side by side (curves overlaid, newest grids, differing settings, first
    alarms), drawn to `out` (.png; a temporary file when none). No runs named: the caller's two
    newest, else the shipped pair of the blog's experiment."""
    names = [str(r).strip() for r in (runs or []) if str(r).strip()]
    if not names:
        names = [r.name for r in list_runs() if caller.sees(r.owner())][:2]
        names = names if len(names) == 2 else list(EXAMPLE_PAIR)
    if len(names) > MAX_RUNS:
        raise ConfigError(f"{{runs}} takes at most {MAX_RUNS} runs at a time (got {len(names)})", settings=("runs",))
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"{{runs}} names {', '.join(map(repr, twice))} twice; compare different runs",
                          settings=("runs",))
    found = [run_for(caller, name) for name in names]
    if len(names) < 2 and not (found and found[0].branch_dirs()):  # one rewound run: it and its branches
        raise ConfigError("{runs} needs two or more runs to compare, or one run that was rewound "
                          "(train another run first)", settings=("runs",))
    if out is not None and Path(out).suffix.lower() != ".png":
        raise ConfigError(f"{{out}} must be a .png file (got {Path(out).name!r})", settings=("out",))
    views = comparison.load([r.path for r in found], replay=checks.flag(replay, "replay"))
    if out is None:
        out = Path(tempfile.mkdtemp(prefix="dcgan-compare-")) / "compare.png"
    picture = comparison.save(views, out)
    grids = [(v.grid, f"{v.name}: newest grid") for v in views if v.grid] + \
            [(v.gif, f"{v.name}: progress GIF") for v in views if v.gif]
    compared = []
    for v in views:
        scored = [e for e in v.epochs if e.get("fid") is not None]
        fid = {"protocol": scored[-1].get("fid_protocol", "FID"), "last": (scored[-1]["fid"], scored[-1]["epoch"]),
               "best": v.best_fid} if scored else None
        compared.append(ComparedRun(v.name, v.state, v.first_alarm, fid, [b.to_dict() for b in v.branches]))
    return Comparison(Path(picture), [v.name for v in views], comparison.differing(views), compared, grids)
