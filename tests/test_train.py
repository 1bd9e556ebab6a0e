import json
import signal
import subprocess
import sys

import pytest
import torch
from PIL import Image

from dcgan.hub import load_generator
from dcgan.models import Generator
from dcgan.runs import RunDir, load_checkpoint
from dcgan.config import TrainConfig
from dcgan.errors import TrainingError
from dcgan.train import train
from tests.conftest import REPO


def tiny(data, **kw):
    base = dict(data=str(data), epochs=2, batch_size=8, image_size=32, ngf=8, ndf=8, nz=16,
                log_every=2, n_samples=16, seed=3)
    return TrainConfig(**{**base, **kw})


def run_all(cfg, out, **kw):
    """The trainer's events, in their JSON form (as train.log and `train --json` write them)."""
    return [ev.to_dict() for ev in train(cfg, out, **kw)]


def g_weights(run_dir):
    return load_checkpoint(RunDir(run_dir).last)["G"]


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_is_bit_exact_at_an_epoch_boundary(image_folder, tmp_path):
    run_all(tiny(image_folder, epochs=2), tmp_path / "straight")
    run_all(tiny(image_folder, epochs=1), tmp_path / "split")
    events = run_all(tiny(image_folder, epochs=2), tmp_path / "split", resume=True)
    assert events[0]["resumed_from_epoch"] == 1
    assert same(g_weights(tmp_path / "straight"), g_weights(tmp_path / "split"))
    a, b = load_checkpoint(RunDir(tmp_path / "straight").last), load_checkpoint(RunDir(tmp_path / "split").last)
    assert same(a["D"], b["D"]) and a["step"] == b["step"] == 6


class StopAfter:
    """A stop flag that turns on after `n` checks (one check per training step)."""

    def __init__(self, n):
        self.n = n

    def is_set(self):
        self.n -= 1
        return self.n < 0


def test_stop_mid_epoch_then_resume_is_bit_exact(image_folder, tmp_path):
    run_all(tiny(image_folder, epochs=2), tmp_path / "straight")
    events = run_all(tiny(image_folder, epochs=2), tmp_path / "split", stop=StopAfter(4))
    assert events[-1] == {"type": "done", "reason": "stopped", "epoch": 1, "step": 5}
    ck = load_checkpoint(RunDir(tmp_path / "split").last)
    assert ck["step_in_epoch"] == 2 and ck["epoch_perm"] is not None
    assert RunDir(tmp_path / "split").status()["state"] == "stopped"
    run_all(tiny(image_folder, epochs=2), tmp_path / "split", resume=True)
    assert same(g_weights(tmp_path / "straight"), g_weights(tmp_path / "split"))


def test_run_directory_is_whole(image_folder, tmp_path):
    out = tmp_path / "run"
    events = run_all(tiny(image_folder), out)
    types = [e["type"] for e in events]
    assert types[0] == "start" and types[-1] == "done" and types.count("epoch") == 2
    run = RunDir(out)
    cfg = json.loads(run.config.read_text())
    for key in ("lr", "beta1", "batch_size", "ngf", "ndf", "nz", "flip", "seed", "data", "data_fingerprint"):
        assert key in cfg
    recs = run.read_metrics()
    steps = [r for r in recs if r["kind"] == "step"]
    assert {"step", "epoch", "loss_d", "loss_g", "d_real", "d_fake", "images_per_s"} <= steps[0].keys()
    assert [r["epoch"] for r in recs if r["kind"] == "epoch"] == [1, 2]
    assert [p.name for p in run.sample_paths()] == ["epoch_001.png", "epoch_002.png"]
    with Image.open(run.gif) as gif:
        assert gif.n_frames >= 2
    with Image.open(run.sample_paths()[0]) as grid:
        assert grid.size == (4 * 34 + 2, 4 * 34 + 2)  # 16 tiles of 32 px, 2 px padding
    # checkpoints load without unpickling code, the generator folder with from_pretrained
    state = torch.load(run.last, weights_only=True)
    assert {"G", "D", "opt_g", "opt_d", "epoch", "step", "rng", "fixed_noise", "config", "metrics"} <= state.keys()
    g = Generator.from_pretrained(str(run.generator))
    assert same(g.state_dict(), state["G"])
    assert run.status()["state"] == "finished"
    # and the samples are what G makes of the fixed noise, in eval mode, range (-1, 1)
    assert torch.equal(state["fixed_noise"][0], torch.randn(16, generator=torch.Generator().manual_seed(3)))


def test_existing_run_needs_resume_and_resume_needs_a_run(image_folder, tmp_path):
    run_all(tiny(image_folder, epochs=1), tmp_path / "r")
    with pytest.raises(FileExistsError, match="--resume"):
        run_all(tiny(image_folder, epochs=1), tmp_path / "r")
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        run_all(tiny(image_folder, epochs=1), tmp_path / "none", resume=True)


@pytest.mark.parametrize("kw,msg", [(dict(batch_size=0), "batch size"), (dict(epochs=-1), "epochs"),
                                    (dict(lr=float("nan")), "lr"), (dict(image_size=48), "image_size"),
                                    (dict(precision="fp8"), "precision")])
def test_absurd_hyperparameters_are_refused(tmp_path, kw, msg):
    with pytest.raises(ValueError, match=msg):
        tiny(tmp_path, **kw)


def test_nan_stops_the_run_and_keeps_the_last_good_checkpoint(image_folder, tmp_path, monkeypatch):
    out = tmp_path / "r"
    run_all(tiny(image_folder, epochs=1), out)
    good = g_weights(out)
    import dcgan.train as T

    real_to_float = T.to_float
    monkeypatch.setattr(T, "to_float", lambda x: real_to_float(x) * float("nan"))
    with pytest.raises(TrainingError, match="NaN"):
        run_all(tiny(image_folder, epochs=2), out, resume=True)
    assert same(g_weights(out), good)
    assert RunDir(out).status()["state"] == "failed"


def test_kill_during_checkpoint_write_leaves_previous_checkpoint(tmp_path):
    run = RunDir(tmp_path)
    run.save_checkpoint({"G": {"w": torch.ones(3)}, "step": 1})
    child = f"""
import os, signal, torch
from dcgan.runs import RunDir
real_save = torch.save
def half_then_die(obj, f, *a, **k):
    with open(f, "wb") as fh:
        fh.write(b"PK\\x03\\x04 half a checkpoint")
        fh.flush()
    os.kill(os.getpid(), signal.SIGKILL)
torch.save = half_then_die
RunDir({str(tmp_path)!r}).save_checkpoint({{"G": {{"w": torch.zeros(3)}}, "step": 2}})
"""
    proc = subprocess.run([sys.executable, "-c", child], cwd=REPO)
    assert proc.returncode == -signal.SIGKILL
    state = load_checkpoint(run.last)
    assert state["step"] == 1 and torch.equal(state["G"]["w"], torch.ones(3))


@pytest.mark.slow  # seconds (a process of its own, a timeout, real work): out of the quick loop
def test_sigterm_saves_a_checkpoint_and_exits_cleanly(image_folder, tmp_path):
    out = tmp_path / "r"
    proc = subprocess.Popen([sys.executable, "-m", "dcgan", "train", "--data", str(image_folder), "--out", str(out),
                             "--epochs", "1000", "--batch-size", "8", "--image-size", "32", "--ngf", "8",
                             "--ndf", "8", "--log-every", "1", "--json"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stdout:  # wait until it has really started stepping
        seen.append(json.loads(line))
        if seen[-1]["type"] == "epoch":
            break
    proc.send_signal(signal.SIGTERM)
    out_rest, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    last = json.loads(out_rest.strip().splitlines()[-1])
    assert last["type"] == "done" and last["reason"] == "stopped"
    assert load_checkpoint(RunDir(out).last)["step"] == last["step"]
    assert RunDir(out).status()["state"] == "stopped"


def test_generator_loads_from_every_kind_of_checkpoint(image_folder, tmp_path):
    out = tmp_path / "r"
    run_all(tiny(image_folder, epochs=1), out)
    ref = g_weights(out)
    for spec in (out, out / "checkpoints" / "last.pt", out / "generator", out / "generator" / "model.safetensors"):
        assert same(load_generator(spec).state_dict(), ref), spec


def test_a_compiler_failure_on_the_first_step_falls_back_to_the_uncompiled_run(image_folder, tmp_path, monkeypatch):
    """torch.compile fails only when the first step runs (here: in G's update, after D has stepped).
    The run restores what that step changed, warns, and trains on exactly as an uncompiled run."""
    calls = {"n": 0}

    def failing_compile(fn, *a, **k):
        def compiled(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 4:  # G fwd, D real, D fake, then D inside G's update
                raise AssertionError("expected size 512==512, stride 16==1 at dim=1")
            return fn(*args, **kwargs)
        return compiled

    run_all(tiny(image_folder, epochs=1), tmp_path / "eager")
    monkeypatch.setattr(torch, "compile", failing_compile)
    events = run_all(tiny(image_folder, epochs=1, compile=True), tmp_path / "compiled")
    warnings = [e["message"] for e in events if e["type"] == "warning"]
    assert any("torch.compile failed" in w and "AssertionError" in w for w in warnings)
    assert calls["n"] == 4  # after the failure nothing compiled is called again
    a, b = load_checkpoint(RunDir(tmp_path / "eager").last), load_checkpoint(RunDir(tmp_path / "compiled").last)
    assert same(a["G"], b["G"]) and same(a["D"], b["D"]) and a["step"] == b["step"]
    assert "AssertionError" in RunDir(tmp_path / "compiled").read_config()["compile_failed"]
