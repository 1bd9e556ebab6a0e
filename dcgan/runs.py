"""The run directory: the one place a training run lives, written by train.py, read by the app.

    config.json            every hyperparameter + the data source and its fingerprint
    metrics.jsonl          one object per logged step; one per epoch ("kind": "epoch")
    samples/epoch_NNN.png  the fixed-noise grid of each epoch, value range (-1, 1)
    progress.gif           the epoch grids in order (at most 60, evenly spaced)
    checkpoints/last.pt    full training state; checkpoints/best.pt when FID is tracked;
                           checkpoints/healthy.pt at the newest epoch end without an alarm
    branches/N/            what a rewind (resume --from healthy) left behind: that branch's
                           metrics.jsonl, samples/ and branch.json (from_epoch, at_epoch, changed)
    generator/             model.safetensors + config.json (from_pretrained ready)
    status.json            state (see STATES), pid, time, and what the state needs (reason, epoch)
    request.json           what the app asked the worker to train (app-started runs only)
    train.log              the worker's events as JSON lines (app-started runs only)
    data/ or data.zip      uploaded training images, copied in so the run stays resumable

Every file is replaced atomically (temp file + rename), so a kill at any moment leaves the last
good version; metrics.jsonl is append-only and readers drop a torn last line. Checkpoints hold
only tensors and plain containers, so they load with `torch.load(weights_only=True)`. Runs live
under one folder (`runs_root()`, `$DCGAN_RUNS_DIR` or ./runs); `find_run` looks one up by name
without letting the name escape that folder.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import time
from pathlib import Path

import torch
from PIL import Image

from .errors import CheckpointError, NothingToResume, UserError
from .images import atomic_path, save_gif, save_png

CHECKPOINT_FORMAT = "dcgan-studio/2"
# what status.json and state() say; "interrupted": the worker died mid-run (resumable);
# "new": a directory with a request but no checkpoint yet
STATES = ("new", "queued", "running", "finished", "stopped", "failed", "interrupted")
ENDED = frozenset({"finished", "stopped", "failed", "interrupted"})
CHECKPOINT_SOURCES = ("last", "healthy", "best")  # what `train --resume --from` may continue from


EXAMPLES = Path(__file__).resolve().parent / "assets" / "examples"  # shipped, read-only run histories


def runs_root() -> Path:
    """The folder that holds the app's runs: $DCGAN_RUNS_DIR, or ./runs."""
    return Path(os.environ.get("DCGAN_RUNS_DIR", "runs"))


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child still answers kill(0); reap it if it is ours
    try:
        done, _ = os.waitpid(int(pid), os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


class RunDir:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.config = self.path / "config.json"
        self.metrics = self.path / "metrics.jsonl"
        self.samples = self.path / "samples"
        self.gif = self.path / "progress.gif"
        self.checkpoints = self.path / "checkpoints"
        self.last = self.checkpoints / "last.pt"
        self.best = self.checkpoints / "best.pt"
        self.healthy = self.checkpoints / "healthy.pt"
        self.branches = self.path / "branches"
        self.generator = self.path / "generator"
        self.status_file = self.path / "status.json"
        self.request = self.path / "request.json"
        self.log = self.path / "train.log"
        self.data_dir = self.path / "data"
        self.data_zip = self.path / "data.zip"

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def is_example(self) -> bool:
        """One of the shipped example runs (metrics, a few grids and a GIF; no checkpoint): read-only."""
        return self.path.parent.resolve() == EXAMPLES

    def exists(self) -> bool:
        return self.config.exists()

    def is_run(self) -> bool:
        """A run directory, or one the app has asked a worker to fill."""
        return self.config.exists() or self.request.exists()

    def owner(self) -> str | None:
        """Who started the run from the app (request.json's "owner"); None for CLI runs."""
        try:
            return json.loads(self.request.read_text()).get("owner")
        except (OSError, ValueError, AttributeError):
            return None

    def weights_file(self) -> Path | None:
        """The generator weights that stand for this run: generator/model.safetensors (written
        every epoch), else checkpoints/last.pt; None before the first checkpoint."""
        for p in (self.generator / "model.safetensors", self.last):
            if p.exists():
                return p
        return None

    # -------------------------------------------------------- json
    def write_json(self, path: Path, obj) -> None:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(obj, indent=2, default=str) + "\n")

    def write_config(self, cfg: dict) -> None:
        self.write_json(self.config, cfg)

    def read_config(self) -> dict:
        return json.loads(self.config.read_text())

    def set_status(self, state: str, **extra) -> None:
        self.write_json(self.status_file, {"state": state, "pid": os.getpid(), "time": time.time(), **extra})

    def set_status_in_place(self, state: str, **extra) -> bool:
        """The status when the disk is full: overwrite status.json's existing bytes (blocks it already
        has), padded with spaces, instead of writing a new file; False if even that failed."""
        text = json.dumps({"state": state, "pid": os.getpid(), "time": time.time(), **extra})
        try:
            size = self.status_file.stat().st_size
            if len(text.encode()) > size:
                text = json.dumps({"state": state, "reason": str(extra.get("reason", ""))[:max(0, size - 40)]})
            with open(self.status_file, "r+b") as f:
                f.write(text.encode().ljust(size)[:size])
            return json.loads(self.status_file.read_text()).get("state") == state
        except (OSError, ValueError):
            return False

    def status(self) -> dict:
        try:
            return json.loads(self.status_file.read_text())
        except (OSError, ValueError):
            return {"state": "unknown"}

    def state(self) -> str:
        """One of STATES, with a dead worker's "running" read as "interrupted"."""
        st = self.status()
        s = st.get("state", "unknown")
        if s == "running" and not pid_alive(st.get("pid")):
            return "interrupted"
        if s not in STATES:
            return "interrupted" if self.last.exists() else "new"
        return s

    # -------------------------------------------------------- metrics
    def append_metrics(self, records: list[dict]) -> None:
        if not records:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.metrics, "a") as f:
            f.write("".join(json.dumps(r) + "\n" for r in records))
            f.flush()

    def rewrite_metrics(self, records: list[dict]) -> None:
        with atomic_path(self.metrics) as tmp:
            tmp.write_text("".join(json.dumps(r) + "\n" for r in records))

    def read_metrics(self) -> list[dict]:
        if not self.metrics.exists():
            return []
        out = []
        for line in self.metrics.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a torn last line from a kill mid-append
        return out

    # -------------------------------------------------------- images
    def sample_path(self, epoch: int) -> Path:
        return self.samples / f"epoch_{epoch:03d}.png"

    def sample_paths(self) -> list[Path]:
        return sorted(self.samples.glob("epoch_*.png")) if self.samples.exists() else []

    def save_sample(self, epoch: int, img: Image.Image) -> Path:
        path = self.sample_path(epoch)
        save_png(img, path)
        return path

    def update_gif(self, duration_ms: int = 250, max_frames: int = 60, max_side: int = 320) -> Path:
        """Rebuild progress.gif from the epoch grids: at most `max_frames` evenly spaced epochs
        (the first and the newest always in), scaled to `max_side`, so an epoch's update costs
        the same at epoch 500 as at epoch 50."""
        paths = self.sample_paths()
        if len(paths) > max_frames:
            step = (len(paths) - 1) / (max_frames - 1)
            paths = [paths[round(i * step)] for i in range(max_frames)]
        if paths:
            write_grid_gif(paths, self.gif, scale=lambda im: min(1.0, max_side / max(im.size)),
                           duration_ms=duration_ms, hold=3)
        return self.gif

    # -------------------------------------------------------- checkpoints
    def save_checkpoint(self, state: dict, path: Path | None = None) -> Path:
        path = path or self.last
        try:
            with atomic_path(path) as tmp:
                torch.save({"format": CHECKPOINT_FORMAT, **state}, tmp)
        except RuntimeError as e:
            # torch.save reports a full disk as a RuntimeError ("file write failed", "unexpected pos ...",
            # "iostream error"): say it as the OSError it is
            free = shutil.disk_usage(path.parent).free
            if free >= 64 << 20 and not any(w in str(e).lower() for w in ("writ", "unexpected pos", "iostream")):
                raise
            code = errno.ENOSPC if free < 64 << 20 else errno.EIO
            raise OSError(code, os.strerror(code), str(path)) from None
        return path

    def keep_as(self, path: Path) -> Path:
        """`path` (best.pt, healthy.pt) atomically made the same file as last.pt: a hard link to it
        (last.pt is always replaced by a new file, never rewritten, so the link keeps this version),
        or a copy where the file system has no hard links."""
        with atomic_path(path) as tmp:
            tmp.unlink()  # the link takes the temporary name
            try:
                os.link(self.last, tmp)
            except OSError as e:
                if e.errno == errno.ENOSPC:
                    raise
                shutil.copyfile(self.last, tmp)
        return path

    def checkpoint_for(self, source: str) -> Path:
        """The checkpoint a run continues from (last, healthy or best), which must exist."""
        if source not in CHECKPOINT_SOURCES:
            raise UserError(f"--from must be one of {', '.join(CHECKPOINT_SOURCES)} (got {source!r})")
        path = {"last": self.last, "healthy": self.healthy, "best": self.best}[source]
        if not path.exists():
            why = {"healthy": " (kept at each epoch end without an alarm)",
                   "best": " (kept only when FID is tracked: --fid-every)"}.get(source, "")
            # the run's name, not its path: a public app says this to visitors
            raise NothingToResume(f"nothing to resume: {self.name} has no checkpoints/{path.name}{why}")
        return path

    def branch_dirs(self) -> list[Path]:
        """The abandoned branches, oldest first."""
        found = [p for p in self.branches.glob("*") if p.name.isdigit() and (p / "branch.json").exists()]
        return sorted(found, key=lambda p: int(p.name))

    def save_generator(self, g: torch.nn.Module) -> Path:
        """model.safetensors + config.json, each replaced atomically (the model card is written
        by hub.stage when the run is pushed or bundled, not here)."""
        import shutil

        self.generator.mkdir(parents=True, exist_ok=True)
        tmpdir = self.generator / f".tmp-{os.getpid()}"
        g.save_pretrained(tmpdir)
        for name in ("model.safetensors", "config.json"):  # weights first: config alone is harmless
            os.replace(tmpdir / name, self.generator / name)
        shutil.rmtree(tmpdir)
        return self.generator


def list_runs(root: Path | None = None) -> list[RunDir]:
    """Run directories under `root` (default runs_root()), newest first."""
    root = root or runs_root()
    if not root.is_dir():
        return []
    runs = [RunDir(p) for p in root.iterdir() if p.is_dir() and RunDir(p).is_run()]
    return sorted(runs, key=lambda r: r.path.stat().st_mtime, reverse=True)


def example_runs() -> list[RunDir]:
    """The shipped example runs: the bundled faces generator's own training, and the blog's
    experiment on 300 faces with and without augmentation."""
    return [RunDir(p) for p in sorted(EXAMPLES.iterdir()) if (p / "config.json").exists()] if EXAMPLES.is_dir() else []


def find_run(name: str | None, root: Path | None = None) -> RunDir:
    """The run called `name` directly under `root`; a name cannot point anywhere else."""
    root = (root or runs_root()).resolve()
    path = (root / str(name or "")).resolve()
    if not name or path.parent != root or not path.is_dir():
        raise UserError(f"no run named {str(name)[:80]!r}")
    return RunDir(path)


def write_grid_gif(paths: list[Path], dest: Path, scale=lambda im: 1.0, duration_ms: int = 250,
                   hold: int = 3) -> Path:
    """A GIF of the grid PNGs in `paths`, each resized by scale(image); the last frame is held
    `hold` frames longer so the loop's end is readable."""
    frames = []
    for p in paths:
        with Image.open(p) as im:
            im = im.convert("RGB")
            k = scale(im)
            frames.append(im if k == 1.0 else im.resize((round(im.width * k), round(im.height * k)), Image.LANCZOS))
    save_gif(frames + [frames[-1]] * hold, dest, duration_ms)
    return dest


def load_checkpoint(path: str | os.PathLike, map_location="cpu") -> dict:
    """Load a training checkpoint without running any pickled code."""
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001 - pickle payloads and corrupt files both end here
        msg = str(e)
        why = ("it holds pickled Python objects besides tensors; loading them could run code, so it is refused"
               if "Weights only load failed" in msg else f"{type(e).__name__}: {msg.splitlines()[0][:120]}")
        raise CheckpointError(f"{Path(path).name} is not a safe DCGAN Studio checkpoint ({why})") from None
    if not isinstance(state, dict) or ("G" not in state and "generator" not in state):
        raise CheckpointError(f"{Path(path).name} holds no generator weights")
    return state
