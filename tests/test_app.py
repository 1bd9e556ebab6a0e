"""The real app, launched on loopback and driven through gradio_client, as a script would."""
import io
import os
import time
import zipfile

import pytest
from PIL import Image

from tests.conftest import REPO, make_images

pytestmark = pytest.mark.slow


DEMO = "Bundled demo generator"


def test_generate_walk_scrub_arithmetic(app):
    client, _ = app
    grid, tiles = client.predict(DEMO, None, "", 5, 8, True, api_name="/generate")
    assert [t["caption"] for t in tiles] == [f"seed {s}" for s in range(5, 13)]
    with Image.open(grid) as im:
        assert im.size == (3 * 66 + 2, 3 * 66 + 2)  # ceil(sqrt(8)) = 3 tiles per row
    frames, gif, t, first = client.predict(DEMO, None, "", "1, 2, 3", 12, "slerp", True, api_name="/interpolate")
    assert len(frames) == 12 and t == 0.0

    def big(path):  # what the slider panels show: the frame at 4x, nearest neighbour
        im = Image.open(path)
        return im.resize((im.width * 4, im.height * 4), resample=0).tobytes()

    assert Image.open(first).tobytes() == big(frames[0]["image"])
    with Image.open(gif) as im:
        assert im.n_frames == 12
    # the slider at t=0 shows the walk's first frame, at t=1 its last
    at0 = client.predict(DEMO, None, "", "1, 2, 3", 0.0, "slerp", True, api_name="/scrub")
    at1 = client.predict(DEMO, None, "", "1, 2, 3", 1.0, "slerp", True, api_name="/scrub")
    assert Image.open(at0).tobytes() == big(frames[0]["image"])
    assert Image.open(at1).tobytes() == big(frames[-1]["image"])
    terms = client.predict(DEMO, None, "", "1 2", "3", "4 5 6", True, api_name="/arithmetic")
    assert [t["caption"] for t in terms][-1] == "A − B + C"
    moved = client.predict(DEMO, None, "", 0, True, 1.5, 0, 0, 0, 0, api_name="/directions")
    still = client.predict(DEMO, None, "", 0, True, 0, 0, 0, 0, 0, api_name="/directions")
    assert Image.open(moved).tobytes() != Image.open(still).tobytes()


def test_bad_generator_inputs_are_clear(app):
    from gradio_client.exceptions import AppError

    client, _ = app
    with pytest.raises(AppError, match="USER/NAME"):
        client.predict("Hugging Face Hub id", None, "../../etc/passwd", 0, 4, True, api_name="/generate")
    with pytest.raises(AppError, match="whole numbers"):
        client.predict(DEMO, None, "", "1, two", 4, "slerp", True, api_name="/interpolate")


def _train_args(files, epochs=1000):
    from gradio_client import handle_file

    return ("Uploaded images or zip", [handle_file(str(f)) for f in files], epochs, 8, 32, True, True, 2e-4, 0.5,
            0, "cpu", 0)


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


def test_train_stream_stop_resume_and_one_at_a_time(app, tmp_path):
    from gradio_client.exceptions import AppError

    from dcgan.runs import RunDir, load_checkpoint

    client, runs = app
    files = make_images(tmp_path / "imgs", 16, size=32)
    note, run = client.predict(*_train_args(files), api_name="/train")
    assert "Started" in note and "16 images" in note
    # the stream shows metrics (a loss plot with points) and an epoch grid
    seen = _follow_until(client, run, lambda o: o[3] is not None and o[1] and len(o[1]["data"]) > 0)
    status, losses = seen[-1][0], seen[-1][1]
    assert "running" in status and "images/s" in status
    col = losses["columns"].index("series")
    assert {row[col] for row in losses["data"]} == {"D loss", "G loss"}
    # every streamed plot is absent or numeric: an untyped first frame once made the axes categorical
    for out in seen:
        for plot in (out[1], out[2]):
            assert plot is None or plot["datatypes"] == {"step": "quantitative", "value": "quantitative",
                                                         "series": "nominal"}
    with pytest.raises(AppError, match="already running"):
        client.predict(*_train_args(files), api_name="/train")
    stopped = client.predict(api_name="/stop")
    assert "stopped" in stopped
    ck = load_checkpoint(RunDir(runs / run).last)
    target = ck["epoch"] + 2
    note, _ = client.predict(run, target, api_name="/resume")
    assert "Resumed" in note
    seen = _follow_until(client, run, lambda o: "finished" in o[0])
    assert load_checkpoint(RunDir(runs / run).last)["epoch"] == target
    assert len(seen[-1][6]) == 3  # checkpoint, generator, GIF ready to download


def test_bad_uploads_are_refused_clearly(app, tmp_path):
    from gradio_client.exceptions import AppError

    client, runs = app
    fake = tmp_path / "photo.png"
    fake.write_text("this is a text file, not a picture")
    with pytest.raises(AppError, match="could be read"):
        client.predict(*_train_args([fake]), api_name="/train")
    z = tmp_path / "slip.zip"
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="PNG")
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../../escape.png", buf.getvalue())
        zf.writestr("/etc/cron.png", buf.getvalue())
    with pytest.raises(AppError, match="unsafe member path"):
        client.predict(*_train_args([z]), api_name="/train")
    assert not list(runs.parent.rglob("escape.png"))


def test_fid_endpoint_reports_numbers_and_warnings(app, tmp_path):
    from gradio_client import handle_file

    client, _ = app
    files = make_images(tmp_path / "real", 8, size=48)
    md, rep, previews, report_files = client.predict(
        "Uploaded images or zip", [handle_file(str(f)) for f in files], None, None, "A generator", DEMO, None, "",
        8, None, 64, "legacy", api_name="/fid")
    assert rep["n_a"] == 8 and rep["n_b"] == 8 and rep["protocol"] == "fid8_legacy_64_64px"  # real side at G's size
    assert rep["fid"] > 0 and rep["kid_mean"] is not None and 0 <= rep["recall"] <= 1
    assert any("below 2048" in w for w in rep["warnings"]) and "Warnings" in md
    assert [p["caption"] for p in previews] == ["real", "generated"]
    assert sorted(os.path.splitext(f)[1] for f in report_files) == [".json", ".md"]


def test_fid_without_weights_says_how_to_get_them(app, monkeypatch, tmp_path):
    """No file given, none cached, and the download fails (as offline): the tab explains, no crash."""
    import urllib.error

    import torch

    client, _ = app
    monkeypatch.delenv("DCGAN_FID_WEIGHTS")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def offline(*a, **k):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    md, rep, _, _ = client.predict("Bundled faces dataset", None, None, None, "A generator", DEMO, None, "", 8, None,
                                   64, "legacy", api_name="/fid")
    assert md.startswith("### FID weights are missing")
    assert "--weights PATH" in md and "DCGAN_FID_WEIGHTS" in md and "pt_inception-2015-12-05" in md
    assert rep is None


def test_hostile_inputs_to_the_endpoints_and_the_app_keeps_serving(app, tmp_path):
    import numpy as np
    import torch
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError
    from safetensors.torch import save_file

    from tests.test_hub import _Evil

    client, _ = app
    marker = tmp_path / "pwned"
    torch.save({"G": _Evil(str(marker)), "config": {}}, tmp_path / "evil.pt")
    with pytest.raises(AppError, match="not a safe"):
        client.predict("Uploaded file", handle_file(str(tmp_path / "evil.pt")), "", 0, 4, True, api_name="/generate")
    assert not marker.exists()

    from dcgan.models import Generator

    sd = Generator(ngf=8).state_dict()
    sd["main.0.weight"] = torch.zeros(100, 5, 4, 4)
    save_file(sd, tmp_path / "wrong.safetensors")
    with pytest.raises(AppError, match="do not match"):
        client.predict("Uploaded file", handle_file(str(tmp_path / "wrong.safetensors")), "", 0, 4, True,
                       api_name="/generate")

    np.savez(tmp_path / "bad.npz", mean=np.zeros(64))
    with pytest.raises(AppError, match="'mu' and 'sigma'"):
        client.predict("Saved statistics (.npz)", None, None, handle_file(str(tmp_path / "bad.npz")), "A generator",
                       DEMO, None, "", 8, None, 64, "legacy", api_name="/fid")

    files = make_images(tmp_path / "ok", 4, size=32)
    bad_args = list(_train_args(files))
    bad_args[3] = 0  # batch size 0
    with pytest.raises(AppError, match="batch size"):
        client.predict(*bad_args, api_name="/train")
    bad_args = list(_train_args(files))
    bad_args[7] = -1.0  # a negative learning rate (NaN cannot even be sent as JSON)
    with pytest.raises(AppError, match="lr"):
        client.predict(*bad_args, api_name="/train")
    with pytest.raises(AppError, match="upload some images"):
        client.predict("Uploaded images or zip", [], 1, 8, 32, True, True, 2e-4, 0.5, 0, "cpu", 0, api_name="/train")
    with pytest.raises(AppError, match="Hugging Face Hub"):
        client.predict("Hugging Face Hub id", None, "nobody/no-such-dcgan", 0, 4, True, api_name="/generate")

    grid, tiles = client.predict(DEMO, None, "", 0, 4, True, api_name="/generate")  # still serving
    assert len(tiles) == 4


def test_the_run_view_tells_alarms_now_and_earlier():
    """A run that collapsed and recovered does not just say 'No alarms'; a run alarming now says so first."""
    import json

    from dcgan import monitor
    from dcgan.ui.live import alarm_markdown

    def replayed(name):
        lines = [json.loads(x) for x in (REPO / "tests/fixtures/collapse" / f"{name}.jsonl").read_text().splitlines()]
        return monitor.replay(lines[1:], lines[0]["config"])

    recovered = alarm_markdown(replayed("small-paper-noflip"))
    assert recovered.startswith("No alarms now.") and "lost variety at epochs 61–105" in recovered
    burning = alarm_markdown(replayed("lr-veryhigh"))
    assert burning.startswith("⚠️ **The samples are burnt out") and "artefacts at epochs 1–5" in burning
    assert alarm_markdown(replayed("half-flip")) == "No alarms now."
    assert alarm_markdown([]) == "No alarms now."
