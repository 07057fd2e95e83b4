"""The dataset, record and publisher pages, read through Flask's test client on both backends."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _sample(name: str) -> list[dict[str, str]]:
    with (SAMPLES / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _codes(html: str) -> list[str]:
    return re.findall(r'<th scope="row"[^>]*><a href="/datasets/heritage-sites/records/(DT-\d{4})"', html)


def test_data_dictionary_describes_every_schema_field_in_both_languages(sample_client, sample_hub) -> None:  # noqa: ANN001
    html = sample_client.get("/datasets/heritage-sites").get_data(as_text=True)
    dictionary = html.split('id="dictionary"', 1)[1].split("</section>", 1)[0]
    for f in sample_hub.catalog.dataset("heritage-sites").schema.fields:
        assert f"<code>{f.name}</code>" in dictionary
        assert f.title("vi") in dictionary and f.title("en") in dictionary
        for value in f.enum or []:
            assert f"<code>{value}</code>" in dictionary
            assert f.enum_label(value, "vi") in dictionary and f.enum_label(value, "en") in dictionary
    # commune_code's foreign key leads to the communes and wards
    assert re.search(r'tham chiếu tới <a href="/datasets/admin-units">Đơn vị hành chính cấp xã tỉnh Đồng Nai</a>', dictionary)
    assert "dạng: chữ DT, dấu gạch ngang và 4 chữ số, ví dụ DT-0001" in dictionary  # the pattern in words


REGEX = re.compile(r"\\[dDwWsS.]|\(\?[:=!]|\{\d+(,\d*)?\}|\[[^\]]*-[^\]]*\]|\^|\$\W")


def test_dictionary_explains_patterns_in_words_never_as_regular_expressions(sample_client, sample_hub) -> None:  # noqa: ANN001
    from core.catalog import Field

    shown = 0
    for dataset in sample_hub.catalog:
        if not dataset.is_open:
            continue
        for lang in ("vi", "en"):
            html = sample_client.get(f"/datasets/{dataset.id}?lang={lang}").get_data(as_text=True)
            dictionary = html.split('id="dictionary"', 1)[1].split("</section>", 1)[0]
            assert not REGEX.search(dictionary), (dataset.id, lang, REGEX.search(dictionary))
            patterned: list[Field] = [f for f in dataset.schema.fields if "pattern" in f.constraints]
            for f in patterned:
                words = f.descriptor["patternDescriptions"][lang]  # every shipped pattern has its words
                assert words in dictionary, (dataset.id, f.name, lang)
                shown += 1
    assert shown >= 10


def test_preview_pages_sorts_and_filters_on_the_server(sample_client) -> None:  # noqa: ANN001
    sites = _sample("heritage-sites.csv")
    first = _codes(sample_client.get("/datasets/heritage-sites").get_data(as_text=True))
    second = _codes(sample_client.get("/datasets/heritage-sites?page=2").get_data(as_text=True))
    last = _codes(sample_client.get("/datasets/heritage-sites?page=3").get_data(as_text=True))
    assert len(first) == len(second) == 20 and len(last) == len(sites) - 40
    assert set(first) | set(second) | set(last) == {s["code"] for s in sites}
    newest_first = _codes(sample_client.get("/datasets/heritage-sites?sort=-code").get_data(as_text=True))
    assert newest_first[0] == max(s["code"] for s in sites)
    special = _codes(sample_client.get("/datasets/heritage-sites?f.rank=quoc_gia_dac_biet&per=100").get_data(as_text=True))
    assert sorted(special) == sorted(s["code"] for s in sites if s["rank"] == "quoc_gia_dac_biet")
    found = _codes(sample_client.get("/datasets/heritage-sites", query_string={"q": "đình an hoà"}).get_data(as_text=True))
    assert "Đình An Hòa" in [s["name"] for s in sites if s["code"] in found] and len(found) < len(sites)


def test_preview_shows_enum_labels_and_links_foreign_keys(sample_client) -> None:  # noqa: ANN001
    html = sample_client.get("/datasets/heritage-sites?f.code=DT-0001&lang=en").get_data(as_text=True)
    assert '<td data-label="Rank">Special national</td>' in html and '<td data-label="Site type">Archaeological</td>' in html
    assert '<a href="/datasets/admin-units/records/26113">Hang Gon Ward</a>' in html  # the ward's name, not its code


def test_record_page_has_a_shareable_url_and_a_map(sample_client) -> None:  # noqa: ANN001
    response = sample_client.get("/datasets/heritage-sites/records/DT-0001")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Mộ cự thạch Hàng Gòn</h1>" in html
    assert 'value="http://localhost/datasets/heritage-sites/records/DT-0001"' in html  # HUB_BASE_URL, else this host
    geometry = json.loads(re.search(r'data-geometry="([^"]+)"', html).group(1).replace("&#34;", '"'))
    assert geometry["type"] == "Point" and round(geometry["coordinates"][1], 4) == 10.8739
    assert sample_client.get("/datasets/heritage-sites/records/DT-9999").status_code == 404


def test_map_geojson_has_one_marker_per_site_with_coordinates(sample_client) -> None:  # noqa: ANN001
    sites = _sample("heritage-sites.csv")
    body = sample_client.get("/datasets/heritage-sites/map.geojson").get_json()
    assert len(body["features"]) == len([s for s in sites if s["lat"] and s["lon"]]) == body["total"]
    feature = next(f for f in body["features"] if f["properties"]["key"] == "DT-0001")
    assert {k: feature["properties"][k] for k in ("key", "label", "url")} == {
        "key": "DT-0001", "label": "Mộ cự thạch Hàng Gòn", "url": "/datasets/heritage-sites/records/DT-0001"}
    assert ["Cấp xếp hạng", "Di tích quốc gia đặc biệt", None] in feature["properties"]["lines"]
    units = sample_client.get("/datasets/admin-units/map.geojson").get_json()
    assert len(units["features"]) == 95 and {f["geometry"]["type"] for f in units["features"]} <= {"Polygon", "MultiPolygon"}
    assert sample_client.get("/datasets/travel-agencies/map.geojson").status_code == 404  # no geometry


def test_every_export_format_is_offered_and_downloads(sample_client) -> None:  # noqa: ANN001
    html = sample_client.get("/datasets/heritage-sites").get_data(as_text=True)
    offered = re.findall(r'href="/datasets/heritage-sites/download\.(\w+)"', html)
    assert {"csv", "geojson"} <= set(offered)
    for fmt in offered:
        response = sample_client.get(f"/datasets/heritage-sites/download.{fmt}")
        assert response.status_code == 200, fmt
        assert "attachment" in response.headers["Content-Disposition"]
    text = sample_client.get("/datasets/heritage-sites/download.csv").get_data(as_text=True)
    assert len(list(csv.DictReader(io.StringIO(text)))) == len(_sample("heritage-sites.csv"))
    with_bom = sample_client.get("/datasets/heritage-sites/download.csv?bom=1").get_data()
    assert with_bom.startswith("\ufeff".encode())
    travel = sample_client.get("/datasets/travel-agencies").get_data(as_text=True)
    assert "download.geojson" not in travel  # no geometry, no GeoJSON
    assert sample_client.get("/datasets/travel-agencies/download.geojson").status_code == 404


def test_metadata_versions_and_api_example(sample_client) -> None:  # noqa: ANN001
    html = sample_client.get("/datasets/heritage-sites?lang=en").get_data(as_text=True)
    assert 'href="/publishers/ban-quan-ly-di-tich"' in html and "Creative Commons Attribution 4.0" in html
    assert "Quarterly" in html and "Passed validation" in html
    assert "curl &#39;http://localhost/api/v1/datasets/heritage-sites/records?limit=5&#39;" in html
    history = html.split('id="history"', 1)[1]
    assert re.search(r'<th scope="row">1</th>', history)
    assert 'download.csv?version=1"' in history
    assert sample_client.get("/datasets/heritage-sites/download.csv?version=1").status_code == 200


def test_publisher_page_lists_only_its_open_datasets(sample_client) -> None:  # noqa: ANN001
    html = sample_client.get("/publishers/phong-quan-ly-du-lich").get_data(as_text=True)
    assert 'href="/datasets/accommodation"' in html and 'href="/datasets/travel-agencies"' in html
    assert 'href="/datasets/heritage-sites"' not in html
    assert sample_client.get("/publishers/nobody").status_code == 404
    listing = sample_client.get("/publishers").get_data(as_text=True)
    assert 'href="/publishers/ban-quan-ly-di-tich"' in listing
