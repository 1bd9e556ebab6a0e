"""Training as a background process: start, stop, resume, and what is running now.

The app never trains inside a request. `Supervisor.start` writes the run's request.json and
spawns `python -m dcgan.worker RUN_DIR`, which trains into the run directory and logs events to
train.log; `stop` sends SIGTERM, which the worker turns into a checkpoint and a clean exit. Any
process can tell what is going on from the run directory alone (runs.RunDir.state: status.json +
a live pid), so a reloaded page or a restarted app re-attaches, and a run whose worker died shows
as interrupted and resumable. One training at a time. No gradio here.
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

# As the worker (`python -m dcgan.worker`), hear Stop before anything else is imported: torch takes
# seconds to load, and a SIGTERM then would otherwise kill the process with no word in status.json.
STOP = threading.Event()
if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    signal.signal(signal.SIGINT, lambda *_: STOP.set())

from .config import TrainConfig  # noqa: E402
from .errors import Busy, UserError  # noqa: E402
from .runs import RunDir, list_runs, pid_alive, runs_root  # noqa: E402

PACKAGE_PARENT = Path(__file__).resolve().parent.parent  # where `-m dcgan.worker` resolves


class Supervisor:
    """Starts and stops the one training worker; safe to call from many request threads.

    With a queue (public mode), a run asked for while another trains waits its turn: its request
    is written, its status says "queued", its name joins runs/.queue.json (so a restarted app keeps
    the order), and a background thread starts the first in line whenever the slot frees."""

    def __init__(self, root: Path | None = None):
        self.root = root
        self._lock = threading.RLock()
        self._proc: subprocess.Popen | None = None
        self._pump: threading.Thread | None = None

    # ------------------------------------------------------------ the queue
    def _queue_file(self) -> Path:
        return (self.root or runs_root()) / ".queue.json"

    def queued(self) -> list[RunDir]:
        """Runs waiting for the slot, first in line first (entries whose run is gone are dropped)."""
        try:
            names = json.loads(self._queue_file().read_text())
        except (OSError, ValueError):
            return []
        root = self.root or runs_root()
        return [RunDir(root / n) for n in names if (root / n / "request.json").exists()]

    def _write_queue(self, runs: list[RunDir]) -> None:
        RunDir(self._queue_file().parent).write_json(self._queue_file(), [r.name for r in runs])

    def position(self, run: RunDir) -> int | None:
        """1 for the next run to start; None when the run is not waiting."""
        names = [r.name for r in self.queued()]
        return names.index(run.name) + 1 if run.name in names else None

    def submit(self, cfg: TrainConfig, run: RunDir, resume: bool = False, owner: str | None = None,
               max_seconds: float | None = None, start_from: str = "last") -> int:
        """Start now if the slot is free (returns 0), else join the queue (returns the position)."""
        with self._lock:
            if self.active() is None and not self.queued():
                self.start(cfg, run, resume, owner, max_seconds, start_from)
                return 0
            run.path.mkdir(parents=True, exist_ok=True)
            owner = owner if owner is not None else run.owner()
            run.write_json(run.request, {"config": cfg.to_dict(), "resume": resume, "owner": owner,
                                         "max_seconds": max_seconds, "queued_at": time.time(),
                                         "start_from": start_from})
            run.write_json(run.status_file, {"state": "queued", "time": time.time()})
            self._write_queue(self.queued() + [run])
            self._ensure_pump()
            return len(self.queued())

    def unqueue(self, run: RunDir) -> bool:
        with self._lock:
            waiting = self.queued()
            if run.name not in [r.name for r in waiting]:
                return False
            self._write_queue([r for r in waiting if r.name != run.name])
            run.set_status("stopped", reason="left the queue before it started")
            return True

    def pump(self) -> RunDir | None:
        """Start the first run in line if the slot is free; the run started, or None."""
        with self._lock:
            if self.active() is not None:
                return None
            waiting = self.queued()
            if not waiting:
                return None
            first, rest = waiting[0], waiting[1:]
            self._write_queue(rest)
            req = json.loads(first.request.read_text())
            self.start(TrainConfig.from_dict(req["config"]), first, req.get("resume", False), req.get("owner"),
                       req.get("max_seconds"), req.get("start_from", "last"))
            return first

    def resume_queue(self) -> None:
        """After a restart: keep serving a queue left on disk."""
        if self.queued():
            self._ensure_pump()

    def _ensure_pump(self) -> None:
        if self._pump is not None and self._pump.is_alive():
            return

        def loop():
            while self.queued():  # nothing waits: nothing to do (the next submit starts a new pump)
                try:
                    self.pump()
                except Exception:  # noqa: BLE001 - a broken request must not stop the queue
                    import logging

                    logging.getLogger("dcgan.worker").exception("could not start the next queued run")
                    with self._lock:
                        self._write_queue(self.queued()[1:])
                time.sleep(1.0)

        self._pump = threading.Thread(target=loop, daemon=True, name="training-queue")
        self._pump.start()

    def active(self) -> RunDir | None:
        """The run whose worker is alive right now, whoever started it."""
        for run in list_runs(self.root or runs_root()):
            if run.state() == "running":
                return run
        return None

    def new_run_dir(self, prefix: str = "run") -> RunDir:
        root = self.root or runs_root()
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path, i = root / f"{prefix}-{stamp}", 1
        while path.exists():
            i += 1
            path = root / f"{prefix}-{stamp}-{i}"
        return RunDir(path)

    def start(self, cfg: TrainConfig, run: RunDir, resume: bool = False, owner: str | None = None,
              max_seconds: float | None = None, start_from: str = "last") -> RunDir:
        with self._lock:
            busy = self.active()
            if busy is not None:
                raise Busy(f"a training is already running ({busy.name}); stop it before starting another")
            run.path.mkdir(parents=True, exist_ok=True)
            owner = owner if owner is not None else run.owner()  # a resumed run keeps its owner
            run.write_json(run.request, {"config": cfg.to_dict(), "resume": resume, "owner": owner,
                                         "max_seconds": max_seconds, "start_from": start_from})
            with open(run.log, "a") as log:
                self._proc = subprocess.Popen([sys.executable, "-m", "dcgan.worker", str(run.path.resolve())],
                                              stdout=log, stderr=subprocess.STDOUT, cwd=PACKAGE_PARENT,
                                              start_new_session=True)
            # the worker rewrites this with its own progress; until then the child's pid marks it running
            run.write_json(run.status_file, {"state": "running", "pid": self._proc.pid, "time": time.time(),
                                             "starting": True})
            return run

    def stop(self, run: RunDir | None = None, timeout: float = 60.0) -> str:
        """Stop the worker and return the run's final state. A worker that has begun training gets
        SIGTERM (it saves a checkpoint first) and is waited for. One still starting (importing,
        reading the data: status.json is still the "starting" line written here) has changed
        nothing yet, so it is killed at once rather than waited for; either way status.json then
        says "stopped", never "running" with a dead pid."""
        run = run or self.active()
        if run is None:
            return "idle"
        st = run.status()
        pid = st.get("pid")
        if pid_alive(pid):
            os.kill(int(pid), signal.SIGKILL if st.get("starting") else signal.SIGTERM)
            end = time.monotonic() + timeout
            while pid_alive(pid) and time.monotonic() < end:
                time.sleep(0.05)
        st = run.status()
        if st.get("state") == "running" and not pid_alive(st.get("pid")):
            epochs = [r["epoch"] for r in run.read_metrics() if r.get("kind") == "epoch"]
            run.set_status("stopped", epoch=max(epochs, default=0), reason="stopped before it began training")
        return run.state()


def main(run_path: str) -> int:
    """The worker: train the run described by request.json, logging events as JSON lines."""
    stop = STOP  # set by SIGTERM / SIGINT from the moment this module began to load
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    import torch

    from .train import train

    if "OMP_NUM_THREADS" not in os.environ:  # leave one core to the app that serves the page
        torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
    run = RunDir(run_path)
    req = json.loads(run.request.read_text())
    if stop.is_set():  # stopped while importing: nothing trained, nothing to save
        run.set_status("stopped", reason="stopped before it began training")
        return 0
    if req.get("max_seconds"):  # a public app's cap on one run's wall time: stop (with a checkpoint) then
        timer = threading.Timer(float(req["max_seconds"]), stop.set)
        timer.daemon = True
        timer.start()
    try:
        cfg = TrainConfig.from_dict(req["config"])
        for ev in train(cfg, run.path, resume=req.get("resume", False), stop=stop,
                        start_from=req.get("start_from", "last")):
            print(json.dumps(ev.to_dict(), default=str), flush=True)
    except UserError as e:
        run.set_status("failed", reason=str(e))
        print(json.dumps({"type": "error", "message": str(e)}), flush=True)
        return 1
    except Exception as e:  # a bug: the traceback goes to train.log, the page says where to look
        run.set_status("failed", reason=f"internal error ({type(e).__name__}: {str(e)[:200]}); see train.log")
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
