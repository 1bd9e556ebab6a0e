"""Trackers read back by their own tools; a failing tracker warns once and never stops training."""
import os
import sqlite3
import subprocess
import sys

import pytest

from dcgan.errors import TrackerUnavailable
from tests.conftest import REPO
from tests.test_train import run_all, tiny


def test_tensorboard_event_files_hold_the_scalars_and_the_grid(image_folder, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "r"
    run_all(tiny(image_folder, epochs=2, track="tensorboard"), out)
    acc = EventAccumulator(str(out / "tensorboard"), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    tags = acc.Tags()
    assert {"train/loss_d", "train/loss_g", "train/d_real", "train/d_fake", "train/images_per_s",
            "epoch/diversity_ratio"} <= set(tags["scalars"])
    steps = [e.step for e in acc.Scalars("train/loss_d")]
    assert steps == sorted(steps) and len(steps) >= 3
    assert [e.step for e in acc.Scalars("epoch/diversity_ratio")] == [3, 6]  # 3 steps per epoch
    images = acc.Images("samples/fixed_noise")
    assert len(images) == 2 and images[0].width == 4 * 34 + 2  # the 16-tile grid of 32 px images
    assert "config" in tags["tensors"] or "config/text_summary" in tags["tensors"]
    # the settings in TensorBoard's HParams dashboard (how people compare runs), not only as text
    from tensorboard.plugins.hparams import plugin_data_pb2

    start = acc.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    hp = plugin_data_pb2.HParamsPluginData.FromString(start).session_start_info.hparams
    assert hp["lr"].number_value == pytest.approx(2e-4) and hp["ngf"].number_value == 8
    assert hp["augment"].string_value == "none" and (hp["flip"].bool_value or hp["flip"].number_value == 1)


def _run_cli(args, env):
    return subprocess.run([sys.executable, "-m", "dcgan", "train", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=600, env={**os.environ, **env})


COMMON = ["--batch-size", 8, "--image-size", 32, "--ngf", 8, "--ndf", 8, "--nz", 16, "--log-every", 2,
          "--n-samples", 16, "--epochs", 2]


@pytest.mark.slow  # seconds (a process of its own, a timeout, real work): out of the quick loop
def test_trackio_logs_locally(image_folder, tmp_path):
    pytest.importorskip("trackio")
    env = {"TRACKIO_DIR": str(tmp_path / "trackio"), "HF_HUB_OFFLINE": "1"}
    proc = _run_cli(["--data", image_folder, "--out", tmp_path / "r", "--track", "trackio", *COMMON], env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dbs = list((tmp_path / "trackio").glob("*.db"))
    assert dbs, list((tmp_path / "trackio").rglob("*"))
    con = sqlite3.connect(dbs[0])
    text = "\n".join(str(row) for t, in con.execute("select name from sqlite_master where type='table'")
                     for row in con.execute(f'select * from "{t}"'))
    assert "train/loss_d" in text and "epoch/diversity_ratio" in text


@pytest.mark.slow  # seconds (a process of its own, a timeout, real work): out of the quick loop
def test_wandb_logs_offline(image_folder, tmp_path):
    pytest.importorskip("wandb")
    env = {"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DISABLE_CODE": "true"}
    proc = _run_cli(["--data", image_folder, "--out", tmp_path / "r", "--track", "wandb", *COMMON], env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    files = list((tmp_path / "r" / "wandb").rglob("*.wandb"))
    assert files and b"train/loss_d" in files[0].read_bytes()
    assert (tmp_path / "r" / "wandb_id").read_text().strip()


def test_a_failing_tracker_warns_once_and_training_finishes(image_folder, tmp_path, monkeypatch):
    from dcgan import trackers

    calls = []

    def broken(self, rec):
        calls.append(rec["step"])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(trackers._TensorBoard, "step", broken)
    events = run_all(tiny(image_folder, epochs=2, track="tensorboard"), tmp_path / "r")
    warnings = [e for e in events if e["type"] == "warning"]
    assert len(warnings) == 1 and "tensorboard stopped logging" in warnings[0]["message"]
    assert len(calls) == 1 and events[-1] == {"type": "done", "reason": "finished", "epoch": 2, "step": 6}


def test_a_missing_tracker_package_is_one_line(image_folder, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)  # import wandb now raises ImportError
    with pytest.raises(TrackerUnavailable, match=r"pip install 'dcgan-studio\[wandb\]'"):
        run_all(tiny(image_folder, epochs=1, track="wandb"), tmp_path / "r")
    with pytest.raises(ValueError, match="comma list of tensorboard"):
        tiny(image_folder, track="mlflow")
