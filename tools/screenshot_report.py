"""Render the bundled network's HTML report in headless Chromium and save the README pictures.

Usage: python tools/screenshot_report.py [--scenario NAME] [--out docs/images]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from corridor.data import bundled_path
from corridor.io import read_network
from corridor.optimize import optimize
from corridor.report.html import write_report
from corridor.scenario import apply_scenario
from corridor.store import as_stored

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default=None)
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    args = parser.parse_args()
    net = read_network(bundled_path())
    if args.scenario:
        net = apply_scenario(net, args.scenario)
    page = write_report(as_stored(optimize(net, 12), args.scenario or "base"),
                        Path(tempfile.mkdtemp()) / "report.html")
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        tab = browser.new_page(viewport={"width": 1300, "height": 900})
        tab.goto(page.as_uri())
        tab.wait_for_selector(".geo .layer path")
        plots = tab.locator(".js-plotly-plot")
        plots.nth(0).screenshot(path=str(args.out / "report-map.png"))
        plots.nth(1).screenshot(path=str(args.out / "report-sankey-gas.png"))
        browser.close()
    print(f"wrote {args.out}/report-map.png and report-sankey-gas.png")


if __name__ == "__main__":
    main()
