"""Screenshots of the app in Debian's headless Chromium, for a person to look at (and for docs/).

    python -m scripts.screenshots --runs RUNS_DIR --compare RUN_A RUN_B --out docs/
    python -m scripts.screenshots --runs RUNS_DIR --rewind RUN --only-rewind --out docs/

Launches the app on loopback with RUNS_DIR as its runs folder, then captures: the Generate tab as
it opens (before any click, at 1400 px and on a 390 px phone), the Train tab's architecture table and
its run view (the shipped example run when RUNS_DIR is empty), and the Compare runs view of the
named runs (e.g. the shipped pair example-300-faces example-300-faces-augment); with --rewind, the
run view of a run whose newest epoch has an alarm, with its "Rewind to epoch E" button. Needs `chromium` (apt) and playwright (pip); never downloads a browser.
"""
from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=Path, required=True)
    ap.add_argument("--compare", nargs="+", default=[])
    ap.add_argument("--out", type=Path, default=Path("docs"))
    ap.add_argument("--port", type=int, default=7871)
    ap.add_argument("--rewind", default=None, help="a run with an active alarm: capture its rewind offer")
    ap.add_argument("--only-rewind", action="store_true", help="capture only the rewind view")
    args = ap.parse_args()
    os.environ["DCGAN_RUNS_DIR"] = str(args.runs)
    from playwright.sync_api import sync_playwright

    from dcgan.ui.app import build_app, launch_kwargs

    demo = build_app()
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=args.port, quiet=True,
                            **launch_kwargs())
    args.out.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            if args.rewind:
                _rewind_view(page, url, args.rewind, args.out)
                if args.only_rewind:
                    return
            page.goto(url, wait_until="domcontentloaded")
            page.locator("img[src*='grid.png']").first.wait_for(timeout=60_000)  # faces, before any click
            page.wait_for_timeout(800)
            page.screenshot(path=str(args.out / "app-generate-on-load.png"), full_page=True)

            page.get_by_role("tab", name="Train").click()
            page.get_by_text("Architecture: the paper's table for these settings").click()
            page.get_by_text("LeakyReLU(0.2)").first.wait_for(timeout=30_000)  # the table is there
            page.wait_for_timeout(500)
            page.screenshot(path=str(args.out / "app-architecture.png"), full_page=True)

            page.get_by_role("tab", name="Run", exact=True).click()
            page.get_by_text("No alarms now.").first.wait_for(timeout=60_000)  # the example run, drawn
            page.wait_for_timeout(1500)
            page.screenshot(path=str(args.out / "app-train-example.png"), full_page=True)

            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.goto(url, wait_until="domcontentloaded")
            phone.locator("img[src*='grid.png']").first.wait_for(timeout=60_000)
            phone.wait_for_timeout(800)
            phone.screenshot(path=str(args.out / "app-phone-first-screen.png"))
            phone.close()

            if args.compare:
                page.get_by_role("tab", name="Compare runs").click()
                page.wait_for_timeout(1000)
                box = page.get_by_label("Runs")
                for name in args.compare:  # add the ones the picker has not preselected
                    if not page.locator(".token", has_text=name).count():
                        box.click()
                        box.fill(name)
                        box.press("Enter")
                page.get_by_label("Ask today's monitor").check()
                page.get_by_role("button", name="Compare", exact=True).click()
                page.get_by_text("first alarm at epoch").or_(page.get_by_text(": no alarm")).or_(
                    page.locator(".toast-body")).first.wait_for(state="visible", timeout=120_000)
                page.wait_for_timeout(1500)
                page.screenshot(path=str(args.out / "app-compare.png"), full_page=True)
            browser.close()
    finally:
        demo.close()
    for f in sorted(args.out.glob("app-*.png")):
        print(f"{f.stat().st_size / 1e3:7.0f} kB  {f}")


def _rewind_view(page, url: str, run: str, out: Path) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("tab", name="Train").click()
    box = page.get_by_label("Run", exact=True)
    box.click()
    box.fill(run)
    box.press("Enter")
    page.get_by_role("button", name="Rewind to epoch").wait_for(timeout=120_000)
    page.wait_for_timeout(2000)
    page.screenshot(path=str(out / "app-rewind.png"), full_page=True)


if __name__ == "__main__":
    main()
