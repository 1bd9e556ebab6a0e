"""The way back: checkpoints/healthy.pt at each epoch end the monitor judged clear, `--resume --from
healthy` with changed settings, the rewind recorded before training resumes, the abandoned branch
kept and shown."""
import json

import pytest
import torch

from dcgan import monitor
from dcgan.api import LOCAL, compare_runs
from dcgan.ui import words
from dcgan.runs import RunDir, load_checkpoint
from tests.test_train import run_all, same, tiny


@pytest.fixture
def trouble_from(monkeypatch):
    """Make the monitor raise an alarm at every epoch end from epoch `n` on, and judge the epochs
    before it clear (the real rules neither fire on runs this small nor find a fresh G healthy);
    returns a function that sets n (None: never)."""
    real_check = monitor.check
    state = {"from": None}

    def check(steps, *args, **kw):
        signals, alarms = real_check(steps, *args, **kw)
        epoch = steps[-1]["epoch"] if steps else 0  # the step records of the epoch just ended
        trouble = state["from"] is not None and epoch >= state["from"]
        if trouble:
            alarms = alarms + [monitor.Alarm("lost_variety", "Mode collapse (staged by the test).",
                                             ["x"])]
        return {**signals, "clear": not alarms}, alarms

    monkeypatch.setattr(monitor, "check", check)
    return lambda n: state.update({"from": n})


def epochs_of(run_dir):
    return [r for r in RunDir(run_dir).read_metrics() if r.get("kind") == "epoch"]


def test_healthy_is_kept_at_alarm_free_epoch_ends_only(image_folder, tmp_path, trouble_from):
    trouble_from(3)
    run_all(tiny(image_folder, epochs=4), tmp_path / "r")
    run = RunDir(tmp_path / "r")
    assert [bool(e["alarms"]) for e in epochs_of(run.path)] == [False, False, True, True]
    healthy = torch.load(run.healthy, weights_only=True)  # a full state, loadable without pickle code
    assert healthy["epoch"] == 2 and load_checkpoint(run.last)["epoch"] == 4
    assert healthy["opt_g"] is not None and healthy["rng"] is not None


def test_rewind_matches_stop_and_resume_with_the_same_change_bit_for_bit(image_folder, tmp_path, trouble_from):
    trouble_from(3)
    run_all(tiny(image_folder, epochs=4), tmp_path / "a")  # healthy at 2, alarms at 3 and 4
    trouble_from(None)
    events = run_all(tiny(image_folder, epochs=4, augment="color"), tmp_path / "a", resume=True,
                     start_from="healthy")
    assert events[0]["resumed_from_epoch"] == 2
    run_all(tiny(image_folder, epochs=2), tmp_path / "b")  # stopped at that epoch ...
    run_all(tiny(image_folder, epochs=4, augment="color"), tmp_path / "b", resume=True)  # ... resumed, same change
    a, b = load_checkpoint(RunDir(tmp_path / "a").last), load_checkpoint(RunDir(tmp_path / "b").last)
    assert same(a["G"], b["G"]) and same(a["D"], b["D"]) and a["step"] == b["step"]
    assert (RunDir(tmp_path / "a").sample_path(4).read_bytes() == RunDir(tmp_path / "b").sample_path(4).read_bytes())

    cfg = RunDir(tmp_path / "a").read_config()
    assert cfg["augment"] == "color"
    (rewind,) = cfg["rewinds"]
    assert rewind["from_epoch"] == 2 and rewind["at_epoch"] == 4 and rewind["changed"] == {"augment": "color"}
    assert RunDir(tmp_path / "b").read_config()["changes"][0]["changed"] == {"augment": "color"}
    # metrics continue from the healthy epoch; the fork is in the stream; the abandoned branch is kept aside
    recs = RunDir(tmp_path / "a").read_metrics()
    assert [r["epoch"] for r in recs if r.get("kind") == "epoch"] == [1, 2, 3, 4]
    assert [r["kind"] for r in recs if r["kind"] != "step"] == ["epoch", "epoch", "rewind", "epoch", "epoch"]
    assert not any(e["alarms"] for e in epochs_of(tmp_path / "a"))
    branch = RunDir(tmp_path / "a").branches / "1"
    info = json.loads((branch / "branch.json").read_text())
    assert info["from_epoch"] == 2 and info["at_epoch"] == 4
    gone = [json.loads(line) for line in (branch / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in gone if r["kind"] == "epoch"] == [3, 4]
    assert all(r["alarms"] for r in gone if r["kind"] == "epoch")
    assert sorted(p.name for p in (branch / "samples").iterdir()) == ["epoch_003.png", "epoch_004.png"]


def test_compare_shows_a_rewound_run_with_its_branch(image_folder, tmp_path, trouble_from, monkeypatch):
    monkeypatch.setenv("DCGAN_RUNS_DIR", str(tmp_path))
    trouble_from(2)
    run_all(tiny(image_folder, epochs=3), tmp_path / "r")
    trouble_from(None)
    run_all(tiny(image_folder, epochs=3, lr=1e-4), tmp_path / "r", resume=True, start_from="healthy")
    c = compare_runs(LOCAL, ["r"], out=tmp_path / "c.png")
    assert c.picture.stat().st_size > 10_000
    (branch,) = c.compared[0].branches
    assert (branch["at_epoch"], branch["from_epoch"], branch["changed"], branch["alarms"]) == (3, 1, {"lr": 1e-4},
                                                                                          ["lost_variety"])
    text = "\n".join(words.compared(c))
    assert "rewound at epoch 3 to epoch 1" in text and "Learning rate 0.0001" in text and "lost variety" in text


def cli(capsys, *args):
    """The command line in this process (what `dcgan ...` runs): exit status and stderr."""
    from dcgan.cli import main

    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def test_cli_rewind_refusals_are_one_line(image_folder, tmp_path, capsys):
    out = tmp_path / "r"
    code, err = cli(capsys, "train", "--out", out, "--from", "healthy")
    assert code == 2 and "add --resume" in err and len(err.strip().splitlines()) == 1
    run_all(tiny(image_folder, epochs=1), out)
    RunDir(out).healthy.unlink(missing_ok=True)  # (a run this young is not judged healthy anyway)
    code, err = cli(capsys, "train", "--out", out, "--resume", "--from", "healthy", "--epochs", "2")
    assert code == 2 and "healthy.pt" in err and len(err.strip().splitlines()) == 1
    code, err = cli(capsys, "train", "--out", out, "--resume", "--ngf", "16", "--epochs", "2")
    assert code == 2 and "--ngf 16 (the run has 8)" in err and "--augment" in err and "--log-every" in err
