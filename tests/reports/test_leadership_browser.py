"""The leadership page in a real Chromium: charts drawn by the server (no script, nothing fetched from
elsewhere), the figures beside them, in Vietnamese and English, on a desktop and a phone; screenshots in
artifacts/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from hub.app import create_app
from publish.context import Hub
from publish.reports import compute
from tests.conftest import LiveServer, free_port
from tests.steward import browser as chromium_browser

pytestmark = pytest.mark.browser
MONTHS = ["2026-07", "2026-08", "2026-09", "2026-10"]


def test_leadership_page_in_chromium(reports_hub: Hub, browser: Any) -> None:
    if reports_hub.store.dialect != "sqlite":
        pytest.skip("the page reads the same statistics on both backends (test_statistics_page.py); one browser run")
    definition = reports_hub.catalog.report("accommodation-monthly")
    produced = [compute.produce(reports_hub.store, definition, m) for m in MONTHS]
    server = LiveServer(create_app(reports_hub.settings, hub=reports_hub), free_port()).start()
    try:
        for lang, viewport, heading in (("vi", chromium_browser.DESKTOP, "Số buồng lưu trú"),
                                        ("en", {"width": 360, "height": 740}, "Rooms")):
            page = chromium_browser.new_page(browser, viewport=viewport)
            requests: list[str] = []
            page.on("request", lambda r, seen=requests: seen.append(r.url))
            page.goto(f"{server.url}/reports/accommodation-monthly?lang={lang}")
            section = page.locator("#indicator-02")
            assert heading in section.locator("h2").inner_text()
            chart = section.locator("svg.report-chart")
            assert chart.is_visible()
            assert chart.locator("rect.column").count() == len(MONTHS)
            rooms = {p.period: c.value for p in produced for c in p.cells if c.indicator == "02" and not c.breakdown}
            shown = {r.get_attribute("data-period"): float(r.get_attribute("data-value"))
                     for r in chart.locator("rect.column").all()}
            assert shown == rooms
            assert section.locator("table.report-series tbody tr").count() == len(MONTHS)
            box = chart.bounding_box()
            assert box is not None and box["width"] <= viewport["width"]  # the chart fits a phone
            assert all(url.startswith(server.url) for url in requests)  # no CDN, nothing from elsewhere
            assert page.problems == [], page.problems  # no CSP violation, no script error
            chromium_browser.screenshot(page, f"leadership-report-{lang}-{viewport['width']}")
            page.context.close()
    finally:
        server.stop()
