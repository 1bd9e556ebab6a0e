"""A real headless Chromium (Debian's) opens the app, visits each tab, runs a generation, screenshots.

Screenshots go to $DCGAN_SCREENSHOTS (default: the test's temp folder) for a person to look at.
"""
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import _free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")]
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    runs = tmp_path_factory.mktemp("bruns")
    old = os.environ.get("DCGAN_RUNS_DIR")
    os.environ["DCGAN_RUNS_DIR"] = str(runs)
    from dcgan.ui.app import build_app, launch_kwargs

    demo = build_app()
    _, local, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=_free_port(),
                              quiet=True, **launch_kwargs())
    yield local
    demo.close()
    __import__('torch').set_num_threads(min(2, os.cpu_count() or 1))
    os.environ.pop("DCGAN_RUNS_DIR") if old is None else os.environ.__setitem__("DCGAN_RUNS_DIR", old)


def test_tabs_and_a_generation_in_chromium(url, tmp_path):
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("DCGAN_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_text("DCGAN Studio").first.wait_for()
        # the page opens on faces: the Generate tab's grid, before any click
        page.locator("img[src*='grid.png']").first.wait_for(timeout=60_000)
        page.screenshot(path=str(shots / "1-generate.png"), full_page=True)
        page.get_by_role("button", name="Generate", exact=True).click()
        page.wait_for_timeout(1500)

        page.get_by_role("tab", name="Walk").click()
        page.get_by_role("button", name="Walk").click()
        page.locator("img[src$='.gif']").first.wait_for(timeout=60_000)
        page.screenshot(path=str(shots / "2-walk.png"), full_page=True)

        page.get_by_role("tab", name="Train").click()
        page.get_by_role("button", name="Start").wait_for()
        page.screenshot(path=str(shots / "3-train.png"), full_page=True)

        page.get_by_role("tab", name="Evaluate").click()
        page.get_by_role("button", name="Compute FID").wait_for()
        page.screenshot(path=str(shots / "4-evaluate.png"), full_page=True)
        browser.close()
    for name in ("1-generate", "2-walk", "3-train", "4-evaluate"):
        assert (shots / f"{name}.png").stat().st_size > 10_000
