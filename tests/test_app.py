"""The real app, launched on loopback and driven through gradio_client as a script would: the public
endpoints' wiring (keyword names, short values, files in and out, one-line errors). What the use
cases decide is tested without a server in test_usecases.py."""
import os
import time
import zipfile

import pytest
from PIL import Image

from tests.conftest import REPO, make_images
from tests.fid_weights import random_protocol

pytestmark = pytest.mark.slow


def test_generate_walk_scrub_directions_arithmetic(app):
    client, _ = app
    grid, text = client.predict(generator="demo", seed=5, n=8, api_name="/generate")
    assert "seeds 5–12" in text
    with Image.open(grid) as im:
        assert im.size == (3 * 66 + 2, 3 * 66 + 2)  # ceil(sqrt(8)) = 3 tiles per row
    strip, gif, text = client.predict(seeds="1, 2, 3", frames=12, api_name="/interpolate")
    assert "12 frames" in text
    with Image.open(gif) as im:
        assert im.n_frames == 12
        im.seek(0)
        first = im.convert("RGB").copy()
    # the slider at t=0 shows the walk's first frame (the GIF's palette aside: compare sizes and closeness)
    at0 = Image.open(client.predict(seeds="1, 2, 3", t=0.0, api_name="/scrub")).convert("RGB")
    assert at0.size == first.size == (256, 256)
    diff = sum(abs(a - b) for a, b in zip(at0.tobytes(), first.tobytes())) / len(first.tobytes())
    assert diff < 8
    a, b, c, abc = client.predict(a="1 2", b="3", c="4 5 6", api_name="/arithmetic")
    assert all(Image.open(p).size == (64, 64) for p in (a, b, c, abc))
    moved, _ = client.predict(seed=0, direction_1=1.5, api_name="/directions")
    still, _ = client.predict(seed=0, api_name="/directions")
    assert Image.open(moved).tobytes() != Image.open(still).tobytes()


def test_bad_inputs_are_one_line_naming_the_parameter(app):
    from gradio_client.exceptions import AppError

    client, _ = app
    for kw, words in (({"n": 0}, "n must be a whole number from 1 to 256"), ({"seed": -1}, "seed must be"),
                      ({"hub_id": "../../etc/passwd"}, "hub_id must look like USER/NAME"), ({"generator": "nope.pt"}, "no such generator")):
        with pytest.raises(AppError, match=words):
            client.predict(api_name="/generate", **kw)
    with pytest.raises(AppError, match="seeds needs 2 to 64 seeds"):
        client.predict(seeds="4", api_name="/interpolate")
    with pytest.raises(AppError, match="epochs must be >= 1"):
        client.predict(epochs=0, api_name="/train")


def _follow_until(client, run, pred, timeout=240):
    job = client.submit(run, api_name="/follow")
    end = time.time() + timeout
    seen = []
    try:
        while time.time() < end:
            outs = job.outputs()
            if len(outs) > len(seen):
                seen = list(outs)
                if pred(seen[-1]):
                    return seen
            if job.done() and len(job.outputs()) == len(seen):
                break
            time.sleep(0.3)
    finally:
        job.cancel()
    raise AssertionError(f"condition not met; last status: {seen[-1][0] if seen else None}")


def test_train_by_short_values_follow_stop_resume_one_at_a_time(app, tmp_path):
    from gradio_client.exceptions import AppError

    from dcgan.runs import RunDir, load_checkpoint

    client, runs = app
    note, run, _ = client.predict(data="faces", epochs=1000, max_images=32, batch_size=8, image_size=32, half=True,
                               device="cpu", api_name="/train")
    assert "Started" in note and "32 images" in note
    seen = _follow_until(client, run, lambda o: o[2] is not None and o[1]["step"] > 0)
    status, record = seen[-1][0], seen[-1][1]
    assert "running" in status and "images/s" in status and record["last_step"]["loss_d"] > 0
    with Image.open(seen[-1][2]) as im:  # the newest fixed-noise grid, as a file
        assert im.width > 32
    with pytest.raises(AppError, match="already running"):
        client.predict(data="faces", max_images=16, api_name="/train")
    assert "stopped" in client.predict(api_name="/stop")
    ck = load_checkpoint(RunDir(runs / run).last)
    target = ck["epoch"] + 1
    note, name = client.predict(run, target, api_name="/resume")
    assert "Resumed" in note and name == run
    _follow_until(client, run, lambda o: "finished" in o[0])
    assert load_checkpoint(RunDir(runs / run).last)["epoch"] == target
    listed = {r["name"]: r for r in client.predict(api_name="/runs")}
    assert listed[run]["epoch"] == target and listed[run]["ngf"] == 32


def test_uploads_train_and_bad_uploads_are_refused_by_their_own_names(app, tmp_path):
    import io

    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    client, runs = app
    fake = tmp_path / "photo.png"
    fake.write_text("this is a text file, not a picture")
    with pytest.raises(AppError, match="photo.png"):
        client.predict(files=[handle_file(str(fake))], epochs=1, api_name="/train")
    z = tmp_path / "slip.zip"
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="PNG")
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../../escape.png", buf.getvalue())
        zf.writestr("/etc/cron.png", buf.getvalue())
    with pytest.raises(AppError, match="unsafe member path"):
        client.predict(files=[handle_file(str(z))], epochs=1, api_name="/train")
    assert not list(runs.parent.rglob("escape.png"))


def test_fid_endpoint_reports_numbers_and_warnings(app, tmp_path):
    from gradio_client import handle_file

    client, _ = app
    files = make_images(tmp_path / "real", 8, size=48)
    md, rep = client.predict(real_files=[handle_file(str(f)) for f in files], n=8, dims=64, api_name="/fid")
    assert rep["n_a"] == 8 and rep["n_b"] == 8 and random_protocol(rep["protocol"]) == "fid8_legacy_64_64px"  # real side at G's size
    assert rep["fid"] > 0 and rep["kid_mean"] is not None and 0 <= rep["recall"] <= 1
    assert any("below 2048" in w for w in rep["warnings"]) and "Warnings" in md
    assert rep["real"] == "the 8 uploaded files" and "/tmp" not in md


def test_hostile_inputs_to_the_endpoints_and_the_app_keeps_serving(app, tmp_path):
    import numpy as np
    import torch
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError
    from safetensors.torch import save_file

    from dcgan.models import Generator
    from tests.test_hub import _Evil

    client, _ = app
    marker = tmp_path / "pwned"
    torch.save({"G": _Evil(str(marker)), "config": {}}, tmp_path / "evil.pt")
    with pytest.raises(AppError, match="not a safe"):
        client.predict(generator_file=handle_file(str(tmp_path / "evil.pt")), n=4, api_name="/generate")
    assert not marker.exists()
    sd = Generator(ngf=8).state_dict()
    sd["main.0.weight"] = torch.zeros(100, 5, 4, 4)
    save_file(sd, tmp_path / "wrong.safetensors")
    with pytest.raises(AppError, match="do not match"):
        client.predict(generator_file=handle_file(str(tmp_path / "wrong.safetensors")), n=4, api_name="/generate")
    np.savez(tmp_path / "bad.npz", mean=np.zeros(64))
    with pytest.raises(AppError, match="'mu' and 'sigma'"):
        client.predict(real_files=[handle_file(str(tmp_path / "bad.npz"))], n=8, dims=64, api_name="/fid")
    with pytest.raises(AppError, match="batch size"):
        client.predict(batch_size=0, max_images=8, api_name="/train")
    with pytest.raises(AppError, match="lr"):
        client.predict(lr=-1.0, max_images=8, api_name="/train")
    with pytest.raises(AppError, match="Hugging Face Hub"):
        client.predict(generator="nobody/no-such-dcgan", n=4, api_name="/generate")
    grid, _ = client.predict(n=4, api_name="/generate")  # still serving
    assert os.path.getsize(grid) > 0


def test_the_run_view_tells_alarms_now_and_earlier(tmp_path):
    """A run that collapsed and recovered does not just say 'No alarms'; a run alarming now says so first."""
    import json

    from dcgan import monitor
    from dcgan.api.watching import look
    from dcgan.runs import RunDir
    from dcgan.ui import words

    def replayed(name):
        lines = [json.loads(x) for x in (REPO / "tests/fixtures/collapse" / f"{name}.jsonl").read_text().splitlines()]
        cfg, recs = lines[0]["config"], lines[1:]
        now = {e["epoch"]: e["alarms"] for e in monitor.replay(recs, cfg)}
        run = RunDir(tmp_path / name)
        run.write_config(cfg)
        run.rewrite_metrics([{**r, "alarms": now.get(r["epoch"], [])} if r.get("kind") == "epoch" else r
                             for r in recs])
        return words.alarms(look(run))

    recovered = replayed("small-paper-noflip")
    assert recovered.startswith("No alarms now.") and "lost variety at epochs 61–105" in recovered
    burning = replayed("lr-veryhigh")
    assert burning.startswith("⚠️ **The samples are burnt out") and "artefacts at epochs 1–5" in burning
    assert "(Learning rate 0.0002)" in burning and "--" not in burning  # the page says its own labels
    assert replayed("half-flip") == "No alarms now."


def test_an_active_alarm_offers_a_rewind_and_the_rewind_continues_from_healthy(app, image_folder, monkeypatch):
    """A run staged here with alarms from epoch 2 (the real rules do not fire on a run this small):
    /follow offers the way back, /rewind takes the first option (augmentation: 24 images, none yet)."""
    from dcgan import monitor
    from dcgan.runs import RunDir
    from tests.test_train import run_all, tiny

    client, runs = app
    real_check = monitor.check

    def check(steps, *a, **kw):
        signals, alarms = real_check(steps, *a, **kw)
        staged = monitor.Alarm("lost_variety", "Mode collapse (staged).", ["x"])
        alarms = alarms + ([staged] if steps[-1]["epoch"] >= 2 else [])
        return {**signals, "clear": not alarms}, alarms  # staged healthy before the alarm

    monkeypatch.setattr(monitor, "check", check)
    run_all(tiny(image_folder, epochs=3), runs / "staged")
    monkeypatch.setattr(monitor, "check", real_check)
    (last,) = _follow_until(client, "staged", lambda o: True)[-1:]
    offer = last[1]["rewind"]
    assert offer["epoch"] == 1 and offer["options"][0]["changes"] == {"augment": "color,translation,cutout"}
    note, name = client.predict(run="staged", api_name="/rewind")
    assert "Rewound **staged** to healthy.pt with augment color,translation,cutout" in note and name == "staged"
    # recorded before its worker trains a step: the branch is kept aside at once
    assert RunDir(runs / "staged").read_config()["rewinds"][0]["branch"] == "branches/1"
    done = _follow_until(client, "staged", lambda o: "finished" in o[0])
    assert done[-1][1]["rewind"] is None  # no alarm now: nothing to offer
    cfg = RunDir(runs / "staged").read_config()
    assert cfg["augment"] == "color,translation,cutout"
    assert cfg["rewinds"][0]["from_epoch"] == 1 and cfg["rewinds"][0]["at_epoch"] == 3
    assert (runs / "staged" / "branches" / "1" / "samples" / "epoch_002.png").exists()
