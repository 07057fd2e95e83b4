"""Fixtures of the catalogue web site's tests: a real Chromium (Debian's, driven by Playwright), pages that
record Content-Security-Policy violations and script errors, and screenshots in artifacts/screenshots/."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.config import PROJECT_ROOT

CHROMIUM = os.environ.get("HUB_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = PROJECT_ROOT / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Problems(list):
    """Console errors and page errors seen while a test ran (a CSP violation is a console error)."""

    def csp(self) -> list[str]:
        return [p for p in self if re.search(r"Content Security Policy|Content-Security-Policy", p)]


def _page(browser, viewport: dict[str, int], locale: str = "vi-VN"):  # noqa: ANN001, ANN202
    context = browser.new_context(viewport=viewport, locale=locale, accept_downloads=True)
    page = context.new_page()
    problems = Problems()
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.problems = problems
    return context, page


@pytest.fixture
def page(browser):  # noqa: ANN001, ANN201
    """A desktop-sized page (1280 px); `page.problems` lists console and script errors."""
    context, pg = _page(browser, DESKTOP)
    yield pg
    context.close()


@pytest.fixture
def phone(browser):  # noqa: ANN001, ANN201
    """A phone-sized page (360 px wide)."""
    context, pg = _page(browser, PHONE)
    yield pg
    context.close()


def screenshot(pg, name: str) -> Path:  # noqa: ANN001
    """Save a full-page screenshot as artifacts/screenshots/<name>-<width>.png (gitignored), for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{pg.viewport_size['width']}.png"
    pg.screenshot(path=str(path), full_page=True)
    return path
