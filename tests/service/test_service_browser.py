"""The dashboard in Debian's chromium (Playwright): a shipper logs in and nominates, the operators
on both sides confirm, the allocation appears; the map renders from local assets only.

Screenshots go to a temporary folder, or to $CORRIDOR_SERVICE_SCREENSHOTS (docs/images for the
documentation)."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Server

from corridor.service import demo
from corridor.service.config import ServiceSettings
from corridor.service.cycle import GasDayConvention
from corridor.service.db import Database

pytestmark = pytest.mark.browser  # a skip fails the run under CI=true
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        pytest.fail("Debian's chromium is required in CI (make test installs it)")
    pytest.skip("chromium is not installed (make test installs it)", allow_module_level=True)
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def demo_server(database_url: str, tmp_path: Path):
    settings = ServiceSettings(database_url=database_url)
    db = Database(settings.database_url)
    demo.seed(db, settings, datetime.now(UTC))
    db.dispose()
    server = Server(database_url, tmp_path, demo=False).start()
    yield server, settings
    server.stop()


def test_shipper_nominates_operators_confirm_allocation_appears(demo_server, tmp_path) -> None:
    from playwright.sync_api import expect, sync_playwright

    server, settings = demo_server
    shots = Path(os.environ.get("CORRIDOR_SERVICE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    base = server.base
    outside: list[str] = []
    errors: list[str] = []
    conv = GasDayConvention.from_settings(settings)
    past = conv.day_of(datetime.now(UTC)) - timedelta(days=1)

    def guard(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.route("**/*", guard)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        def log_in(username: str) -> None:
            page.goto(base + "/login")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", demo.password(username))
            page.click("button[type=submit]")
            expect(page.locator("header .who")).to_contain_text(username)

        def log_out() -> None:
            page.click("header .who button")
            expect(page.locator("input[name=username]")).to_be_visible()

        # 1. the shipper nominates (a renomination of the demo's 9.0 at G08)
        log_in("shipper-a")
        page.select_option("#nominate-point", "G08")
        page.fill("#nominate-quantity", "8.5")
        page.click("#nominate-submit")
        expect(page.locator(".msg")).to_contain_text("Nominated 8.5 mcm at G08")
        row = page.locator("#nominations-table tr", has_text="G08")
        expect(row).to_contain_text("8.500")
        expect(row.locator("td.allocated")).to_have_text("0.000")
        page.wait_for_selector("#map[data-ready='1']", timeout=20_000)
        page.screenshot(path=str(shots / "service-shipper.png"), full_page=True)
        log_out()

        # 2. the operators on both sides of G08 (RU -> UZ) confirm
        for operator in ("operator-ru", "operator-uz"):
            log_in(operator)
            row = page.locator("#nominations-table tr", has_text="SHIPPER-A").filter(
                has_text="G08")
            expect(row).to_have_count(1)
            if operator == "operator-uz":
                page.screenshot(path=str(shots / "service-operator.png"), full_page=True)
            row.locator("button.confirm").click()
            expect(page.locator(".msg")).to_contain_text("Confirmed nomination")
            log_out()

        # 3. the shipper sees its allocation, in the table and on the map
        log_in("shipper-a")
        row = page.locator("#nominations-table tr", has_text="G08")
        expect(row.locator("td.allocated")).to_have_text("8.500")
        expect(page.locator("#points-table tr[data-point='G08'] td.allocated")).to_have_text("8.5")
        page.wait_for_selector("#map[data-ready='1']", timeout=20_000)
        assert page.locator("#map .geo .layer path").count() > 10  # country borders drawn
        expect(page.locator("body")).not_to_contain_text("SHIPPER-B")
        page.screenshot(path=str(shots / "service-allocation.png"), full_page=True)
        log_out()

        # 4. the secretariat's view of the finished demo day: feasibility and imbalances
        log_in("secretariat")
        page.goto(f"{base}/dashboard?gas_day={past}")
        expect(page.locator("#feasibility")).to_contain_text("feasible")
        expect(page.locator("#imbalances-table")).to_contain_text("SHIPPER-B")
        page.wait_for_selector("#map[data-ready='1']", timeout=20_000)
        page.screenshot(path=str(shots / "service-secretariat.png"), full_page=True)
        browser.close()

    assert outside == [], f"the dashboard fetched from outside: {outside[:5]}"
    assert errors == []
