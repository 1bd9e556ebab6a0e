"""The run directory: the one place a training run lives, written by train.py, read by the app.

    config.json            every hyperparameter + the data source and its fingerprint
    metrics.jsonl          one object per logged step; one per epoch ("kind": "epoch")
    samples/epoch_NNN.png  the fixed-noise grid of each epoch, value range (-1, 1)
    progress.gif           all epoch grids in order
    checkpoints/last.pt    full training state; checkpoints/best.pt when FID is tracked
    generator/             model.safetensors + config.json (from_pretrained ready)
    status.json            state (running / finished / stopped / failed), pid, heartbeat

Every file is replaced atomically (temp file + rename), so a kill at any moment leaves the last
good version; metrics.jsonl is append-only and readers drop a torn last line. Checkpoints hold
only tensors and plain containers, so they load with `torch.load(weights_only=True)`.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import torch
from PIL import Image

from .images import atomic_path, save_gif, save_png

CHECKPOINT_FORMAT = "dcgan-studio/1"


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
        self.generator = self.path / "generator"
        self.status_file = self.path / "status.json"

    def exists(self) -> bool:
        return self.config.exists()

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

    def status(self) -> dict:
        try:
            return json.loads(self.status_file.read_text())
        except (OSError, ValueError):
            return {"state": "unknown"}

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
        with atomic_path(path) as tmp:
            torch.save({"format": CHECKPOINT_FORMAT, **state}, tmp)
        return path

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
        raise ValueError(f"{Path(path).name} is not a safe DCGAN Studio checkpoint ({why})") from None
    if not isinstance(state, dict) or ("G" not in state and "generator" not in state):
        raise ValueError(f"{Path(path).name} holds no generator weights")
    return state
