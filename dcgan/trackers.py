"""Experiment trackers: TensorBoard, trackio and Weights & Biases, when a run asks for them.

`Trackers(names, run, config)` opens each asked-for tracker (its package imported only then; a
missing one is a one-line TrackerUnavailable naming the extra to install) and receives what the
run directory already records: every step record (losses, D(x), D(G(z)), diversity, images/s),
every epoch record (fixed-noise grid, diversity, alarms, FID) and the settings as hyperparameters.
A tracker that fails to start or fails mid-run (no login, full disk, lost connection) is switched
off with one warning; it never stops or corrupts the training. TensorBoard's event files go to RUN_DIR/tensorboard; trackio
keeps its local database (TRACKIO_DIR) and W&B its usual folder under the run directory.
"""
from __future__ import annotations

import json
import math
import uuid
from pathlib import Path

from .errors import TrackerUnavailable
from .remedies import sentence

KNOWN = ("tensorboard", "trackio", "wandb")
EXTRA = {"tensorboard": "tensorboard", "trackio": "trackio", "wandb": "wandb"}
PROJECT = "dcgan-studio"


def parse(names: str | None) -> list[str]:
    out = [n.strip().lower() for n in str(names or "").split(",") if n.strip()]
    unknown = [n for n in out if n not in KNOWN]
    if unknown:
        from .errors import ConfigError

        raise ConfigError(f"{{track}} must be a comma list of {', '.join(KNOWN)} (got {str(names)[:40]!r})",
                          settings=("track",))
    return list(dict.fromkeys(out))


def _scalars(rec: dict, prefix: str) -> dict:
    return {f"{prefix}/{k}": float(v) for k, v in rec.items()
            if k not in ("kind", "step", "epoch") and isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(v)}


class _TensorBoard:
    def __init__(self, run_path: Path, name: str, config: dict):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise TrackerUnavailable(_missing("tensorboard")) from None
        from torch.utils.tensorboard.summary import hparams

        self.w = SummaryWriter(log_dir=str(run_path / "tensorboard"))
        self.w.add_text("config", "\n".join(f"    {k}: {v}" for k, v in config.items()), 0)
        # the settings in TensorBoard's HParams tab, in this run's own folder (add_hparams would
        # make a sub-run), with the epoch diversity as the metric to sort by
        hp = {k: v if isinstance(v, (int, float, str, bool)) else str(v) for k, v in config.items()}
        writer = self.w._get_file_writer()
        for summary in hparams(hp, {"epoch/diversity_ratio": 0.0}):
            writer.add_summary(summary)

    def step(self, rec):
        for k, v in _scalars(rec, "train").items():
            self.w.add_scalar(k, v, rec["step"])

    def epoch(self, rec, grid):
        for k, v in _scalars({k: v for k, v in rec.items() if k != "signals"}, "epoch").items():
            self.w.add_scalar(k, v, rec["step"])
        self.w.add_scalar("epoch/alarms", len(rec.get("alarms", [])), rec["step"])
        for a in rec.get("alarms", []):
            self.w.add_text("alarms", f"epoch {rec['epoch']}: {sentence(a)}", rec["step"])
        if grid is not None:
            import numpy as np

            self.w.add_image("samples/fixed_noise", np.asarray(grid.convert("RGB")), rec["step"], dataformats="HWC")
        self.w.flush()

    def close(self):
        self.w.close()


class _RunLogger:
    """What trackio and W&B share: a run object with log(dict, step) and finish(), and an Image type."""

    run = None
    image = None

    def step(self, rec):
        self.run.log(_scalars(rec, "train"), step=rec["step"])

    def epoch(self, rec, grid):
        vals = _scalars({k: v for k, v in rec.items() if k != "signals"}, "epoch")
        vals["epoch/alarms"] = len(rec.get("alarms", []))
        if grid is not None:
            vals["samples/fixed_noise"] = self.image(grid, caption=f"epoch {rec['epoch']}")
        self.run.log(vals, step=rec["step"])

    def close(self):
        self.run.finish()


class _Trackio(_RunLogger):
    def __init__(self, run_path: Path, name: str, config: dict):
        try:
            import trackio
        except ImportError:
            raise TrackerUnavailable(_missing("trackio")) from None
        self.image = trackio.Image
        self.run = trackio.init(project=PROJECT, name=name, config=config, resume="allow", embed=False)


class _Wandb(_RunLogger):
    def __init__(self, run_path: Path, name: str, config: dict):
        try:
            import wandb
        except ImportError:
            raise TrackerUnavailable(_missing("wandb")) from None
        self.image = wandb.Image
        # the id lives with the run, so a resumed run continues the same W&B run
        id_file = run_path / "wandb_id"
        run_id = id_file.read_text().strip() if id_file.exists() else uuid.uuid4().hex[:12]
        id_file.write_text(run_id)
        self.run = wandb.init(project=PROJECT, name=name, id=run_id, resume="allow", config=config,
                              dir=str(run_path))


_KINDS = {"tensorboard": _TensorBoard, "trackio": _Trackio, "wandb": _Wandb}


def _missing(name: str) -> str:
    return (f"--track {name} needs the {name} package: pip install 'dcgan-studio[{EXTRA[name]}]' "
            f"(or pip install {EXTRA[name]})")


class Trackers:
    """The asked-for trackers of one run; `warnings` collects one line per tracker that failed."""

    def __init__(self, names: str | None, run_path: str | Path, config: dict):
        self.open: dict = {}
        self.warnings: list[str] = []
        clean = json.loads(json.dumps(config, default=str))
        for name in parse(names):
            try:
                self.open[name] = _KINDS[name](Path(run_path), Path(run_path).name, clean)
            except TrackerUnavailable:
                raise
            except Exception as e:  # noqa: BLE001 - no server, no login: train anyway, say so once
                self.warnings.append(f"{name} could not start ({type(e).__name__}: {str(e)[:160]}); "
                                     "training goes on without it")

    def __bool__(self) -> bool:
        return bool(self.open)

    def _each(self, method: str, *args) -> None:
        for name, t in list(self.open.items()):
            try:
                getattr(t, method)(*args)
            except Exception as e:  # noqa: BLE001 - a tracker never stops the training
                del self.open[name]
                self.warnings.append(f"{name} stopped logging ({type(e).__name__}: {str(e)[:160]}); "
                                     "training goes on and the run directory has everything")

    def step(self, rec: dict) -> None:
        self._each("step", rec)

    def epoch(self, rec: dict, grid=None) -> None:
        self._each("epoch", rec, grid)

    def close(self) -> None:
        self._each("close")
        self.open.clear()

    def take_warnings(self) -> list[str]:
        out, self.warnings = self.warnings, []
        return out
