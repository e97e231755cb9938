"""The HTML report opens in headless Chromium with no network: map, Sankey and charts render,
the console stays clean, and nothing is fetched from outside the file."""

import os
import shutil
from pathlib import Path

import pytest

from corridor.data import bundled_path
from corridor.io import read_network
from corridor.optimize import optimize
from corridor.report.html import write_report
from corridor.store import as_stored

pytestmark = pytest.mark.browser  # a skip fails the run under CI=true
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        pytest.fail("Debian's chromium is required in CI (make test installs it)")
    pytest.skip("chromium is not installed (make test installs it)", allow_module_level=True)

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def render(page_file: Path, screenshot: Path) -> dict:
    """Open the page with every non-file request blocked; report what happened."""
    from playwright.sync_api import sync_playwright

    seen = {"errors": [], "outside": []}

    def block(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            seen["outside"].append(route.request.url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else 0)
        page.on("pageerror", lambda e: seen["errors"].append(str(e)))
        page.route("**/*", block)
        page.goto(page_file.as_uri())
        page.wait_for_selector(".geo .layer path", timeout=20_000)
        seen["plots"] = page.locator(".js-plotly-plot").count()
        seen["borders"] = page.locator(".geo .layer path").count()
        seen["sankeys"] = page.locator(".sankey").count()
        seen["link_traces"] = page.locator(".geo .scatterlayer .trace").count()
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    return seen


def test_report_renders_offline(tmp_path):
    net = read_network(bundled_path())
    page_file = write_report(as_stored(optimize(net, 12), "base"), tmp_path / "report.html")
    seen = render(page_file, tmp_path / "report.png")
    assert seen["errors"] == []
    assert seen["outside"] == []
    assert seen["plots"] == 5  # map, gas and oil Sankeys, utilisation, prices
    assert seen["sankeys"] == 2
    assert seen["borders"] > 100  # country borders and coastlines drawn from the shipped file
    assert seen["link_traces"] >= len(net.links)
    assert (tmp_path / "report.png").stat().st_size > 50_000
