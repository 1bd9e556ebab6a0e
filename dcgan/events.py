"""What a training run says while it runs: one small dataclass per kind of event.

train.py yields these; the CLI renders them (progress.py), the worker writes them to train.log as
JSON lines (`to_dict`), the benchmark reads their rates. Each has a `type` word, which is also the
"type" key of its JSON form, so a log written by an earlier release reads the same. Not here: the
metrics records of metrics.jsonl (plain dicts, written by train.py and read by runs/compare).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import ClassVar


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = "event"

    def to_dict(self) -> dict:
        """{"type": ..., fields...}; optional fields left at None are omitted."""
        out = {"type": self.type}
        for f in fields(self):
            v = getattr(self, f.name)
            if v is not None or f.metadata.get("always"):
                out[f.name] = v
        return out


def _always(default=None):
    return field(default=default, metadata={"always": True})


@dataclass(frozen=True)
class Started(Event):
    type: ClassVar[str] = "start"
    config: dict
    data: dict  # decoding.DataReport.to_dict(): n_images, n_skipped, skipped, ...
    device: str
    steps_per_epoch: int
    resumed_from_epoch: int | None = _always()
    rewind: dict | None = None  # when this start is a rewind: config.json's newest "rewinds" entry


@dataclass(frozen=True)
class Logged(Event):
    """The averages of the steps since the last log (train.STEP_KEYS), every log_every steps."""
    type: ClassVar[str] = "step"
    step: int
    epoch: int
    loss_d: float
    loss_g: float
    d_real: float
    d_fake: float
    batch_diversity: float
    d_fake_spread: float
    grad_norm_g: float
    images_per_s: float
    steps_per_epoch: int

    @classmethod
    def from_record(cls, rec: dict, steps_per_epoch: int) -> "Logged":
        names = {f.name for f in fields(cls)} - {"steps_per_epoch"}
        return cls(**{k: rec[k] for k in names}, steps_per_epoch=steps_per_epoch)


@dataclass(frozen=True)
class EpochDone(Event):
    type: ClassVar[str] = "epoch"
    epoch: int
    epochs: int
    step: int
    sample: str  # the epoch's fixed-noise grid
    gif: str
    diversity_ratio: float
    signals: dict
    fid: float | None = None
    fid_protocol: str | None = None
    best_fid: float | None = None


@dataclass(frozen=True)
class AlarmRaised(Event):
    type: ClassVar[str] = "alarm"
    epoch: int
    kind: str
    message: str
    remedies: list  # remedies.Remedy records as dicts: what to try, and the settings each changes

    def sentence(self, setting_words=None, rewind_words: str | None = None) -> str:
        """The alarm in one sentence (remedies.sentence), settings said by `setting_words`."""
        from .remedies import sentence

        return sentence({"message": self.message, "remedies": self.remedies}, None, setting_words, rewind_words)

    def to_dict(self) -> dict:
        return {**super().to_dict(), "text": self.sentence()}


@dataclass(frozen=True)
class Warned(Event):
    type: ClassVar[str] = "warning"
    message: str


@dataclass(frozen=True)
class Checkpointed(Event):
    type: ClassVar[str] = "checkpoint"
    path: str
    epoch: int
    step: int


@dataclass(frozen=True)
class Finished(Event):
    """The end of a run: reason is "finished" or "stopped"."""
    type: ClassVar[str] = "done"
    reason: str
    epoch: int
    step: int
    ranks_in_sync: bool | None = None  # under torchrun: whether every rank ended with the same weights
