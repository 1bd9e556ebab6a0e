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


def screenshots(tmp_path) -> Path:
    """Where screenshots go: $DCGAN_SCREENSHOTS, else the test's temp folder."""
    shots = Path(os.environ.get("DCGAN_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    return shots


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

    shots = screenshots(tmp_path)
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


def start_from_the_page(browser, url: str, max_images: int, epochs: int):
    """A visitor (a new browser context) starts a small run from the Train tab; their page."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(url, wait_until="domcontentloaded")
    open_tab(page, "Train")
    page.get_by_label("Max images (0: all)").fill(str(max_images))
    page.get_by_label("Epochs").fill(str(epochs))
    page.get_by_role("button", name="Start").click()
    page.get_by_text("Started").first.wait_for(timeout=120_000)
    return page


def test_public_mode_two_browsers_see_only_their_own_runs(public_url, tmp_path):
    """Visitor A starts a run from the page; visitor B (another browser context) does not see it in
    any picker; A's reload re-attaches to it through the key kept in A's browser."""
    from playwright.sync_api import sync_playwright

    url, runs = public_url
    shots = screenshots(tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        a = start_from_the_page(browser, url, max_images=32, epochs=3)
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
        b.get_by_role("combobox", name="Generator").first.click()
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
    shots = screenshots(tmp_path)
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


# ------------------------------------------------------------------ a refused request leaves the page whole

BADGES = "() => Array.from(document.querySelectorAll('span.error')).filter(e => !e.closest('.toast-body')).length"
TOASTS = "() => Array.from(document.querySelectorAll('.toast-body')).map(e => e.className + ' :: ' + e.innerText)"


def refused(page, act, words: str) -> str:
    """Do `act`; exactly one toast (a warning, not an error) saying `words`, and no error badge on
    any output. Returns the toast's text."""
    for close in page.locator(".toast-close").all():
        try:
            close.click(timeout=2000)
        except Exception:  # noqa: BLE001 - a toast that left by itself
            pass
    page.wait_for_function("() => document.querySelectorAll('.toast-body').length === 0", timeout=15_000)
    act()
    page.wait_for_function("() => document.querySelectorAll('.toast-body').length > 0", timeout=60_000)
    page.wait_for_timeout(1000)  # a second toast, or a badge, would have come by now
    toasts = page.evaluate(TOASTS)
    assert len(toasts) == 1 and "warning" in toasts[0] and words in toasts[0], toasts
    assert page.evaluate(BADGES) == 0, "an output shows an error badge"
    return toasts[0]


def test_refusals_leave_every_output_as_it_was_one_toast_each(public_url, tmp_path):
    """Public mode, two visitors: B names A's run, resumes it, asks Evaluate for N = 1, 999999 and -4,
    walks through seeds "abc", leaves A empty in arithmetic, types seed 1e20, presses Enter in an
    empty Hub id box; each is one warning toast in the page's own words, and nothing is wiped. At
    1400 px every refusal; at 390 px (a phone) the run picker's, Evaluate's and the walk's again."""
    from playwright.sync_api import sync_playwright

    url, runs = public_url
    shots = screenshots(tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        a = start_from_the_page(browser, url, max_images=16, epochs=1)
        run_a = a.get_by_label("Run", exact=True).input_value()
        assert run_a.startswith("run-")
        for width, height, every in ((1400, 1000, True), (390, 844, False)):
            _refusals(browser, url, run_a, width, height, every, shots)
        browser.close()


def _refusals(browser, url, run_a, width, height, every, shots):
    tag = f"{width}x{height}"
    b = browser.new_context(viewport={"width": width, "height": height}).new_page()
    b.goto(url, wait_until="domcontentloaded")
    grid = b.locator("img[src*='grid.png']").first
    grid.wait_for(timeout=60_000)
    if width < 1000:  # a phone shows every sub-tab of Generate, none behind a "more" menu
        assert not any(m.is_visible() for m in b.get_by_role("button", name="More tabs").all())
    open_tab(b, "Train")
    status = b.locator("#run-view .prose").first
    b.get_by_text("example-faces").first.wait_for(timeout=60_000)
    before = status.inner_text()
    picker = b.get_by_label("Run", exact=True)

    def name_a_run():
        picker.fill(run_a)
        picker.press("Enter")

    refused(b, name_a_run, f"no run named '{run_a}'")
    assert status.inner_text() == before  # the example still shown, not a red badge
    if every:
        refused(b, lambda: b.get_by_role("button", name="Resume").click(), f"no run named '{run_a}'")
    b.screenshot(path=str(shots / f"refused-train-{tag}.png"), full_page=True)

    open_tab(b, "Evaluate")
    n = b.get_by_label("N generated", exact=False).first
    for value in ("1", "999999", "-4") if every else ("1",):
        n.fill(value)
        refused(b, lambda: b.get_by_role("button", name="Compute FID").click(),
                f"N generated must be a whole number from 2 to 50000 (got {value})")
    assert n.is_visible() and b.get_by_role("heading", name="Real images").is_visible()  # labels in place

    open_tab(b, "Generate")
    open_tab(b, "Walk")
    keys = b.get_by_label("Keyframe seeds (2 or more), then Enter")
    keys.fill("abc")
    refused(b, lambda: keys.press("Enter"), "Keyframe seeds must be a whole number from 0 to")
    if every:
        open_tab(b, "Arithmetic")
        b.get_by_label("A seeds").fill("")
        refused(b, lambda: b.get_by_role("button", name="A − B + C").click(), "A seeds needs 1 to 64 seeds")
        open_tab(b, "Seed grid")
        src = grid.get_attribute("src")
        seed = b.get_by_label("Seed (tile i uses seed + i), then Enter")
        seed.fill("1e20")
        refused(b, lambda: seed.press("Enter"), "(got '1e20')")
        assert grid.get_attribute("src") == src  # the picture stays
        b.get_by_role("combobox", name="Generator").first.click()
        b.get_by_role("option", name="Hugging Face Hub id").click()
        hub = b.get_by_label("Hub id (USER/NAME), then Enter")
        hub.wait_for()
        refused(b, lambda: hub.press("Enter"), "type the Hub id of a generator")
    b.screenshot(path=str(shots / f"refused-generate-{tag}.png"), full_page=True)
    b.context.close()


def test_a_queued_visitor_sees_the_wait_count_down_and_go_when_the_run_starts(public_url, tmp_path):
    """Public mode, two visitors: A trains; B sees the slot busy before pressing Start, then Start
    queues B's run, and B's run view says B's place and a wait that counts down while the page stays
    open (no reload, no click); when A stops their run B's starts, and "in line" leaves both the run
    view and the note under Start."""
    import re

    from playwright.sync_api import sync_playwright

    url, runs = public_url
    shots = screenshots(tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        a = start_from_the_page(browser, url, max_images=128, epochs=50)
        a.wait_for_function("() => /running/.test(document.querySelector('#run-view').innerText)", timeout=120_000)

        b = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        b.goto(url, wait_until="domcontentloaded")
        open_tab(b, "Train")
        b.get_by_text("The training slot is busy").first.wait_for(timeout=60_000)  # before Start
        b.get_by_label("Max images (0: all)").fill("16")
        b.get_by_label("Epochs").fill("1")
        b.get_by_role("button", name="Start").click()
        b.get_by_text("Queued").first.wait_for(timeout=60_000)
        status = b.locator("#run-view .prose").first
        waits = []  # each new wait the run view says (the first ones may rise: A's ETA is measured as it goes)
        for _ in range(45):
            m = re.search(r"1st in line, starts in about (\d+) (s|min)", status.inner_text())
            wait = int(m.group(1)) * (60 if m.group(2) == "min" else 1) if m else None
            if wait is not None and (not waits or waits[-1] != wait):
                waits.append(wait)
                if len(waits) >= 3 and waits[-3] > waits[-2] > waits[-1]:
                    break
            b.wait_for_timeout(1000)
        b.screenshot(path=str(shots / "queued-visitor-b.png"), full_page=True)
        assert len(waits) >= 3 and waits[-3] > waits[-2] > waits[-1], waits  # it counts down, untouched
        said = b.evaluate("() => document.body.innerText.match(/starts in about \\d+ (s|min)/g)")
        assert len(said) == 2 and said[0] == said[1], said  # the note under Start counts with the run view

        a.get_by_role("button", name="Stop").click()  # A's run ends (stopped): B's starts by itself
        a.wait_for_function("() => /stopped/.test(document.querySelector('#run-view').innerText)", timeout=120_000)
        gone = "() => !/in line|Queued/.test(document.body.innerText) && /Started/.test(document.body.innerText)"
        b.wait_for_function(gone, timeout=60_000)  # the run view and the note under Start both moved on
        b.screenshot(path=str(shots / "queued-visitor-b-started.png"), full_page=True)
        browser.close()


def test_the_page_draws_what_its_controls_say(url, tmp_path):
    """Generate redraws when the generator or BatchNorm mode changes (no stale picture under a new
    choice), every sub-tab opens with a picture, the architecture table follows the widths in the
    form, Half channels shows the widths it trains with, and screen readers hear words, not keys."""
    from playwright.sync_api import sync_playwright

    shots = screenshots(tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url, wait_until="domcontentloaded")
        grid = page.locator("img[src*='grid.png']").first
        grid.wait_for(timeout=60_000)
        page.evaluate("""() => { window.__said = []; const el = document.querySelector('.sr-only[aria-live]');
            new MutationObserver(() => window.__said.push(el.innerText)).observe(el, {childList: true, subtree: true,
            characterData: true}); }""")
        for sub in ("Walk", "Directions", "Arithmetic"):
            open_tab(page, sub)
            pictures = [im for im in page.locator("img").all() if im.is_visible()]
            assert pictures, f"{sub} opened without a picture"
        open_tab(page, "Seed grid")
        first = grid.get_attribute("src")
        page.get_by_role("combobox", name="Generator").first.click()
        page.get_by_role("option", name="Bundled emoji generator").click()
        page.wait_for_function(f"() => document.querySelector(\"img[src*='grid.png']\").src !== {first!r}",
                               timeout=60_000)
        emoji = grid.get_attribute("src")
        page.get_by_label("BatchNorm eval mode").click()
        page.wait_for_function(f"() => document.querySelector(\"img[src*='grid.png']\").src !== {emoji!r}",
                               timeout=60_000)
        said = page.evaluate("() => window.__said")
        assert said and not any(s.startswith("common.") for s in said), said

        open_tab(page, "Train")
        page.get_by_text("Architecture: the paper's table for these settings").click()
        page.get_by_text("All settings (the paper's defaults)").click()
        assert page.get_by_label("G width (ngf)").input_value() == "32"  # Half channels is ticked
        page.get_by_text("ngf = 32").first.wait_for(timeout=30_000)
        page.get_by_label("Half channels").click()
        page.get_by_text("ngf = 64").first.wait_for(timeout=30_000)
        assert page.get_by_label("G width (ngf)").input_value() == "64"
        page.get_by_label("G width (ngf)").fill("16")
        page.get_by_label("G width (ngf)").press("Enter")
        page.get_by_text("ngf = 16").first.wait_for(timeout=30_000)
        page.screenshot(path=str(shots / "controls-and-pictures.png"), full_page=True)
        browser.close()
