"""A real headless Chromium (Debian's) opens the app at desktop and phone widths, visits each tab, makes a
walk, and (public mode) is two visitors at once; it screenshots what it sees.

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


# every element that scrolls sideways: overflow-x auto/scroll (or a page wider than the window),
# content wider than its box; tables may scroll
SIDEWAYS = """() => {
  const out = [];
  if (document.documentElement.scrollWidth > window.innerWidth + 2) out.push('the page itself');
  for (const el of document.querySelectorAll('*')) {
    const ox = getComputedStyle(el).overflowX;
    if ((ox === 'auto' || ox === 'scroll') && el.scrollWidth > el.clientWidth + 2 && el.clientWidth > 0
        && !el.closest('table') && !el.querySelector(':scope > table') && !el.closest('.table-wrap')
        && !el.closest('[class*="table"]') && !el.closest('pre') && !el.closest('code')) {
      out.push(`${el.tagName}.${el.className}`.slice(0, 120) + ` ${el.scrollWidth}>${el.clientWidth} "${(el.innerText || "").slice(0, 40)}"`);
    }
  }
  return out;
}"""


def open_tab(page, name: str) -> None:
    """Click a tab; on a narrow screen Gradio folds the last tabs into a "⋯" menu first."""
    page.get_by_role("tab").first.wait_for(timeout=60_000)  # the page has rendered
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
        return
    for more in page.get_by_role("button", name="More tabs").all():
        if more.is_visible():
            more.click()
            items = [b for b in page.get_by_role("button", name=name, exact=True).all() if b.is_visible()]
            if items:
                items[0].click()
                return
            more.click()  # close it again
    raise AssertionError(f"tab {name} not reachable")


@pytest.mark.parametrize("width, height", [(1400, 1000), (390, 844)])
def test_first_minute_pictures_first_example_run_and_nothing_scrolls_sideways(url, tmp_path, width, height):
    """A fresh app with no runs: the first screen shows faces without a click; Train shows the shipped
    example run; Compare has the blog's pair; no panel of any tab scrolls sideways at either width."""
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("DCGAN_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    tag = f"{width}x{height}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(url, wait_until="domcontentloaded")
        grid = page.locator("img[src*='grid.png']").first
        grid.wait_for(timeout=60_000)
        box = grid.bounding_box()
        assert box and box["y"] < height and box["height"] > 100, box  # on the first screen, not below it
        page.wait_for_timeout(800)
        page.screenshot(path=str(shots / f"first-screen-{tag}.png"))
        problems = {"Generate": page.evaluate(SIDEWAYS)}
        for sub in ("Walk", "Directions", "Arithmetic"):
            open_tab(page, sub)
            page.wait_for_timeout(300)
            if sub == "Walk" and width > 1000:  # a walk made in the browser: its GIF is served and shown
                page.get_by_role("button", name="Walk").click()
                page.locator("img[src$='.gif']").first.wait_for(timeout=60_000)
                page.screenshot(path=str(shots / f"walk-{tag}.png"), full_page=True)
            problems[sub] = page.evaluate(SIDEWAYS)

        open_tab(page, "Train")
        page.get_by_text("example-faces").first.wait_for(timeout=60_000)
        page.get_by_text("No alarms now.").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(shots / f"train-example-{tag}.png"), full_page=True)
        problems["Train"] = page.evaluate(SIDEWAYS)

        open_tab(page, "Compare runs")
        page.get_by_role("button", name="Compare", exact=True).click()
        page.get_by_text("first alarm at epoch 107").first.wait_for(timeout=120_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(shots / f"compare-example-{tag}.png"), full_page=True)
        problems["Compare"] = page.evaluate(SIDEWAYS)

        open_tab(page, "Evaluate")
        page.get_by_role("button", name="Compute FID").wait_for()
        problems["Evaluate"] = page.evaluate(SIDEWAYS)
        browser.close()
    assert not any(problems.values()), problems


@pytest.fixture(scope="module")
def public_url(tmp_path_factory):
    from tests.conftest import launch_app

    saved = os.environ.get("DCGAN_PUBLIC")
    os.environ["DCGAN_PUBLIC"] = "1"
    client, runs, local, close = launch_app(tmp_path_factory)
    yield local, runs
    close()
    os.environ.pop("DCGAN_PUBLIC") if saved is None else os.environ.__setitem__("DCGAN_PUBLIC", saved)


def test_public_mode_two_browsers_see_only_their_own_runs(public_url, tmp_path):
    """Visitor A starts a run from the page; visitor B (another browser context) does not see it in
    any picker; A's reload re-attaches to it through the key kept in A's browser."""
    from playwright.sync_api import sync_playwright

    url, runs = public_url
    shots = Path(os.environ.get("DCGAN_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        a = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        a.goto(url, wait_until="domcontentloaded")
        open_tab(a, "Train")
        a.get_by_label("Max images (0: all)").fill("32")
        a.get_by_label("Epochs").fill("3")
        a.get_by_role("button", name="Start").click()
        a.get_by_text("Started").first.wait_for(timeout=120_000)
        run = next(p.name for p in runs.iterdir() if p.is_dir())
        a.get_by_text(run).first.wait_for(timeout=60_000)
        a.wait_for_timeout(1500)
        a.screenshot(path=str(shots / "public-visitor-a.png"), full_page=True)

        b = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        b.goto(url, wait_until="domcontentloaded")
        open_tab(b, "Train")
        b.get_by_text("example-faces").first.wait_for(timeout=60_000)  # B's view: the example, not A's run
        b.get_by_label("Run", exact=True).click()
        b.wait_for_timeout(800)
        b.screenshot(path=str(shots / "public-visitor-b.png"), full_page=True)
        assert run not in b.content()
        open_tab(b, "Generate")
        b.get_by_label("Generator").click()
        b.wait_for_timeout(800)
        assert run not in b.content()

        # a run trained after A's page opened is in every picker of that page, with no reload
        a.get_by_text("finished").first.wait_for(timeout=180_000)
        open_tab(a, "Generate")
        a.get_by_label("Generator").click()
        a.get_by_role("option", name=f"Run: {run}").wait_for(timeout=30_000)
        a.keyboard.press("Escape")
        open_tab(a, "Evaluate")
        a.get_by_text("Training set of a run").click()
        a.wait_for_timeout(800)
        next(el for el in a.get_by_label("Run", exact=True).all() if el.is_visible()).click()  # Evaluate's
        a.get_by_role("option", name=run).wait_for(timeout=30_000)
        a.keyboard.press("Escape")

        a.reload(wait_until="domcontentloaded")  # the key is in A's browser: the reload re-attaches
        open_tab(a, "Train")
        a.get_by_text(run).first.wait_for(timeout=60_000)
        open_tab(a, "Compare runs")
        a.get_by_label("Runs").click()
        a.get_by_role("option", name=run).wait_for(timeout=30_000)
        browser.close()


def _long_work_alive() -> bool:
    import threading

    return any(t.name == "dcgan-long-work" and t.is_alive() for t in threading.enumerate())


def _wait(cond, timeout_s: float) -> bool:
    import time

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.25)
    return cond()


def test_evaluate_shows_progress_with_eta_and_cancel_or_leaving_stops_the_work(url, tmp_path, monkeypatch):
    """Evaluate's real side uncached (random weights: nothing ships for them): the page shows the
    features' progress with an ETA; Cancel ends the server-side work within seconds, and so does
    closing the tab."""
    from playwright.sync_api import sync_playwright

    from dcgan.inception import make_random_weights

    monkeypatch.setenv("DCGAN_FID_WEIGHTS", str(make_random_weights(tmp_path / "w.pth")))
    shots = Path(os.environ.get("DCGAN_SCREENSHOTS", tmp_path))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            for leave in (False, True):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url)
                open_tab(page, "Evaluate")
                page.get_by_role("button", name="Compute FID").click()
                page.get_by_text("features of the real images").first.wait_for(timeout=120_000)
                page.get_by_text("left").first.wait_for(timeout=60_000)  # the ETA, once there is a rate
                assert _long_work_alive()
                if not leave:
                    page.screenshot(path=str(shots / "evaluate-progress.png"))
                    page.get_by_role("button", name="Cancel").click()
                else:
                    page.close()
                assert _wait(lambda: not _long_work_alive(), 30), f"work still running after {'leaving' if leave else 'Cancel'}"
                if not leave:
                    page.close()
        finally:
            browser.close()
