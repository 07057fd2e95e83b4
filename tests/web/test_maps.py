"""Maps people can read (issue 17): labelled popups, markers coloured by kind with a legend, clusters when many,
ward names on hover; everything offline (Leaflet and Leaflet.markercluster from xstatic packages)."""

from __future__ import annotations

import pytest

from tests.web.conftest import screenshot


def test_map_geojson_carries_labelled_popup_lines_colours_and_a_legend(sample_client) -> None:  # noqa: ANN001
    fc = sample_client.get("/datasets/accommodation/map.geojson?f.code=LT-0001").get_json()
    props = fc["features"][0]["properties"]
    assert props["label"] == "Khách sạn Sen Hồng" and props["url"] == "/datasets/accommodation/records/LT-0001"
    lines = {title: (text, link) for title, text, link in props["lines"]}
    assert lines["Loại hình lưu trú"] == ("Khách sạn", None)
    assert lines["Mã xã/phường"] == ("Phường Long Thành", None)
    assert lines["Số điện thoại"] == ("02513894643", "tel:02513894643")
    assert lines["Địa chỉ"][0].startswith("Số 258") and lines["Tình trạng"][0] == "Đang hoạt động"
    assert props["color"] == 0  # khach_san is the first kind of the schema's enum
    assert fc["legend"] == {"title": "Loại hình lưu trú", "items": [{"label": "Khách sạn", "color": 0, "count": 1}]}
    english = sample_client.get("/datasets/accommodation/map.geojson?f.code=LT-0001&lang=en").get_json()
    assert ["Accommodation type", "Hotel", None] in english["features"][0]["properties"]["lines"]
    assert sample_client.get("/vendor/markercluster/leaflet.markercluster.js").status_code == 200


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["page", "phone"])
def test_many_hotels_are_clustered_coloured_by_type_with_a_legend_and_ward_names(live_hub, viewport, request
                                                                                 ) -> None:  # noqa: ANN001
    pg = request.getfixturevalue(viewport)
    pg.goto(live_hub.url + "/datasets/accommodation")
    pg.wait_for_selector("#map[data-ready='true']")
    assert pg.locator("#map .marker-cluster").count() > 0  # 150 hotels: grouped, not piled up
    legend = pg.locator("#map-legend")
    assert legend.is_visible() and "Loại hình lưu trú" in legend.inner_text()
    assert "Khách sạn (" in legend.inner_text() and legend.locator(".swatch").count() == 8
    # a ward's name when the pointer is over it
    pg.locator("#map").scroll_into_view_if_needed()
    boundary = pg.locator("#map path.hub-boundary").nth(10)
    box = boundary.bounding_box()
    pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    pg.wait_for_selector(".leaflet-tooltip.hub-ward")
    assert pg.locator(".leaflet-tooltip.hub-ward").inner_text().strip() != ""
    screenshot(pg, "map-clusters-legend")
    # a few markers: drawn one by one, in their kind's colour, with a popup that says what they are
    pg.goto(live_hub.url + "/datasets/accommodation?f.code=LT-0001")
    pg.wait_for_selector("#map[data-ready='true']")
    marker = pg.locator("#map .hub-marker")
    assert marker.count() == 1 and "c0" in marker.get_attribute("class")
    marker.focus()
    pg.keyboard.press("Enter")
    popup = pg.locator(".leaflet-popup")
    assert "Loại hình lưu trú: Khách sạn" in popup.inner_text()
    assert popup.get_by_role("link", name="02513894643").get_attribute("href") == "tel:02513894643"
    assert pg.problems.csp() == [] and pg.problems == [], pg.problems


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["page", "phone"])
def test_ward_names_are_written_on_the_map_once_zoomed_in(live_hub, viewport, request) -> None:  # noqa: ANN001
    import json
    from urllib.request import urlopen

    with urlopen(f"{live_hub.url}/datasets/admin-units/map.geojson") as answer:  # noqa: S310 - the boundaries drawn
        wards = {f["properties"]["label"] for f in json.load(answer)["features"]}
    pg = request.getfixturevalue(viewport)
    pg.goto(live_hub.url + "/datasets/heritage-sites")
    pg.wait_for_selector("#map[data-ready='true']")
    labels = pg.locator("#map .hub-ward-label span")
    assert labels.count() == 0  # the whole province: 95 names would hide the map
    pg.locator("#map").scroll_into_view_if_needed()
    for _ in range(6):  # as a citizen does: "+" until the names show
        zoom = pg.locator("#map").get_attribute("data-zoom")
        pg.locator("#map .leaflet-control-zoom-in").click()
        pg.wait_for_selector(f"#map[data-zoom]:not([data-zoom='{zoom}'])")  # map.js marks each zoom's end
        if labels.count():
            break
    assert labels.count() > 0
    shown = [t for t in labels.all_inner_texts() if t]
    assert shown and set(shown) <= wards, shown[:5]
    assert any(labels.nth(i).is_visible() for i in range(labels.count()))
    screenshot(pg, "map-ward-labels")
    assert pg.problems.csp() == [] and pg.problems == [], pg.problems
