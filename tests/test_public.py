"""A Space shared by strangers (public mode, DCGAN_PUBLIC=1), launched for real: two visitors through
gradio_client and two browser contexts. Who can see, stop and read what; nothing served by path;
a fair queue for the one training slot; lists that stay current."""
import os
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import launch_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def public(tmp_path_factory):
    saved = {k: os.environ.get(k) for k in ("DCGAN_PUBLIC", "DCGAN_MAX_WORK")}
    os.environ.update(DCGAN_PUBLIC="1", DCGAN_MAX_WORK="100000")
    from gradio_client import Client

    client, runs, url, close = launch_app(tmp_path_factory)
    yield client, Client(url, verbose=False), runs, url
    close()
    for k, v in saved.items():
        os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def _status(url: str, path: str) -> int:
    try:
        with urllib.request.urlopen(url.rstrip("/") + path, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_two_visitors_own_their_runs_and_nothing_is_served_by_path(public):
    from gradio_client.exceptions import AppError

    a, b, runs, url = public
    note, run_a, key_a = a.predict(data="faces", epochs=100, max_images=64, batch_size=16, image_size=32, ngf=8,
                                   ndf=8, device="cpu", api_name="/train")
    assert "Started" in note and len(key_a) >= 22
    # B has a key of its own (the first /train makes it); its run waits in the queue behind A's
    note, run_b, key_b = b.predict(data="emoji", epochs=1, max_images=32, batch_size=16, image_size=32, ngf=8, ndf=8,
                                   device="cpu", api_name="/train")
    assert "Queued" in note and "1st in line" in note and key_b != key_a
    # B's run view says where it waits, counted from A's run; B sees the slot busy, but not whose run
    text, seen_by_b = b.predict(key_b, api_name="/slot")
    assert seen_by_b["busy"] and not seen_by_b["mine"] and seen_by_b["run"] is None and seen_by_b["my_place"] == 1
    assert run_a not in text and "yours is 1st in line" in text
    assert a.predict(key_a, api_name="/slot")[1]["run"] == run_a
    job = b.submit(run_b, key_b, api_name="/follow")
    first = _first_output(job)
    assert "queued · 1st in line, starts in about" in first[0] and first[1]["status"]["position"] == 1
    with pytest.raises(AppError, match="one at a time per visitor"):
        b.predict(data="emoji", epochs=1, max_images=32, key=key_b, api_name="/train")
    # B does not see A's run, cannot follow, stop, resume, rewind, compare or push it: the same words as for no run
    names_b = {r["name"] for r in b.predict(key=key_b, api_name="/runs")}
    assert run_a not in names_b and run_b in names_b
    for ep, kw in (("/follow", {"run": run_a}), ("/resume", {"run": run_a}), ("/rewind", {"run": run_a}),
                   ("/compare", {"runs": [run_a, run_b]}),
                   ("/push", {"run": run_a, "repo_id": "b/x"}), ("/generate", {"generator": run_a})):
        with pytest.raises(AppError, match=f"no run named '{run_a}'"):
            b.predict(key=key_b, api_name=ep, **kw)
    assert "Nothing of yours is running" in b.predict(key=None, api_name="/stop")
    assert "left the queue" not in b.predict(key="x" * 30, api_name="/stop")  # a guessed key owns nothing
    # nothing under the runs folder is served by path, to anyone
    time.sleep(2)
    for f in [p for p in (runs / run_a).rglob("*") if p.is_file()][:12]:
        assert _status(url, f"/gradio_api/file={f}") in (403, 404), f
        assert _status(url, f"/gradio_api/file={f.relative_to(runs.parent)}") in (403, 404), f
    # A sees and stops its own run; then B's queued run starts by itself
    assert run_a in {r["name"] for r in a.predict(key=key_a, api_name="/runs")}
    assert "stopped" in a.predict(run=run_a, key=key_a, api_name="/stop")
    end = time.time() + 120
    while time.time() < end:
        state = {r["name"]: r["state"] for r in b.predict(key=key_b, api_name="/runs")}[run_b]
        if state in ("running", "finished"):
            break
        time.sleep(1)
    assert state in ("running", "finished")
    # the same follow, left open since B's run was queued, moved on: no place in line once it trains
    end = time.time() + 120
    while time.time() < end and not job.done():
        time.sleep(0.5)
    seen = [o[0] for o in job.outputs()]
    assert any("in line" in t for t in seen) and not any("in line" in t for t in seen[-1:]), seen
    assert any(" — running" in t or " — finished" in t for t in seen), seen
    last = b.predict(run_b, key_b, api_name="/follow")
    assert run_b in last[0]


def _first_output(job, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if job.outputs():
            return job.outputs()[0]
        time.sleep(0.2)
    raise AssertionError("no output from /follow")


def test_a_visitor_names_no_server_path_and_caps_are_said(public):
    from gradio_client.exceptions import AppError

    a, _, _, _ = public
    with pytest.raises(AppError, match="data must be"):
        a.predict(data="/etc", api_name="/train")
    with pytest.raises(AppError, match="no such generator|generator"):
        a.predict(generator="/etc/passwd", api_name="/generate")
    with pytest.raises(AppError, match="epochs × images must be at most 100000"):
        a.predict(data="faces", epochs=11, api_name="/train")
