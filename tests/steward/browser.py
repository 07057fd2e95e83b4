"""Debian's Chromium driven by Playwright (never `playwright install`): the one launcher and page maker of
every browser test (the catalogue web site's, the steward workspace's, the HTML report's)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from core.config import PROJECT_ROOT

CHROMIUM = os.environ.get("HUB_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = PROJECT_ROOT / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}


@contextmanager
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Problems(list):
    """Console errors and page errors seen while a test ran (a CSP violation is a console error)."""

    def csp(self) -> list[str]:
        return [p for p in self if re.search(r"Content Security Policy|Content-Security-Policy", p)]


def new_page(browser: Any, locale: str = "vi-VN", viewport: dict[str, int] = DESKTOP) -> Any:
    """A page in a context of its own (`page.context`), whose `problems` list collects console errors (CSP
    violations) and script errors."""
    context = browser.new_context(viewport=viewport, locale=locale, accept_downloads=True)
    page = context.new_page()
    page.problems = Problems()
    page.on("console", lambda msg: page.problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    return page


def screenshot(page: Any, name: str) -> Path:
    """A full-page screenshot as artifacts/screenshots/<name>.png (gitignored), for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
