"""Data-parallel training under torchrun: two CPU ranks with gloo, resumed under torchrun too."""
import json
import subprocess
import sys

import pytest
import torch

from dcgan.runs import RunDir, load_checkpoint
from tests.conftest import REPO, make_images

pytestmark = pytest.mark.slow


def torchrun(*args, nproc=2):
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "--standalone", "-m", "dcgan",
           "train", *map(str, args), "--batch-size", "4", "--image-size", "32", "--ngf", "8", "--ndf", "8",
           "--log-every", "1", "--json"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def test_two_ranks_stay_in_sync_and_resume(tmp_path):
    make_images(tmp_path / "imgs", 24, size=32)
    out = tmp_path / "run"
    events = torchrun("--data", tmp_path / "imgs", "--out", out, "--epochs", 1)
    # only rank 0 prints: one start, one done
    assert [e["type"] for e in events].count("start") == 1
    assert events[-1] == {"type": "done", "reason": "finished", "epoch": 1, "step": 3, "ranks_in_sync": True}
    run = RunDir(out)
    ck = load_checkpoint(run.last)
    assert ck["world_size"] == 2 and len(ck["rank_rng"]) == 2
    assert not torch.equal(ck["rank_rng"][0], ck["rank_rng"][1])  # each rank draws its own noise
    assert ck["config"]["steps_per_epoch"] == 3  # 24 images / 2 ranks / batch 4

    events = torchrun("--data", tmp_path / "imgs", "--out", out, "--epochs", 2, "--resume")
    assert events[-1]["ranks_in_sync"] is True and events[-1]["epoch"] == 2
    assert [p.name for p in run.sample_paths()] == ["epoch_001.png", "epoch_002.png"]
    assert run.status()["state"] == "finished" and run.status()["world_size"] == 2
    assert run.status()["backend"] == "gloo"
    steps = [r["step"] for r in run.read_metrics() if r["kind"] == "step"]
    assert steps == sorted(steps) and steps[-1] == 6  # one metrics stream, written by rank 0 alone


def test_one_process_under_torchrun_joins_a_group_of_one(tmp_path):
    """torchrun with one process takes the same all-reduce path (the one-GPU NCCL smoke run's path)."""
    make_images(tmp_path / "imgs", 8, size=32)
    events = torchrun("--data", tmp_path / "imgs", "--out", tmp_path / "run", "--epochs", 1, nproc=1)
    assert events[-1] == {"type": "done", "reason": "finished", "epoch": 1, "step": 2, "ranks_in_sync": True}
    status = RunDir(tmp_path / "run").status()
    assert status["world_size"] == 1 and status["backend"] == "gloo"
