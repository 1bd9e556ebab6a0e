"""Training as a background process: start, stop, resume, and what is running now.

The app never trains inside a request. `Supervisor.start` writes the run's request.json and
spawns `python -m dcgan.worker RUN_DIR`, which trains into the run directory and logs events to
train.log; `stop` sends SIGTERM, which the worker turns into a checkpoint and a clean exit. Any
process can tell what is going on from the run directory alone (status.json + a live pid), so a
reloaded page or a restarted app re-attaches, and a run whose worker died shows as interrupted
and resumable. One training at a time. No gradio here.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from .runs import RunDir
from .train import TrainConfig

REPO = Path(__file__).resolve().parent.parent


class Busy(RuntimeError):
    """A training is already running; the message says which."""


def runs_dir() -> Path:
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


def state(run: RunDir) -> str:
    """running | finished | stopped | failed | interrupted (worker gone mid-run) | new."""
    st = run.status()
    s = st.get("state", "unknown")
    if s == "running" and not pid_alive(st.get("pid")):
        return "interrupted"
    if s == "unknown":
        return "new" if not run.last.exists() else "interrupted"
    return s


def list_runs(root: Path | None = None) -> list[RunDir]:
    """Run directories under the runs folder, newest first."""
    root = root or runs_dir()
    if not root.is_dir():
        return []
    runs = [RunDir(p) for p in root.iterdir() if (p / "config.json").exists() or (p / "request.json").exists()]
    return sorted(runs, key=lambda r: r.path.stat().st_mtime, reverse=True)


class Supervisor:
    """Starts and stops the one training worker; safe to call from many request threads."""

    def __init__(self, root: Path | None = None):
        self.root = root
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None

    def active(self) -> RunDir | None:
        """The run whose worker is alive right now, whoever started it."""
        for run in list_runs(self.root or runs_dir()):
            if state(run) == "running":
                return run
        return None

    def new_run_dir(self, prefix: str = "run") -> RunDir:
        root = self.root or runs_dir()
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path, i = root / f"{prefix}-{stamp}", 1
        while path.exists():
            i += 1
            path = root / f"{prefix}-{stamp}-{i}"
        return RunDir(path)

    def start(self, cfg: TrainConfig, run: RunDir, resume: bool = False) -> RunDir:
        with self._lock:
            busy = self.active()
            if busy is not None:
                raise Busy(f"a training is already running ({busy.path.name}); stop it before starting another")
            run.path.mkdir(parents=True, exist_ok=True)
            run.write_json(run.path / "request.json", {"config": cfg.to_dict(), "resume": resume})
            with open(run.path / "train.log", "a") as log:
                self._proc = subprocess.Popen([sys.executable, "-m", "dcgan.worker", str(run.path.resolve())],
                                              stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                                              start_new_session=True)
            # the worker rewrites this with its own progress; until then the child's pid marks it running
            run.write_json(run.status_file, {"state": "running", "pid": self._proc.pid, "time": time.time(),
                                             "starting": True})
            return run

    def stop(self, run: RunDir | None = None, timeout: float = 60.0) -> str:
        """SIGTERM the worker (it saves a checkpoint first); wait for it; return the final state."""
        run = run or self.active()
        if run is None:
            return "idle"
        pid = run.status().get("pid")
        if pid_alive(pid):
            os.kill(int(pid), signal.SIGTERM)
            end = time.monotonic() + timeout
            while pid_alive(pid) and time.monotonic() < end:
                time.sleep(0.1)
        return state(run)


def main(run_path: str) -> int:
    """The worker: train the run described by request.json, logging events as JSON lines."""
    from .train import TrainingError, train

    import torch

    if "OMP_NUM_THREADS" not in os.environ:  # leave one core to the app that serves the page
        torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
    run = RunDir(run_path)
    req = json.loads((run.path / "request.json").read_text())
    cfg = TrainConfig.from_dict(req["config"])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        for ev in train(cfg, run.path, resume=req.get("resume", False), stop=stop):
            print(json.dumps(ev, default=str), flush=True)
    except (TrainingError, ValueError, OSError) as e:
        run.set_status("failed", reason=str(e))
        print(json.dumps({"type": "error", "message": str(e)}), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
