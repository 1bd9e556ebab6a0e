"""The use cases (dcgan.api) called directly, with no server: input checks before any expensive work,
who may name what, typed results, and settings derived from TrainConfig everywhere."""
import argparse
import inspect
import json
from dataclasses import dataclass

import pytest
from PIL import Image

from dcgan import api
from dcgan.api import LOCAL, Caller, Upload
from dcgan.config import TrainConfig, setting
from dcgan.errors import ConfigError, DataError, UserError
from tests.conftest import make_images
from tests.fid_weights import random_protocol

VISITOR = Caller(owner="visitor-a", trusted=False)


@pytest.mark.parametrize("call, words", [
    (lambda: api.generate(LOCAL, n=0), "n must be a whole number from 1 to 256 (got 0)"),
    (lambda: api.generate(LOCAL, n=-5), "n must be a whole number from 1 to 256 (got -5)"),
    (lambda: api.generate(LOCAL, n=100_000), "n must be a whole number from 1 to 256 (got 100000)"),
    (lambda: api.generate(LOCAL, n=2.5), "n must be a whole number"),
    (lambda: api.generate(LOCAL, seed=-1), "seed must be a whole number from 0 to 9223372036854775807 (got -1)"),
    (lambda: api.interpolate(LOCAL, seeds="7"), "seeds needs 2 to 64 seeds"),
    (lambda: api.interpolate(LOCAL, seeds="1, two"), "seeds must be a whole number"),
    (lambda: api.interpolate(LOCAL, frames=1), "frames must be a whole number from 2 to 240"),
    (lambda: api.interpolate(LOCAL, mode="cubic"), "mode must be one of slerp, lerp"),
    (lambda: api.scrub(LOCAL, t=1.5), "t must be a number from 0 to 1"),
    (lambda: api.directions(LOCAL, amounts=(3, 0, 0, 0, 0)), "direction_1 must be a number from -2 to 2"),
    (lambda: api.generate(LOCAL, "missing.pt"), "no such generator (checkpoint): 'missing.pt'"),
    (lambda: api.summary(image_size=48), "image_size must be one of 32, 64, 128"),
    (lambda: api.fid(LOCAL, "faces", "demo", n=1), "n must be a whole number from 2 to 50000"),
    (lambda: api.fid(LOCAL, "faces", "demo", dims=100), "dims must be one of 64, 192, 768, 2048"),
    (lambda: api.train(LOCAL, {"epochs": 0}), "epochs must be >= 1 (got 0)"),
])
def test_bad_inputs_are_one_line_naming_the_parameter(call, words):
    with pytest.raises(UserError) as e:
        call()
    assert words in str(e.value) and "\n" not in str(e.value)


def test_fid_checks_its_sides_before_loading_inception(tmp_path, monkeypatch):
    """An empty folder is the answer, not "the weights could not be downloaded"."""
    import torch

    monkeypatch.delenv("DCGAN_FID_WEIGHTS", raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))  # nothing cached there
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no usable images"):
        api.fid(LOCAL, str(tmp_path / "empty"), "demo")


def test_results_are_typed_and_tiles_come_from_their_own_seeds():
    grid = api.generate(LOCAL, "demo", seed=5, n=6)
    assert grid.seeds == [5, 6, 7, 8, 9, 10] and len(grid.tiles) == 6 and "seeds 5–10" in grid.text
    alone = api.generate(LOCAL, "demo", seed=7, n=1)
    assert alone.tiles[0].tobytes() == grid.tiles[2].tobytes()
    walk = api.interpolate(LOCAL, "demo", [1, 2], frames=5, mode="lerp")
    assert len(walk.frames) == 5 and walk.seeds == [1, 2] and walk.mode == "lerp"
    at1 = api.scrub(LOCAL, "demo", "1 2", t=1.0, mode="lerp").image
    assert at1.tobytes() == walk.frames[-1].resize((256, 256), resample=0).tobytes()
    t = api.summary()
    assert t.table["generator"]["params"] == 3_576_704 and "3,576,704" in t.markdown
    half = api.summary(half=True)
    assert half.table["discriminator"]["layers"][0]["out_channels"] == 32


def test_a_visitor_names_no_server_path(tmp_path, image_folder):
    from dcgan.models import ModelConfig, build

    g, _ = build(ModelConfig(ngf=8, ndf=8, image_size=32), seed=0)
    g.save_pretrained(tmp_path / "gen")
    with pytest.raises(ConfigError, match="generator"):
        api.generate(VISITOR, str(tmp_path / "gen"))
    with pytest.raises(ConfigError, match="data must be"):
        api.train(VISITOR, {"data": str(image_folder), "epochs": 1})
    with pytest.raises(ConfigError, match="data_root names a file on the server"):
        api.train(VISITOR, {"data": "celeba", "data_root": "/etc"})
    with pytest.raises(ConfigError, match="fid_weights names a file on the server"):
        api.train(VISITOR, {"fid_weights": "/etc/passwd"})
    with pytest.raises(ConfigError, match="weights names a file on the server"):
        api.fid(VISITOR, "faces", "demo", weights="/etc/passwd")
    # the same file handed over as an upload is fine, and so are the product's words
    up = Upload.of(tmp_path / "gen" / "model.safetensors")
    assert len(api.generate(VISITOR, up, n=2).tiles) == 2
    assert len(api.generate(VISITOR, "emoji", n=2).tiles) == 2


def _fake_run(root, name, owner, epochs=1):
    from dcgan.runs import RunDir

    run = RunDir(root / name)
    run.path.mkdir(parents=True)
    run.write_json(run.request, {"config": {}, "resume": False, "owner": owner})
    run.write_config({**TrainConfig().to_dict(), "epochs": epochs})
    run.set_status("finished", epoch=epochs)
    return run


def test_runs_belong_to_their_owner(tmp_path, monkeypatch):
    monkeypatch.setenv("DCGAN_RUNS_DIR", str(tmp_path))
    _fake_run(tmp_path, "run-a", "visitor-a")
    _fake_run(tmp_path, "run-b", "visitor-b")
    _fake_run(tmp_path, "run-cli", None)
    assert [r.name for r in api.runs(VISITOR, examples=False)] == ["run-a"]
    # one user owns everything locally; the shipped examples are everyone's, read-only
    assert {r.name for r in api.runs(LOCAL, examples=False)} == {"run-a", "run-b", "run-cli"}
    examples = [r for r in api.runs(VISITOR) if r.state == "example"]
    assert {r.name for r in examples} == {"example-faces", "example-300-faces", "example-300-faces-augment",
                                          "example-300-faces-scored", "example-300-faces-augment-scored"}
    with pytest.raises(UserError, match="example run \\(read-only\\)"):
        api.resume(VISITOR, "example-faces")
    for call in (lambda: api.snapshot(VISITOR, "run-b"), lambda: api.resume(VISITOR, "run-b"),
                 lambda: api.compare_runs(VISITOR, ["run-a", "run-b"]), lambda: api.push(VISITOR, "run-b", "u/x"),
                 lambda: api.generate(VISITOR, "run-b"), lambda: api.nearest(VISITOR, "run-b"),
                 lambda: api.stop(VISITOR, "run-b")):
        with pytest.raises(UserError, match="no run named 'run-b'"):  # the same words as a run that does not exist
            call()
    for call in (lambda: api.snapshot(VISITOR, "run-zzz"), lambda: api.generate(VISITOR, "run-zzz")):
        with pytest.raises(UserError, match="no run named 'run-zzz'"):
            call()
    assert api.snapshot(VISITOR, "run-a").name == "run-a"
    assert api.stop(VISITOR).what == "nothing"


def test_resume_keeps_the_runs_identity(tmp_path, monkeypatch):
    monkeypatch.setenv("DCGAN_RUNS_DIR", str(tmp_path))
    run = _fake_run(tmp_path, "run-a", None)
    run.last.parent.mkdir()
    run.last.write_bytes(b"x")  # a checkpoint exists; resume is refused before it is read
    with pytest.raises(ConfigError, match=r"cannot change ngf 16 \(the run has 64\)") as e:
        api.resume(LOCAL, "run-a", epochs=3, changes={"ngf": 16})
    # each adapter names the setting its own way: the command line as a flag, the page as its label
    from dcgan.cli import flag
    from dcgan.ui import words

    assert "cannot change --ngf 16" in e.value.worded(flag) and "--log-every" in e.value.worded(flag)
    assert "cannot change G width (ngf) 16" in e.value.worded(words.label)


def test_uploads_are_named_as_the_visitor_knows_them(tmp_path, monkeypatch):
    monkeypatch.setenv("DCGAN_RUNS_DIR", str(tmp_path / "runs"))
    bad = tmp_path / "upload-cache" / "holiday.png"
    bad.parent.mkdir()
    bad.write_text("not a picture")
    with pytest.raises(DataError) as e:
        api.train(VISITOR, {"epochs": 1}, uploads=[Upload(bad, "holiday.png")])
    assert "holiday.png" in str(e.value) and "runs" not in str(e.value)
    assert not list((tmp_path / "runs").iterdir())  # nothing left behind


# ---------------------------------------------------------------- settings from one list

@dataclass
class WithDummy(TrainConfig):
    dummy_knob: int = setting(7, "a setting added for this test")


def test_a_new_setting_reaches_the_cli_the_form_the_api_and_the_model_card():
    import gradio as gr

    from dcgan.config import add_arguments, given
    from dcgan.ui import settings_form, train_endpoint

    p = argparse.ArgumentParser()
    add_arguments(p, WithDummy)
    ns = p.parse_args(["--dummy-knob", "9"])
    assert given(ns, WithDummy) == {"dummy_knob": 9}
    assert "--dummy-knob" in p.format_help() and "a setting added for this test" in p.format_help()
    fn = train_endpoint.make(WithDummy)
    param = inspect.signature(fn).parameters["dummy_knob"]
    assert param.default == 7 and param.annotation is int and "dummy_knob: a setting added" in fn.__doc__
    with gr.Blocks():
        form = settings_form.build(WithDummy)
    assert isinstance(form["dummy_knob"], gr.Number) and form["dummy_knob"].value == 7
    assert "--dummy-knob 9" in WithDummy(dummy_knob=9).command()
    # and every real field is in the form and the endpoint (data has its own picker on the page)
    real = train_endpoint.make()
    names = set(inspect.signature(real).parameters)
    assert {settings_form.param_name(f) for f in settings_form.shown_fields(TrainConfig, skip=())} <= names
    with gr.Blocks():
        assert set(settings_form.build(TrainConfig)) == {f.name for f in settings_form.shown_fields(TrainConfig)}


def test_report_is_typed_and_its_json_has_the_contracts_keys():
    from dcgan.metrics import FidReport

    rep = FidReport(fid=3.0, fid_mean_term=1.0, fid_cov_term=2.0, n_a=5, n_b=5, protocol="fid5_legacy_64",
                    resize="legacy", dims=64, image_size=None, weights="w.pth", pr_features="inception")
    d = json.loads(json.dumps(rep.to_dict()))
    assert {"fid", "fid_mean_term", "fid_cov_term", "fid_inf", "kid_mean", "kid_std", "precision", "recall", "n_a",
            "n_b", "protocol", "warnings"} <= set(d)


def test_uploads_of_images_make_an_fid_side(tmp_path):
    from dcgan.inception import make_random_weights

    w = make_random_weights(tmp_path / "w.pth")
    ups = [Upload.of(p) for p in make_images(tmp_path / "u", 6, size=32)]
    r = api.fid(LOCAL, None, "demo", real_uploads=ups, n=6, dims=64, weights=str(w), previews=True)
    assert r.report.n_a == 6 and r.report.real == "the 6 uploaded files" and random_protocol(r.report.protocol).endswith("_64px")
    assert [label for _, label in r.previews] == ["real", "generated"]
    assert isinstance(r.previews[0][0], Image.Image)


def test_before_a_first_run_the_run_view_shows_a_healthy_example_and_compare_the_blogs_pair(tmp_path, monkeypatch):
    monkeypatch.setenv("DCGAN_RUNS_DIR", str(tmp_path))
    from dcgan.ui import words

    s = api.snapshot(VISITOR)
    assert s.name == "example-faces" and s.state == "example" and s.grid and s.gif
    assert "example" in words.status_line(s.name, s.status)
    assert s.phase.kind == "healthy" and words.phase(s.phase).startswith("Healthy") and s.alarms == []
    assert words.alarms(s) == "No alarms now."
    assert [w for _, w in s.files] == ["gif"] and words.downloads(s) == "Downloads: progress GIF"
    c = api.compare_runs(VISITOR, out=tmp_path / "c.png")
    assert c.runs == ["example-300-faces", "example-300-faces-augment"]
    assert dict(c.differing) == {"augment": ["none", "color,translation,cutout"]}
    assert c.compared[0].first_alarm["epoch"] == 107 and c.compared[1].first_alarm is None
    lines = words.compared(c)
    assert "first alarm at epoch 107" in lines[0] and "no alarm" in lines[1]


def test_the_phase_names_the_early_stall_and_a_recovery():
    from dcgan import monitor
    from dcgan.ui import words

    stall = [{"step": s, "epoch": 1, "d_real": 0.99, "d_fake": 0.01} for s in range(10, 310, 10)]
    assert monitor.phase(stall, []).kind == "stall"
    assert words.phase(monitor.phase(stall, [])).startswith("Early stall (step 300): D tells real")
    healthy = stall + [{"step": s, "epoch": 9, "d_real": 0.7, "d_fake": 0.3} for s in range(1500, 1700, 10)]
    epochs = [{"epoch": 3, "alarms": [{"kind": "lost_variety"}]}, {"epoch": 9, "diversity_ratio": 0.8, "alarms": []}]
    assert words.phase(monitor.phase(healthy, epochs)).startswith("Recovered: alarms fired at epoch 3")
    assert words.phase(monitor.phase(healthy, epochs[1:])).startswith("Healthy")


def test_directions_are_computed_once_in_the_background():
    from dcgan.api import sampling

    g = sampling.model(LOCAL, "emoji")
    sampling.warm_directions(LOCAL, "emoji").join(timeout=120)
    assert g in sampling._directions  # noqa: SLF001 - the cache itself is what this test is about
    first = api.directions(LOCAL, "emoji", amounts=(1, 0, 0, 0, 0)).image
    assert first.size == (256, 256)


def test_expiry_removes_old_anonymous_runs_only_and_logs_it(tmp_path, monkeypatch):
    import os
    import time as _time

    from dcgan.api.limits import Limits, expire

    monkeypatch.setenv("DCGAN_RUNS_DIR", str(tmp_path))
    old_anon = _fake_run(tmp_path, "run-old-anon", "key:abc")
    new_anon = _fake_run(tmp_path, "run-new-anon", "key:def")
    old_user = _fake_run(tmp_path, "run-old-user", "hf:someone")
    running = _fake_run(tmp_path, "run-old-running", "key:ghi")
    running.set_status("running")  # this process: alive
    two_days = _time.time() - 48 * 3600
    for r in (old_anon, old_user, running):
        os.utime(r.status_file, (two_days, two_days))
    limits = Limits(max_work=1, max_minutes=1, quota_mb=10_000, ttl_hours=24)
    assert expire(limits, tmp_path) == ["run-old-anon"]
    assert not old_anon.path.exists() and new_anon.path.exists() and old_user.path.exists() and running.path.exists()
    assert "removed run-old-anon" in (tmp_path / "expired.log").read_text()
    # over the quota: ended anonymous runs go, oldest first, whatever their age; never the others
    (new_anon.path / "big.bin").write_bytes(b"x" * (2 << 20))
    assert expire(Limits(1, 1, quota_mb=1, ttl_hours=24), tmp_path) == ["run-new-anon"]
    assert old_user.path.exists() and running.path.exists()


def test_compare_says_which_recipe_won_by_fid():
    """The shipped, scored pair of the blog's recipe (FID tracked with the standard weights): Compare's
    lines name each run's FID, and augmentation's is the lower."""
    from dcgan.ui import words

    c = api.compare_runs(LOCAL, ["example-300-faces-scored", "example-300-faces-augment-scored"])
    plain, augmented = words.compared(c)[:2]
    assert "fid500_legacy_2048_64px" in plain and "fid500_legacy_2048_64px" in augmented
    fid = lambda line: float(line.split("fid500_legacy_2048_64px ")[1].split()[0])  # noqa: E731
    assert fid(augmented) < fid(plain)
    assert "_weights-" not in plain  # the standard weights, named by a protocol without a suffix
