"""The real program, end to end, as a user runs it (subprocesses, tiny sizes)."""
import json
import subprocess
import sys

import pytest
from PIL import Image

from tests.conftest import REPO


def dcgan(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "dcgan", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.mark.parametrize("verb", ["train", "generate", "interpolate"])
def test_help(verb):
    assert "usage" in dcgan(verb, "--help").stdout


def test_smoke_train_resume_generate_interpolate(image_folder, tmp_path):
    out = tmp_path / "run"
    common = ["--data", image_folder, "--out", out, "--ngf", 8, "--ndf", 8, "--batch-size", 8,
              "--max-images", 16, "--image-size", 32]
    first = dcgan("train", *common, "--epochs", 1)
    assert "finished at epoch 1" in first.stdout
    second = dcgan("train", *common, "--epochs", 2, "--resume")
    assert "finished at epoch 2" in second.stdout
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["epoch_001.png", "epoch_002.png"]

    res = json.loads(dcgan("generate", "--checkpoint", out, "--n", 6, "--seed", 5, "--out", tmp_path / "g.png",
                           "--json").stdout)
    assert res["seeds"] == [5, 6, 7, 8, 9, 10]
    with Image.open(tmp_path / "g.png") as im:
        assert im.size == (3 * 34 + 2, 2 * 34 + 2)
    # a tile from a grid equals the same seed generated alone
    dcgan("generate", "--checkpoint", out, "--n", 1, "--seed", 7, "--out", tmp_path / "one")
    dcgan("generate", "--checkpoint", out, "--n", 3, "--seed", 5, "--out", tmp_path / "three")
    a = Image.open(tmp_path / "one" / "seed000007.png").tobytes()
    b = Image.open(tmp_path / "three" / "seed000007.png").tobytes()
    assert a == b

    res = json.loads(dcgan("interpolate", "--checkpoint", out / "checkpoints" / "last.pt", "--seeds", 1, 2, 3,
                           "--frames", 10, "--out", tmp_path / "w.gif", "--json").stdout)
    assert res["frames"] == 10
    with Image.open(tmp_path / "w.gif") as gif:
        assert gif.n_frames == 10


def test_user_errors_are_one_line(tmp_path):
    proc = dcgan("train", "--data", tmp_path / "nope", "--out", tmp_path / "r", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: no such data source") and "Traceback" not in proc.stderr
    proc = dcgan("train", "--data", "demo", "--out", tmp_path / "r", "--batch-size", 0, check=False)
    assert proc.returncode == 2 and "batch size" in proc.stderr and "Traceback" not in proc.stderr
    proc = dcgan("generate", "--checkpoint", tmp_path / "missing.pt", "--out", tmp_path / "x.png", check=False)
    assert proc.returncode == 2 and "no such checkpoint" in proc.stderr
