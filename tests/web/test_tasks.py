"""Issue 17's done-when tasks, done as a citizen would in a real Chromium at 1280 and 360 px, each in at most
three clicks from the home page; screenshots in artifacts/screenshots/."""

from __future__ import annotations

import csv
import io
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
    if viewport == "phone":
        pg.get_by_role("button", name="Bộ lọc").click()  # 3: the filters, folded away on phones
    pg.get_by_label("Lọc theo Mã xã/phường").fill("tran bien")  # typed without accents
    if viewport == "phone":
        pg.get_by_label("Lọc theo Mã xã/phường").press("Enter")  # as the page's hint says
    else:
        pg.get_by_role("button", name="Lọc").click()  # 3
    pg.wait_for_url("**commune_code=tran+bien**")
    rows = pg.locator("#preview table.data tbody tr")
    assert sorted(rows.locator("th").all_inner_texts()) == expected
    ward_cells = rows.locator("td", has=pg.locator("a[href='/datasets/admin-units/records/26041']"))
    assert ward_cells.all_inner_texts() == ["Phường Trấn Biên"] * len(expected)  # the ward's name, not 26041
    pg.wait_for_selector("#map[data-ready='true']")
    assert pg.locator("#map .hub-marker").count() == len(expected)  # the map shows the same sites
    screenshot(pg, "task1-ward-by-name")
    _clean(pg)


def _near(live_url: str, lat: float, lon: float, radius: float) -> list[tuple[float, dict[str, object]]]:
    """Hotels of 3 stars or more within `radius`, nearest first, as the API answers (its distances are checked
    against pyproj in test_near.py; pyproj is not loaded here, beside SpatiaLite's own PROJ in this process)."""
    import json
    from urllib.parse import urlencode
    from urllib.request import urlopen

    query = urlencode({"near": f"{lat},{lon},{radius}", "star_rank__gte": 3, "sort": "distance_m", "limit": 1000})
    with urlopen(f"{live_url}/api/v1/datasets/accommodation/records?{query}") as response:  # noqa: S310
        body = json.load(response)
    return [(r["distance_m"], r) for r in body["records"]]


@pytest.mark.parametrize("viewport", ["page", "phone"])
def test_2_and_3_hotels_of_three_stars_near_me_on_the_map_then_downloaded_for_people(live_hub, viewport, request
                                                                                      ) -> None:  # noqa: ANN001
    from openpyxl import load_workbook

    pg = request.getfixturevalue(viewport)
    site = next(s for s in _sample("heritage-sites.csv") if s["commune_code"] == "26041" and s["lat"])
    lat, lon = float(site["lat"]), float(site["lon"])  # standing at a heritage site of Trấn Biên
    expected = _near(live_hub.url, lat, lon, 5000)
    assert len(expected) >= 2
    pg.context.grant_permissions(["geolocation"])
    pg.context.set_geolocation({"latitude": lat, "longitude": lon})

    pg.goto(live_hub.url + "/")
    pg.get_by_label("Tìm kiếm dữ liệu mở").fill("khach san")
    pg.get_by_label("Tìm kiếm dữ liệu mở").press("Enter")
    pg.get_by_role("link", name="Cơ sở lưu trú du lịch").first.click()  # task 2, click 1
    if viewport == "phone":
        pg.get_by_role("button", name="Bộ lọc").click()  # 2: the filters, folded away on phones
    pg.get_by_label("Hạng sao từ").fill("3")
    assert pg.get_by_label("Khoảng cách").input_value() == "5000"  # 5 km unless chosen otherwise
    pg.get_by_role("button", name="Gần tôi").click()  # 2 (phone: 3): the browser's location
    pg.wait_for_url("**near=**")
    rows = pg.locator("#preview table.data tbody tr")
    assert rows.locator("th").all_inner_texts() == [r["code"] for _, r in expected]  # nearest first
    distances = rows.locator("td.distance").all_inner_texts()
    assert len(distances) == len(expected) and all(d.endswith(("m", "km")) for d in distances)
    pg.wait_for_selector("#map[data-ready='true']")
    assert pg.locator("#map .hub-marker").count() == len(expected)  # the same hotels on the map
    screenshot(pg, "task2-near-me")

    with pg.expect_download() as info:
        pg.locator("#preview").get_by_role("link", name="Excel cho người đọc").click()  # task 3: one click more
    download = info.value
    assert download.suggested_filename == "accommodation-loc.xlsx"
    book = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    sheet = book["Dữ liệu"]
    header = [c.value for c in sheet[1]]
    assert "Tên cơ sở lưu trú" in header and "Hạng sao" in header and "Xã/phường" in header
    names = [row[header.index("Tên cơ sở lưu trú")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == [r["name"] for _, r in expected]  # the same rows, in the same order
    wards = {row[header.index("Xã/phường")] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert all(w.startswith(("Phường ", "Xã ")) for w in wards)
    assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:")
    about = dict(book["Thông tin"].iter_rows(values_only=True))
    assert "Hạng sao ≥ 3" in about["Bộ lọc đã áp dụng"] and "Cách 5000 m" in about["Bộ lọc đã áp dụng"]
    _clean(pg)


@pytest.fixture(scope="module")
def other_origin():  # noqa: ANN201
    """A page of another origin (another port), as another department's web app would be."""
    from tests.conftest import LiveServer, free_port

    def app(environ, start_response):  # noqa: ANN001, ANN202
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [b"<!doctype html><html lang='vi'><title>App</title><h1>Another department's app</h1></html>"]

    server = LiveServer(app, free_port()).start()
    yield server
    server.stop()


@pytest.mark.parametrize("viewport", ["page", "phone"])
def test_6_a_page_on_another_origin_reads_open_records_and_is_refused_keyed_ones(live_hub, other_origin, viewport,
                                                                                 request) -> None:  # noqa: ANN001
    from publish import clients

    hub = live_hub._server.app.extensions["hub"]
    name = f"other-department-{viewport}"
    clients.create_client(hub.store, name, "department", actor="tests")
    token = clients.issue_key(hub.store, name, days=1, actor="tests").token
    pg = request.getfixturevalue(viewport)
    pg.goto(other_origin.url + "/")
    assert other_origin.url != live_hub.url
    read = pg.evaluate("""async (url) => {
        const response = await fetch(url);
        return {status: response.status, body: await response.json()};
    }""", live_hub.url + "/api/v1/datasets/heritage-sites/records?limit=3&labels=on")
    assert read["status"] == 200 and len(read["body"]["records"]) == 3
    assert read["body"]["records"][0]["commune_name"].startswith(("Phường", "Xã"))
    for path in ("/api/v1/datasets/heritage-sites/records?limit=3", "/api/v1/datasets/licences/records?limit=3"):
        refused = pg.evaluate("""async ([url, token]) => {
            try { const r = await fetch(url, {headers: {Authorization: "Bearer " + token}}); return "read " + r.status; }
            catch (error) { return "refused: " + error.name; }
        }""", [live_hub.url + path, token])
        assert refused == "refused: TypeError", path  # the browser never hands a keyed answer to another origin
    pg.set_content(f"<h1>CORS</h1><pre>{read['body']['records'][0]['name']}</pre>")
    screenshot(pg, "task6-cors")


WIDE = """() => [...document.querySelectorAll("body *")].filter(el => el.getBoundingClientRect().right > 361)
  .slice(0, 8).map(el => `${el.tagName}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`)"""

SMALL_TARGETS = """() => {
  const out = [];
  for (const el of document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex='0']")) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!box.width || !box.height || style.visibility === "hidden" || el.closest("[hidden]")) { continue; }
    if (el.closest(".leaflet-pane")) { continue; }  // the map's shapes: the markers are measured on their own
    if (box.width < 24 || box.height < 24) {
      out.push(`${el.tagName.toLowerCase()}.${el.className || ""} «${(el.innerText || el.value || el.getAttribute("aria-label") || "").slice(0, 30)}» ${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  for (const el of document.querySelectorAll(".hub-marker")) {
    const box = el.getBoundingClientRect();
    if (box.width < 24 || box.height < 24) { out.push(`marker ${Math.round(box.width)}×${Math.round(box.height)}`); }
  }
  return out;
}"""


def test_5_a_dataset_page_on_a_phone_has_no_sideways_scroll_and_big_enough_tap_targets(live_hub, phone) -> None:  # noqa: ANN001
    phone.goto(live_hub.url + "/")
    phone.get_by_role("link", name="Du lịch").first.click()  # 1
    phone.get_by_role("link", name="Cơ sở lưu trú du lịch").first.click()  # 2
    phone.wait_for_selector("#map[data-ready='true']")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360, phone.evaluate(WIDE)
    preview = phone.locator("#preview")
    assert preview.evaluate("el => el.scrollWidth") <= 360
    # the records as cards: one column, each cell with its column's title
    first = phone.locator("#preview table.data tbody tr").first
    assert first.evaluate("el => el.getBoundingClientRect().width") <= 360
    labels = first.locator("th, td").evaluate_all("els => els.map(e => getComputedStyle(e, '::before').content)")
    assert '"Tên cơ sở lưu trú"' in labels and '"Hạng sao"' in labels
    small = phone.evaluate(SMALL_TARGETS)
    assert small == [], small
    screenshot(phone, "task5-phone-dataset")
    _clean(phone)
