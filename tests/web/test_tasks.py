"""Issue 17's done-when tasks, done as a citizen would in a real Chromium at 1280 and 360 px, each in at most
three clicks from the home page; screenshots in artifacts/screenshots/."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.web.conftest import screenshot

pytestmark = pytest.mark.browser

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
HERITAGE = "Di tích lịch sử - văn hóa và danh lam thắng cảnh"


def _sample(name: str) -> list[dict[str, str]]:
    with (SAMPLES / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _clean(pg) -> None:  # noqa: ANN001
    assert pg.problems.csp() == [], pg.problems
    assert pg.problems == [], pg.problems


@pytest.mark.parametrize("viewport", ["page", "phone"])
def test_1_heritage_sites_of_a_ward_chosen_by_its_name(live_hub, viewport, request) -> None:  # noqa: ANN001
    pg = request.getfixturevalue(viewport)
    expected = sorted(s["code"] for s in _sample("heritage-sites.csv") if s["commune_code"] == "26041")
    pg.goto(live_hub.url + "/")
    pg.get_by_role("link", name="Di sản").first.click()  # 1: the heritage theme
    pg.get_by_role("link", name=HERITAGE).first.click()  # 2: the dataset
    pg.get_by_label("Lọc theo Mã xã/phường").fill("tran bien")  # typed without accents
    pg.get_by_role("button", name="Lọc").click()  # 3
    pg.wait_for_url("**f.commune_code=tran+bien**")
    rows = pg.locator("#preview table.data tbody tr")
    assert sorted(rows.locator("th").all_inner_texts()) == expected
    ward_cells = rows.locator("td", has=pg.locator("a[href='/datasets/admin-units/records/26041']"))
    assert ward_cells.all_inner_texts() == ["Phường Trấn Biên"] * len(expected)  # the ward's name, not 26041
    pg.wait_for_selector("#map[data-ready='true']")
    assert pg.locator("#map .hub-marker").count() == len(expected)  # the map shows the same sites
    screenshot(pg, "task1-ward-by-name")
    _clean(pg)
