"""Hostile inputs, faults mid-run, a restarted app and a bounded load: nothing lost, nothing run."""
import errno
import json
import os
import signal
import struct
import subprocess
import sys
import time
import zipfile
import zlib

import pytest
from PIL import Image

from dcgan.runs import RunDir, load_checkpoint
from dcgan.errors import TrainingError
from dcgan.train import train
from tests.conftest import REPO, cli, make_images
from tests.test_train import g_weights, same, tiny

pytestmark = pytest.mark.slow


def dcgan(*args):
    return cli(*args)


def bomb_png(path, side=60_000):
    """A tiny file whose header claims side x side pixels: PIL must refuse it before decoding."""
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
                     + chunk(b"IEND", b""))
    return path


def test_hostile_files_through_the_cli(tmp_path):
    # a zip whose only members try to escape: refused with the reason, nothing written
    z = tmp_path / "slip.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../../outside.png", b"x")
        zf.writestr("/abs/root.png", b"x")
    proc = dcgan("train", "--data", z, "--out", tmp_path / "r1", "--epochs", 1)
    assert proc.returncode == 2 and "unsafe member path" in proc.stderr and "Traceback" not in proc.stderr
    assert not list(tmp_path.parent.rglob("outside.png")) and not (tmp_path / "r1" / "checkpoints").exists()

    # a zip of 100k tiny members: refused up front, before reading any of them
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w", zipfile.ZIP_STORED) as zf:
        for i in range(100_000):
            zf.writestr(f"{i}.png", b"")
    proc = dcgan("train", "--data", many, "--out", tmp_path / "r2", "--epochs", 1)
    assert proc.returncode == 2 and "100000 members" in proc.stderr

    # a decompression bomb among good images: skipped and listed, training goes on
    folder = tmp_path / "mixed"
    make_images(folder, 8, size=32)
    bomb_png(folder / "bomb.png")
    Image.new("RGB", (1, 1), (9, 9, 9)).save(folder / "one_pixel.png")
    proc = dcgan("train", "--data", folder, "--out", tmp_path / "r3", "--epochs", 1, "--ngf", 8, "--ndf", 8,
                 "--batch-size", 4, "--image-size", 32)
    assert proc.returncode == 0, proc.stderr
    assert "skipped bomb.png: DecompressionBombError" in proc.stderr
    assert json.loads((tmp_path / "r3" / "config.json").read_text())["n_images"] == 9


def test_disk_full_during_a_sample_write_stops_cleanly(image_folder, tmp_path, monkeypatch):
    out = tmp_path / "r"
    list(train(tiny(image_folder, epochs=1), out))
    good = g_weights(out)

    def full(self, epoch, img):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(RunDir, "save_sample", full)
    with pytest.raises(TrainingError, match="No space left on device"):
        list(train(tiny(image_folder, epochs=2), out, resume=True))
    assert same(g_weights(out), good)  # the epoch-1 checkpoint is intact
    assert RunDir(out).status()["state"] == "failed"
    monkeypatch.undo()
    list(train(tiny(image_folder, epochs=2), out, resume=True))  # and the run resumes once there is room
    assert load_checkpoint(RunDir(out).last)["epoch"] == 2


def test_sigkill_mid_checkpoint_then_resume_is_exact(image_folder, tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    list(train(tiny(image_folder, epochs=2), straight))
    list(train(tiny(image_folder, epochs=1), killed))
    child = f"""
import os, signal, torch
from dcgan.train import train
from tests.test_train import tiny
def half_then_die(obj, f, *a, **k):
    with open(f, "wb") as fh:
        fh.write(b"PK half a checkpoint")
    os.kill(os.getpid(), signal.SIGKILL)
torch.save = half_then_die
list(train(tiny({str(image_folder)!r}, epochs=2), {str(killed)!r}, resume=True))
"""
    proc = subprocess.run([sys.executable, "-c", child], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert load_checkpoint(RunDir(killed).last)["epoch"] == 1  # the previous checkpoint still loads
    list(train(tiny(image_folder, epochs=2), killed, resume=True))
    assert same(g_weights(straight), g_weights(killed))


def test_worker_survives_an_app_restart_and_a_dead_worker_is_resumable(image_folder, tmp_path, monkeypatch):
    from dcgan import worker

    monkeypatch.setenv("DCGAN_RUNS_DIR", str(tmp_path / "runs"))
    first_app = worker.Supervisor()
    run = first_app.start(tiny(image_folder, epochs=100_000), first_app.new_run_dir())
    deadline = time.time() + 120
    # wait for a checkpoint, not just a sample: the epoch end writes the grid before last.pt
    while not run.last.exists() and time.time() < deadline:
        time.sleep(0.2)
    assert run.last.exists(), (run.path / "train.log").read_text()[-2000:]
    # "restart the app": a fresh supervisor knows nothing but the runs folder
    second_app = worker.Supervisor()
    assert second_app.active().path == run.path and run.state() == "running"
    with pytest.raises(worker.Busy):
        second_app.start(tiny(image_folder, epochs=1), second_app.new_run_dir())
    os.kill(run.status()["pid"], signal.SIGKILL)  # the worker dies without a word
    deadline = time.time() + 30
    while run.state() != "interrupted" and time.time() < deadline:
        time.sleep(0.2)
    assert run.state() == "interrupted" and second_app.active() is None
    epoch = load_checkpoint(run.last)["epoch"]
    second_app.start(tiny(image_folder, epochs=epoch + 1), run, resume=True)
    deadline = time.time() + 120
    while run.state() == "running" and time.time() < deadline:
        time.sleep(0.2)
    assert run.state() == "finished" and load_checkpoint(run.last)["epoch"] == epoch + 1


def test_bounded_load_while_training(tmp_path):
    """A small version of scripts/load_test.py (the README quotes the full one)."""
    from scripts.load_test import main

    rep = main(["--clients", "4", "--calls", "3", "--json"])
    assert rep["errors"] == 0 and rep["second_round_errors"] == 0, rep["first_errors"]
    assert rep["training_during_load"] and sum(rep[k]["n"] for k in ("generate", "interpolate", "directions")) == 12
    # memory and temp files settle: a second identical round adds little
    grow_1 = rep["server_after"]["rss_mb"] - rep["server_before"]["rss_mb"]
    grow_2 = rep["server_after_second_round"]["rss_mb"] - rep["server_after"]["rss_mb"]
    assert grow_2 < max(50.0, grow_1), rep


@pytest.fixture
def small_disk(tmp_path):
    """An 11 MB tmpfs (root only; skipped where mounting is not allowed)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=11m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    yield mnt
    subprocess.run(["umount", str(mnt)], capture_output=True)


def test_a_full_disk_ends_the_cli_with_exit_3_one_line_and_the_run_marked(tmp_path, small_disk):
    """torch.save wraps ENOSPC in a RuntimeError and a new status file no longer fits: the CLI still
    says it in one line (exit 3, how much space it needs), status.json says failed, last.pt loads."""
    from tests.conftest import make_images

    make_images(tmp_path / "imgs", 24, size=64)
    out = small_disk / "run"
    proc = subprocess.run([sys.executable, "-m", "dcgan", "train", "--data", str(tmp_path / "imgs"), "--out", str(out),
                           "--ngf", "16", "--ndf", "16", "--epochs", "4", "--batch-size", "8", "--json"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 3, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0] and "MB free" in lines[0], proc.stderr
    assert RunDir(out).status()["state"] == "failed"
    assert load_checkpoint(RunDir(out).last)["epoch"] >= 1  # the last good checkpoint survives


def test_a_public_run_stops_itself_at_its_wall_time_cap(image_folder, tmp_path, monkeypatch):
    """DCGAN_MAX_TRAIN_MIN reaches the worker as max_seconds: it stops itself, with a checkpoint."""
    from dcgan import worker

    monkeypatch.setenv("DCGAN_RUNS_DIR", str(tmp_path / "runs"))
    sup = worker.Supervisor()
    run = sup.start(tiny(image_folder, epochs=100_000), sup.new_run_dir(), max_seconds=10)
    deadline = time.time() + 180
    while run.state() == "running" and time.time() < deadline:
        time.sleep(0.5)
    assert run.state() == "stopped", (run.path / "train.log").read_text()[-2000:]
    assert load_checkpoint(run.last)["step"] > 0
