"""The catalogue search counts matches inside the records per dataset (publish/record_search.py), both backends."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from core.text import search_fold
from tests.web.conftest import screenshot

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _sample(name: str) -> list[dict[str, str]]:
    with (SAMPLES / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _mentions(name: str, fields: tuple[str, ...], words: str) -> int:
    return sum(all(w in search_fold(" ".join(r[f] for f in fields)) for w in search_fold(words).split())
               for r in _sample(name))


def test_search_for_a_place_counts_records_of_each_dataset_and_links_to_them(sample_client) -> None:  # noqa: ANN001
    html = sample_client.get("/datasets", query_string={"q": "bien hoa"}).get_data(as_text=True)
    inside = html.split('class="inside"', 1)[1].split("</section>", 1)[0]
    heritage_text = _mentions("heritage-sites.csv", ("name", "address"), "bien hoa")
    assert heritage_text >= 15
    assert (f'href="/datasets/heritage-sites?q=bien+hoa#preview">“bien hoa”: {heritage_text} bản ghi của '
            "Di tích lịch sử - văn hóa và danh lam thắng cảnh →") in inside
    in_ward = sum(s["commune_code"] == "26068" for s in _sample("heritage-sites.csv"))
    assert f"Phường Biên Hoà: {in_ward} bản ghi của Di tích lịch sử" in inside  # the ward of that name, exactly
    link = re.search(r'href="(/datasets/heritage-sites\?commune_code=[^"#]+)#preview"', inside).group(1)
    page = sample_client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert len(re.findall(r'<th scope="row"[^>]*><a href="/datasets/heritage-sites/records/', page)) == in_ward
    assert 'id="facets"' not in html or "facet-count" in html  # no empty filter panel


def test_search_without_any_match_shows_no_filter_panel(sample_client) -> None:  # noqa: ANN001
    html = sample_client.get("/datasets", query_string={"q": "zzqxj"}).get_data(as_text=True)
    assert 'id="facets"' not in html and 'class="inside"' not in html


def test_search_inside_records_never_counts_a_register_the_public_cannot_see(sample_client) -> None:  # noqa: ANN001
    holder = next(r for r in _sample("licences.csv") if r["holder_kind"] == "to_chuc")["holder_name"]
    html = sample_client.get("/datasets", query_string={"q": holder}).get_data(as_text=True)
    assert "/datasets/licences" not in html and "Giấy phép do Sở cấp" not in html


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["page", "phone"])
def test_4_searching_bien_hoa_from_home_leads_to_the_matching_records(live_hub, viewport, request) -> None:  # noqa: ANN001
    pg = request.getfixturevalue(viewport)
    pg.goto(live_hub.url + "/")
    pg.get_by_label("Tìm kiếm dữ liệu mở").fill("bien hoa")
    pg.get_by_role("button", name="Tìm kiếm").first.click()  # 1
    pg.wait_for_url("**/datasets?q=bien+hoa")
    lines = pg.locator(".inside li a")
    assert lines.count() >= 3
    screenshot(pg, "task4-search-bien-hoa")
    accommodation = pg.locator(".inside li a", has_text="“bien hoa”").filter(has_text="Cơ sở lưu trú du lịch")
    expected = int(re.search(r": (\d+) bản ghi", accommodation.inner_text()).group(1))
    accommodation.click()  # 2
    pg.wait_for_url("**/datasets/accommodation?q=bien+hoa**")
    assert pg.locator("#preview table.data tbody tr").count() == expected
    for row in pg.locator("#preview table.data tbody tr").all():
        assert "bien hoa" in search_fold(row.inner_text())
    assert pg.problems == [], pg.problems
