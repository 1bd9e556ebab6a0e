"""The app's API as a script and an agent use it: named parameters with defaults, the endpoints that
chain (train -> follow -> runs -> compare), MCP tools, and a fuzz over every public endpoint."""
import json
import random
from pathlib import Path
import time
import urllib.request

import pytest
from PIL import Image

from tests.conftest import launch_app, make_images

pytestmark = pytest.mark.slow
GENERIC = "upstream Gradio app has raised an exception"


def public_endpoints(client) -> dict:
    return client.view_api(return_format="dict", print_info=False)["named_endpoints"]


def test_every_parameter_is_named_and_defaulted(app):
    client, _ = app
    eps = public_endpoints(client)
    assert {"/generate", "/interpolate", "/scrub", "/directions", "/arithmetic", "/train", "/follow", "/stop",
            "/resume", "/rewind", "/runs", "/summary", "/compare", "/fid", "/nearest", "/project",
            "/push", "/slot"} == set(eps)  # page events are private
    for name, ep in eps.items():
        for p in ep["parameters"]:
            assert not p["parameter_name"].startswith("param_"), (name, p["parameter_name"])
            assert p["parameter_has_default"], (name, p["parameter_name"])


def test_train_takes_every_setting_by_name(app):
    from dataclasses import fields

    from dcgan.config import TrainConfig
    from dcgan.ui.settings_form import param_name

    client, _ = app
    params = {p["parameter_name"]: p for p in public_endpoints(client)["/train"]["parameters"]}
    assert {param_name(f) for f in fields(TrainConfig)} | {"files", "half", "key"} == set(params)
    assert params["data"]["parameter_default"] == "faces" and params["batch_size"]["parameter_default"] == 128
    assert params["image_size"]["type"].get("enum") == [32, 64, 128]  # choices are enums


def test_generation_endpoints_work_with_no_arguments(app):
    client, _ = app
    grid, text = client.predict(api_name="/generate")
    assert "64 images" in text and Image.open(grid).size == (8 * 66 + 2, 8 * 66 + 2)
    strip, gif, text = client.predict(api_name="/interpolate")
    assert Image.open(gif).n_frames == 48 and "48 frames" in text
    assert Image.open(client.predict(api_name="/scrub")).size == (256, 256)
    assert Image.open(client.predict(api_name="/directions")[0]).size == (256, 256)
    assert len(client.predict(api_name="/arithmetic")) == 4


def test_project_then_walk_from_it_and_the_copy_check(app, tmp_path):
    """A script's path through the new endpoints: project an image, walk from its z, check for copies."""
    from gradio_client import handle_file

    client, _ = app
    img = make_images(tmp_path / "mine", 4, size=64)[0]
    target, recon, text, z = client.predict(image=handle_file(str(img)), steps=10, restarts=1, api_name="/project")
    assert "PSNR" in text and len(z) == 100 and Path(recon).stat().st_size > 0
    strip, gif, words = client.predict(seeds="5", frames=4, start=z, api_name="/interpolate")
    assert "from the given latent" in words
    picture, line, rep = client.predict(n=6, real=str(tmp_path / "mine"), api_name="/nearest")
    assert rep["n"] == 6 and "look like copies" in line


def test_summary_totals_are_the_papers(app):
    client, _ = app
    md, table = client.predict(api_name="/summary")  # 64x64, width 64: the paper's nets
    assert table["generator"]["params"] == 3_576_704 and table["discriminator"]["params"] == 2_765_568
    assert "3,576,704" in md and table["generator"]["layers"][-2]["output_shape"] == [3, 64, 64]
    md, half = client.predict(32, True, 1, api_name="/summary")
    assert half["generator"]["layers"][-2]["output_shape"] == [1, 32, 32]
    assert half["discriminator"]["layers"][0]["out_channels"] == 32


def _wait_for(client, name, state="finished", timeout=300):
    end = time.time() + timeout
    while time.time() < end:
        runs = {r["name"]: r for r in client.predict(api_name="/runs")}
        if runs.get(name, {}).get("state") == state:
            return runs[name]
        time.sleep(1)
    raise AssertionError(f"{name} did not reach {state}: {runs.get(name)}")


def test_train_returns_a_name_to_follow_and_two_runs_compare(app, tmp_path):
    from gradio_client import handle_file

    client, runs_dir = app
    files = [handle_file(str(f)) for f in make_images(tmp_path / "imgs", 16, size=32)]
    names = []
    for flip in (False, True):  # the blog's pair in miniature: no flips vs flips
        note, name, _ = client.predict(files=files, epochs=2, batch_size=8, image_size=32, half=True, flip=flip,
                                    device="cpu", api_name="/train")
        assert name in note and (runs_dir / name).is_dir()
        last = client.predict(name, api_name="/follow")  # streams until the run ends; the last update
        assert name in last[0]
        names.append(name)
        _wait_for(client, name)
    listed = client.predict(api_name="/runs")
    assert {r["name"] for r in listed} >= set(names) and all(r["epoch"] == 2 for r in listed if r["name"] in names)
    picture, lines, differing = client.predict(names, api_name="/compare")
    with Image.open(picture) as im:
        assert im.width >= 1000
    # flips are the setting that differs (and the data path: each run keeps its own copy of the upload)
    assert set(differing) == {"flip", "data"}
    assert all(n in lines for n in names)
    picture2, *_ = client.predict(api_name="/compare")  # no arguments: the two newest runs
    assert picture2


def test_mcp_tools_are_listed_with_described_parameters_and_answer_with_images(tmp_path_factory):
    client, _, url, close = launch_app(tmp_path_factory, mcp_server=True)
    try:
        with urllib.request.urlopen(url + "gradio_api/mcp/schema", timeout=60) as r:
            tools = {t["name"]: t for t in json.load(r)}
        assert {"generate", "interpolate", "fid", "summary", "runs", "compare", "train", "follow"} <= set(tools)
        for name in ("generate", "interpolate", "fid", "summary", "train"):
            assert tools[name]["description"]
            props = tools[name]["inputSchema"]["properties"]
            assert props and all(p.get("description") for p in props.values()), name
        assert "seeds" in tools["interpolate"]["inputSchema"]["properties"]
        assert tools["interpolate"]["inputSchema"]["properties"]["mode"].get("enum") == ["slerp", "lerp"]
        content = _mcp_call(url + "gradio_api/mcp/", "generate", {"generator": "demo", "n": 4, "seed": 3})
        images = [c for c in content if c.type == "image"]
        assert len(images) == 1 and images[0].mimeType == "image/png"
        from PIL import Image as PILImage
        import base64
        import io

        assert PILImage.open(io.BytesIO(base64.b64decode(images[0].data))).size == (2 * 66 + 2, 2 * 66 + 2)
        texts = " ".join(c.text for c in content if c.type == "text")
        assert "seeds 3–6" in texts
        text = " ".join(c.text for c in _mcp_call(url + "gradio_api/mcp/", "summary", {"image_size": 64}))
        assert "3,576,704" in text
    finally:
        close()


def _mcp_call(url: str, tool: str, args: dict) -> list:
    """A real MCP client session over streamable HTTP: initialize, list tools, call one; its content."""
    import asyncio

    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async def go():
        async with streamablehttp_client(url) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                listed = await session.list_tools()
                assert tool in {t.name for t in listed.tools}
                result = await session.call_tool(tool, args)
                assert not result.isError, result.content
                return result.content

    return asyncio.run(go())


def test_mcp_is_off_by_default(app):
    client, _ = app
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(client.src.rstrip("/") + "/gradio_api/mcp/schema", timeout=30)


# ------------------------------------------------------------------ fuzz

HOSTILE = [2 ** 70, -1, -1e308, "abc", "x" * 5000, "\x00\x1b[31m\u202e", "../../etc/passwd", None, [], {"a": 1},
           True, "C:\\Windows\\system32"]
# arguments that keep the valid calls cheap: tiny trainings, a few images for FID
CHEAP = {"/fid": {"n": 8, "dims": 64},
         "/train": {"epochs": 1, "max_images": 16, "batch_size": 8, "half": True},
         "/generate": {"n": 4}, "/interpolate": {"frames": 3}, "/nearest": {"n": 4},
         "/project": {"steps": 3, "restarts": 1}}


def _call(client, ep, kw):
    from gradio_client.exceptions import AppError

    try:
        client.predict(api_name=ep, **kw)
        return None
    except AppError as e:
        msg = str(e)
        assert GENERIC not in msg and msg.strip(), (ep, kw)
        assert "\n" not in msg.strip() and len(msg) <= 400, (ep, msg[:500])
        return msg


def test_fuzz_every_endpoint(app, tmp_path):
    """Each parameter of each public endpoint gets hostile values one at a time (a seeded draw of two
    per parameter), then random mixes: every answer is a result or a one-line message; the app keeps
    serving."""
    from gradio_client import handle_file

    client, _ = app
    real = make_images(tmp_path / "real", 4, size=24)
    # the local user may name a folder: when real_files is fuzzed away, the real side stays 4 images
    CHEAP["/fid"].update(real=str(tmp_path / "real"), real_files=[handle_file(str(f)) for f in real])
    CHEAP["/nearest"].update(real=str(tmp_path / "real"))
    CHEAP["/project"].update(image=handle_file(str(real[0])))
    eps = {k: v for k, v in public_endpoints(client).items() if k not in ("/follow",)}
    rng = random.Random(0)
    messages = 0
    for ep, spec in eps.items():
        names = [p["parameter_name"] for p in spec["parameters"]]
        # /train has a parameter per setting; each call that passes starts (and stops) a worker, so a
        # seeded sample of its parameters stands for them all
        for name in (rng.sample(names, 8) if len(names) > 12 else names):
            for value in rng.sample(HOSTILE, 2):
                messages += _call(client, ep, {**CHEAP.get(ep, {}), name: value}) is not None
                if ep == "/train":
                    client.predict(api_name="/stop")
        for _ in range(2):
            kw = {n: rng.choice(HOSTILE) for n in rng.sample(names, min(len(names), 3))}
            messages += _call(client, ep, {**CHEAP.get(ep, {}), **kw}) is not None
            if ep == "/train":
                client.predict(api_name="/stop")
    assert messages > 50  # the hostile values were really refused, with words
    grid, text = client.predict(api_name="/generate")  # still serving
    assert "64 images" in text
