"""What the use cases return: small dataclasses, one per kind of answer.

Pictures are PIL images (the adapters decide how to send them: a PNG file for the CLI, a file
output for the page and the HTTP API, image content for MCP); numbers and records are plain
fields, with `to_dict()` where an adapter prints JSON. The FID report is metrics.FidReport.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from PIL import Image

from ..metrics import FidReport


@dataclass(frozen=True)
class TrainingStarted:
    """A training started (or queued): the run's name and what the page or a script says about it."""
    run: str  # the run's name (pass it to follow, stop, resume, compare)
    n_images: int
    data: str = ""  # the data source as it names itself ("faces", "folder cats", "zip x.zip")
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why) for unreadable files
    queued: int = 0  # its place in the queue (0: started now)
    wait_s: float | None = None  # about how long until it starts, when queued
    resumed: bool = False
    epochs: int | None = None  # the epoch total it trains towards
    changed: dict = field(default_factory=dict)  # settings changed on resume or rewind, by name
    rewound: dict | None = None  # the rewind (from_epoch, at_epoch, source, changed, branch) when it is one

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Stopped:
    """What stop did: `what` is stopped (a running training stopped, its checkpoint saved),
    left_queue (a waiting run taken out of the queue), not_running (the named run was not
    training) or nothing (the caller had nothing running or waiting)."""
    run: str | None
    state: str  # the run's state afterwards ("idle" when there was no run)
    what: str


@dataclass(frozen=True)
class RunInfo:
    name: str
    state: str
    epoch: int
    epochs: int | None
    data: str | None
    ngf: int | None
    ndf: int | None
    flip: bool | None
    augment: str | None
    first_alarm: dict | None
    best_fid: tuple[float, int] | None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RewindOffer:
    """A way back from an active alarm: the run's last healthy epoch (checkpoints/healthy.pt, an
    epoch the monitor judged clear) and what it may continue with, the monitor's first remedy first."""
    epoch: int
    options: list  # [(words, {setting: value})]

    def changes(self, words: str | None) -> dict:
        return next((c for w, c in self.options if w == words), self.options[0][1])


@dataclass(frozen=True)
class RunStatus:
    """A run's state and numbers, reconciled with the world: a dead worker is never running, the
    epoch and step are the newest records', the ETA is measured from the run itself."""
    state: str  # runs.STATES, or "example" for a shipped example run
    epoch: int  # epochs completed (the newest epoch record)
    epochs: int | None  # epochs asked for
    step: int  # the newest logged step
    images_per_s: float | None = None  # the newest step record's training throughput
    eta_s: float | None = None  # while running: time left, from the measured seconds per epoch
    fid: float | None = None  # the newest FID, when tracked
    fid_protocol: str | None = None
    best_fid: tuple[float, int] | None = None  # (FID, epoch) kept as best.pt
    reason: str | None = None  # why it failed or stopped, when status.json says
    position: int | None = None  # its place in the queue, when waiting
    wait_s: float | None = None  # about how long until it starts, when waiting
    expires_at: float | None = None  # when an anonymous visitor's ended run is removed (epoch seconds)
    rewinds: int = 0  # how many times it went back to a healthy epoch

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RunSnapshot:
    """One look at a run directory: what the live view draws, as data (the adapters word it)."""
    name: str
    status: RunStatus
    config: dict
    steps: list[dict]  # metrics.jsonl's step records
    epochs: list[dict]  # its epoch records (signals, alarms, FID)
    phase: object  # monitor.Phase: where the run stands (stall, healthy, trouble, ...)
    alarms: list[dict]  # the newest epoch's alarms (kind, message, remedies)
    history: dict  # alarm kind -> the epochs it fired at
    grid: Path | None  # the newest fixed-noise grid
    gif: Path | None
    files: list[tuple[Path, str]]  # what may be downloaded, with what it is: checkpoint, generator, gif
    path: Path  # the run directory (for the app's own drawing; never sent to a visitor)
    example: bool = False  # a shipped example run: read-only
    rewind: RewindOffer | None = None  # while an alarm is active and a healthier epoch is kept

    @property
    def state(self) -> str:
        return self.status.state

    def to_dict(self) -> dict:
        last = self.steps[-1] if self.steps else {}
        return {"name": self.name, "state": self.state, "epoch": self.status.epoch, "step": self.status.step,
                "epochs": self.status.epochs, "status": self.status.to_dict(), "last_step": last,
                "last_epoch": self.epochs[-1] if self.epochs else None, "phase": self.phase.to_dict(),
                "alarms": self.alarms, "alarm_history": self.history,
                "files": [what for _, what in self.files],
                "rewind": {"epoch": self.rewind.epoch, "options": [{"continue_with": w, "changes": c}
                                                                   for w, c in self.rewind.options]}
                if self.rewind else None}


@dataclass(frozen=True)
class Slot:
    """The one training slot, as a caller may know it: busy or free, whether the running run is
    theirs (its name only then), about when it frees, and how many runs wait."""
    busy: bool
    mine: bool = False
    run: str | None = None
    free_in_s: float | None = None
    waiting: int = 0
    my_place: int | None = None  # the caller's own waiting run's place, if any


@dataclass(frozen=True)
class Grid:
    image: Image.Image  # the whole grid
    tiles: list[Image.Image]
    seeds: list[int]  # tile i was drawn from seeds[i] alone

    @property
    def text(self) -> str:
        s = self.seeds
        w = self.tiles[0].width if self.tiles else 0
        if len(s) == 1:
            return f"1 image of {w}×{w}, seed {s[0]}"
        return f"{len(s)} images of {w}×{w}, seeds {s[0]}–{s[-1]} (tile i from seed {s[0]} + i)"


@dataclass(frozen=True)
class Walk:
    frames: list[Image.Image]
    seeds: list[int]
    mode: str
    from_latent: bool = False  # the walk starts at a given latent (a projected image), then the seeds

    @property
    def text(self) -> str:
        start = "from the given latent " if self.from_latent else ""
        return f"{len(self.frames)} frames, {self.mode} {start}through seeds {', '.join(map(str, self.seeds))}"

    def strip(self, cols: int = 12) -> Image.Image:
        """All frames as one picture, left to right then top to bottom."""
        import numpy as np
        import torch

        from ..images import grid, to_pil

        x = torch.from_numpy(np.stack([np.asarray(f.convert("RGB")) for f in self.frames])).permute(0, 3, 1, 2)
        return to_pil(grid(x, min(cols, len(self.frames))))

    def big(self, k: int = 4) -> list[Image.Image]:
        """The frames at k x, nearest neighbour (a 64-px sample seen with its real pixels)."""
        from ..images import enlarge

        return [enlarge(f, k) for f in self.frames]


@dataclass(frozen=True)
class Picture:
    image: Image.Image
    text: str


@dataclass(frozen=True)
class Arithmetic:
    images: list[Image.Image]  # mean of A, mean of B, mean of C, A − B + C
    labels: list[str]


@dataclass(frozen=True)
class ArchitectureTable:
    table: dict  # {"generator": {"layers": [...], "params": N}, "discriminator": {...}}
    markdown: str


@dataclass(frozen=True)
class ComparedRun:
    """One run in a comparison, as data: its state, first alarm, FID, and the branches a rewind left."""
    name: str
    state: str
    first_alarm: dict | None  # {epoch, step, kind, message, ...}
    fid: dict | None  # {"protocol", "last": (fid, epoch), "best": (fid, epoch)} when FID was tracked
    branches: list[dict]  # each: from_epoch, at_epoch, source, changed, reached (epoch), alarms (kinds)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Comparison:
    picture: Path
    runs: list[str]
    differing: list[tuple[str, list]]  # (setting, value per run)
    compared: list[ComparedRun]
    grids: list[tuple[Path, str]]  # (picture, caption): each run's newest grid and GIF

    @property
    def first_alarm(self) -> dict:
        return {c.name: c.first_alarm for c in self.compared}

    def to_dict(self) -> dict:
        return {"out": str(self.picture), "runs": self.runs, "differing": dict(self.differing),
                "first_alarm": self.first_alarm, "compared": [c.to_dict() for c in self.compared]}


@dataclass(frozen=True)
class FidResult:
    report: FidReport  # metrics.FidReport; report_markdown(report) is its document form
    previews: list[tuple[Image.Image, str]]  # real and generated sample grids, when there are images


@dataclass(frozen=True)
class WorkStep:
    """Where long work stands (FID's weights, features, KID, FID∞), for a progress bar: `what` is a
    short phrase, `done`/`total` count images when there are any, `eta_s` is measured from the work
    itself (None until it has a rate)."""

    fraction: float
    what: str
    done: int | None = None
    total: int | None = None
    eta_s: float | None = None


@dataclass(frozen=True)
class WeightsInfo:
    """Which FID weights are in use and where they came from (or why there are none yet)."""

    found: bool
    label: str
    origin: str | None = None
    path: str | None = None
    format: str | None = None
    value_id: str | None = None
    standard: bool | None = None
    problem: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class StatsWritten:
    out: str
    n: int
    dims: int
    resize: str
    image_size: int | None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Pushed:
    url: str
    repo_id: str
    run: str


@dataclass(frozen=True)
class NearestSample:
    name: str  # the generated image: "seed 7", or a file's own name
    nearest: list[str]  # its nearest real images, nearest first
    distances: list[float]  # their distances (mirror-aware colour thumbnails; see dcgan/nearest.py)
    copy: bool  # closer to a real image than the copy threshold


@dataclass(frozen=True)
class NearestResult:
    """What `nearest` found: each generated image's nearest real images and whether it is a likely copy."""

    n: int
    copies: int
    threshold: float
    calibration: dict  # how the threshold was set: quantile and median real-real distances, n_real
    n_real: int
    samples: list[NearestSample]
    picture: Image.Image  # each sample beside its nearest real images (copies framed in red)
    generated: str
    real: str

    def to_dict(self) -> dict:
        return {"n": self.n, "copies": self.copies, "threshold": self.threshold, "n_real": self.n_real,
                "calibration": self.calibration, "generated": self.generated, "real": self.real,
                "samples": [{"name": s.name, "nearest": s.nearest[0], "distance": s.distances[0], "copy": s.copy,
                             "neighbours": [{"name": m, "distance": d} for m, d in zip(s.nearest, s.distances)]}
                            for s in self.samples]}


@dataclass(frozen=True)
class Projected:
    """An image projected into a generator's latent space: the target as the generator sees it, its
    reconstruction G(z), z itself and how well they match."""

    target: Image.Image
    reconstruction: Image.Image
    z: list[float]
    psnr: float  # dB on the (-1, 1) range
    mse: float
    steps: int
    restarts: int
    best_restart: int
    how: str  # optimiser, loss, restarts, in words
    name: str  # the image, as the caller named it

    def to_dict(self) -> dict:
        return {"name": self.name, "psnr": self.psnr, "mse": self.mse, "steps": self.steps, "restarts": self.restarts,
                "best_restart": self.best_restart, "how": self.how, "z": self.z}
