"""Fixtures of the catalogue web site's tests: a real Chromium (Debian's, driven by Playwright), pages that
record Content-Security-Policy violations and script errors, and screenshots in artifacts/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.steward import browser as chromium_browser

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def page(browser):  # noqa: ANN001, ANN201
    """A desktop-sized page (1280 px); `page.problems` lists console and script errors."""
    pg = chromium_browser.new_page(browser)
    yield pg
    pg.context.close()


@pytest.fixture
def phone(browser):  # noqa: ANN001, ANN201
    """A phone-sized page (360 px wide)."""
    pg = chromium_browser.new_page(browser, viewport=PHONE)
    yield pg
    pg.context.close()


def screenshot(pg, name: str) -> Path:  # noqa: ANN001
    """Save a full-page screenshot as artifacts/screenshots/<name>-<width>.png (gitignored), for people to look at."""
    return chromium_browser.screenshot(pg, f"{name}-{pg.viewport_size['width']}")
