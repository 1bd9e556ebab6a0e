"""The real program, end to end, as a user runs it (tiny sizes): `python -m dcgan` once as its own
process, every other call through the same entry (cli.main) in this process."""
import json
import subprocess
import sys

import pytest
from PIL import Image

from tests.conftest import REPO, cli


def dcgan(*args, check=True):
    proc = cli(*args)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_the_module_runs_as_a_program():
    proc = subprocess.run([sys.executable, "-m", "dcgan", "generate", "--help"], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and "usage" in proc.stdout


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
    assert proc.returncode == 2 and "no such generator (checkpoint)" in proc.stderr


@pytest.mark.parametrize("args, words", [
    (["generate", "--n", "0"], "n must be a whole number from 1 to 256 (got 0)"),
    (["generate", "--n", "-5"], "n must be a whole number from 1 to 256 (got -5)"),
    (["generate", "--seed", "-1"], "seed must be a whole number from 0 to 9223372036854775807 (got -1)"),
    (["interpolate", "--seeds", "1"], "seeds needs 2 to 64 seeds"),
    (["train", "--epochs", "0"], "epochs must be >= 1 (got 0)"),
    (["generate", "--checkpoint", "missing.pt"], "no such generator (checkpoint): 'missing.pt'"),
    (["fid", "EMPTY", "demo"], "holds no usable images"),
    (["generate", "--n"], "expected one argument"),
])
def test_the_same_bad_inputs_are_exit_2_and_one_line(tmp_path, args, words):
    (tmp_path / "EMPTY").mkdir()
    args = [str(tmp_path / "EMPTY") if a == "EMPTY" else a for a in args]
    out = {"generate": tmp_path / "x.png", "interpolate": tmp_path / "x.gif", "train": tmp_path / "r"}.get(args[0])
    proc = cli(*args, *(["--out", str(out)] if out else []), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in proc.stderr, proc.stderr


def test_resume_refuses_a_change_to_the_runs_identity_and_keeps_the_rest(image_folder, tmp_path):
    out = tmp_path / "run"
    common = ["--data", image_folder, "--out", out, "--batch-size", 8, "--max-images", 16, "--image-size", 32]
    dcgan("train", *common, "--ngf", 8, "--ndf", 8, "--epochs", 1)
    proc = dcgan("train", "--out", out, "--resume", "--ngf", 16, "--epochs", 2, check=False)
    assert proc.returncode == 2 and "--ngf 16 (the run has 8)" in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert json.loads((out / "config.json").read_text())["ngf"] == 8
    # the value the run already has, and the settings that may change, are fine
    again = dcgan("train", "--out", out, "--resume", "--ngf", 8, "--epochs", 2, "--log-every", 1)
    assert "finished at epoch 2" in again.stdout


def test_every_training_setting_is_a_flag_and_documented():
    from dataclasses import fields

    from dcgan.config import TrainConfig, flag_of

    help_text = dcgan("train", "--help").stdout
    guide = (REPO / "docs" / "training.md").read_text()
    for f in fields(TrainConfig):
        assert flag_of(f) in help_text, f.name
        assert f"| `{flag_of(f)}`" in guide, f"docs/training.md's settings table lacks {flag_of(f)}"


def test_train_flags_reach_the_config(tmp_path):
    from dataclasses import fields

    from dcgan.cli import build_parser
    from dcgan.config import TrainConfig, given

    def from_args(ns):
        cfg = TrainConfig(**given(ns))
        return cfg.half() if ns.half else cfg

    a = build_parser().parse_args(["train", "--out", str(tmp_path), "--channels", "1", "--beta2", "0.99",
                                   "--n-samples", "16", "--ckpt-every-s", "30", "--no-flip", "--half"])
    cfg = from_args(a)
    assert (cfg.channels, cfg.beta2, cfg.n_samples, cfg.ckpt_every_s, cfg.flip) == (1, 0.99, 16, 30.0, False)
    assert (cfg.ngf, cfg.ndf) == (32, 32)
    # the model card's command parses back to the same identity settings (where and how fast it ran aside)
    again = from_args(build_parser().parse_args(cfg.command(out=str(tmp_path)).split()[3:]))
    same = [f.name for f in fields(TrainConfig) if not f.metadata["on_resume"] or f.name == "epochs"]
    assert {k: getattr(again, k) for k in same} == {k: getattr(cfg, k) for k in same}


def test_summary_is_the_papers_table():
    t = json.loads(dcgan("summary", "--json").stdout)
    assert t["generator"]["params"] == 3_576_704 and t["discriminator"]["params"] == 2_765_568
    shapes = [layer["output_shape"] for layer in t["generator"]["layers"] if layer["type"] == "ConvTranspose2d"]
    assert shapes == [[512, 4, 4], [256, 8, 8], [128, 16, 16], [64, 32, 32], [3, 64, 64]]
    first = t["discriminator"]["layers"][0]
    assert (first["kernel"], first["stride"], first["padding"], first["output_shape"]) == (4, 2, 1, [64, 32, 32])
    assert sum(layer["params"] for layer in t["generator"]["layers"]) == t["generator"]["params"]
    half = json.loads(dcgan("summary", "--half", "--image-size", "128", "--channels", "1", "--json").stdout)
    assert half["generator"]["layers"][-2]["output_shape"] == [1, 128, 128]
    assert "| # | layer |" in dcgan("summary").stdout


def test_compare_two_runs_draws_a_picture_and_names_what_differs(image_folder, tmp_path):
    common = ["--data", image_folder, "--ngf", 8, "--ndf", 8, "--batch-size", 8, "--max-images", 16,
              "--image-size", 32, "--epochs", 1]
    dcgan("train", *common, "--out", tmp_path / "a")
    dcgan("train", *common, "--out", tmp_path / "b", "--no-flip", "--lr", "0.0005")
    res = json.loads(dcgan("compare", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "c.png", "--json").stdout)
    assert res["runs"] == ["a", "b"] and set(res["differing"]) == {"flip", "lr"}
    with Image.open(tmp_path / "c.png") as im:
        assert im.width >= 1000 and im.height >= 600
    proc = dcgan("compare", tmp_path / "a", tmp_path / "nope", "--out", tmp_path / "d.png", check=False)
    assert proc.returncode == 2 and "no run named" in proc.stderr


# ------------------------------------------------------------------ mistakes refused, not guessed at

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny run two epochs old (reused by the refusals below)."""
    from tests.conftest import make_images

    root = tmp_path_factory.mktemp("trained")
    make_images(root / "imgs", 16)
    out = root / "t2"
    dcgan("train", "--data", root / "imgs", "--out", out, "--ngf", 8, "--ndf", 8, "--batch-size", 8,
          "--image-size", 32, "--epochs", 2)
    return out


def one_line(proc, code=2):
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == code and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


@pytest.mark.parametrize("args, words", [
    (["train", "--data", "faces", "--out", "OUT/r", "--epoch", "1", "--batch", "16"],
     "unrecognized arguments: --epoch 1 --batch 16"),
    (["generate", "--out", "OUT/out.gif"], "--out out.gif: a grid is a .png"),
    (["interpolate", "--seeds", "1", "2", "--out", "OUT/w.png"], "--out w.png: the walk is an animated GIF"),
    (["generate", "--nrow", "0", "--out", "OUT/g.png"], "--nrow must be a whole number from 1 to 256 (got 0)"),
    (["interpolate", "--seeds", "1", "2", "--duration", "0", "--out", "OUT/w.gif"], "--duration must be 10 to 60000"),
    (["interpolate", "--seeds", "1", "1", "--out", "OUT/w.gif"], "a seed repeated next to itself"),
    (["generate", "--seed", "3.7", "--out", "OUT/g.png"], "invalid int value: '3.7'"),
])
def test_prefixes_and_odd_outputs_are_refused_in_one_line(tmp_path, args, words):
    line = one_line(cli(*[a.replace("OUT", str(tmp_path)) for a in args]))
    assert words in line
    assert not (tmp_path / "out.gif").exists() and not (tmp_path / "w.png").exists()


def test_a_run_is_never_left_saying_running(trained, tmp_path):
    """Resuming towards fewer epochs than done is refused and the run stays finished; a file as
    --out, a training checkpoint as FID weights and a run compared with itself are input mistakes."""
    line = one_line(cli("train", "--out", trained, "--resume", "--epochs", 1))
    assert "has already trained 2 epochs; ask for more --epochs (more than 2)" in line
    assert json.loads((trained / "status.json").read_text())["state"] == "finished"
    (tmp_path / "grid.png").write_bytes(b"x")
    assert "grid.png is a file" in one_line(cli("train", "--data", "faces", "--out", tmp_path / "grid.png"))
    assert "is not an FID Inception weights file" in one_line(
        cli("fid", "faces", trained, "--n", 4, "--weights", trained / "checkpoints" / "last.pt"))
    assert "RUNS names" in one_line(cli("compare", trained, trained, "--out", tmp_path / "c.png"))


def test_one_usable_image_is_refused_with_the_skipped_file_named(tmp_path):
    (tmp_path / "d").mkdir()
    Image.new("RGB", (40, 40), (200, 10, 10)).save(tmp_path / "d" / "a.png")
    (tmp_path / "d" / "b.png").write_text("not a picture")
    line = one_line(cli("train", "--data", tmp_path / "d", "--out", tmp_path / "r", "--image-size", 32))
    assert "has 1 usable image; training needs at least 2" in line and "b.png (UnidentifiedImageError" in line
    assert str(tmp_path) not in line.split("training needs")[1]  # the skipped file by its own name


def test_a_path_shaped_like_a_hub_id_is_a_local_typo(tmp_path):
    (tmp_path / "runs").mkdir()
    line = one_line(cli("generate", "--checkpoint", "runs/nope", "--out", tmp_path / "g.png", cwd=tmp_path))
    assert "no such generator: 'runs/nope' (there is a folder runs/ here" in line


@pytest.mark.slow  # seconds (a process of its own, a timeout, real work): out of the quick loop
def test_a_closed_pipe_ends_quietly():
    """`dcgan summary --json | head -c 200`: the reader leaves early; no traceback, exit 0."""
    proc = subprocess.run(f"{sys.executable} -m dcgan summary --json | head -c 200", shell=True, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and len(proc.stdout) == 200 and proc.stderr == "", proc.stderr
