"""The sharing API's dataset and record endpoints, on both backends, as an anonymous caller."""

from __future__ import annotations

import csv
import io
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


def _sample(name: str) -> list[dict[str, str]]:
    with (SAMPLES / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_dataset_list_shows_open_datasets_only_to_anonymous(sample_client) -> None:  # noqa: ANN001
    body = sample_client.get("/api/v1/datasets").get_json()
    ids = {d["id"] for d in body["datasets"]}
    assert {"heritage-sites", "admin-units", "sports-venues", "accommodation", "travel-agencies"} <= ids
    assert "licences" not in ids  # shared: only authenticated departments know it exists
    heritage = next(d for d in body["datasets"] if d["id"] == "heritage-sites")
    assert heritage["records"] == len(_sample("heritage-sites.csv"))
    assert heritage["version"] == 1


def test_hidden_dataset_is_404_not_403(sample_client) -> None:  # noqa: ANN001
    assert sample_client.get("/api/v1/datasets/licences").status_code == 404
    assert sample_client.get("/api/v1/datasets/licences/records").status_code == 404


def test_heritage_records_are_real_rows(sample_client) -> None:  # noqa: ANN001
    body = sample_client.get("/api/v1/datasets/heritage-sites/records").get_json()
    names = {r["name"] for r in body["records"]}
    assert "Mộ cự thạch Hàng Gòn" in names
    assert body["total"] == len(_sample("heritage-sites.csv"))


def test_pages_follow_the_cursor_without_gaps_or_repeats(sample_client) -> None:  # noqa: ANN001
    seen: list[str] = []
    url = "/api/v1/datasets/accommodation/records?limit=40"
    while url:
        body = sample_client.get(url).get_json()
        seen += [r["code"] for r in body["records"]]
        url = body["next"] and body["next"].replace("http://localhost", "")
    assert len(seen) == len(set(seen)) == len(_sample("accommodation.csv"))


def test_search_ignores_diacritics_and_d(sample_client) -> None:  # noqa: ANN001
    from core.text import search_fold

    for query in ("dinh an hoa", "ĐÌNH AN HÒA", "Đình An Hoà"):
        body = sample_client.get(f"/api/v1/datasets/heritage-sites/records?q={query}").get_json()
        assert "Đình An Hòa" in [r["name"] for r in body["records"]], query
        for record in body["records"]:
            text = search_fold(" ".join(str(v) for v in record.values() if isinstance(v, str)))
            assert all(word in text for word in ("dinh", "an", "hoa"))
    none = sample_client.get("/api/v1/datasets/heritage-sites/records?q=khongcogi").get_json()
    assert none["records"] == [] and none["total"] == 0


def test_filters_and_field_selection(sample_client) -> None:  # noqa: ANN001
    body = sample_client.get("/api/v1/datasets/heritage-sites/records?rank=quoc_gia_dac_biet&fields=code,name,rank").get_json()
    assert body["records"] and {r["rank"] for r in body["records"]} == {"quoc_gia_dac_biet"}
    assert set(body["records"][0]) == {"code", "name", "rank"}
    bad = sample_client.get("/api/v1/datasets/heritage-sites/records?nonexistent=1")
    assert bad.status_code == 400 and bad.get_json()["context"]["field"] == "nonexistent"


def test_contains_ignores_case_of_vietnamese_letters(sample_client) -> None:  # noqa: ANN001
    """'ĐÌNH' and 'đình' find the sites named 'Đình …' on both backends (SQLite's own lower() is ASCII only)."""
    expected = {r["code"] for r in _sample("heritage-sites.csv") if "đình" in r["name"].lower()}
    assert expected
    for typed in ("Đình", "đình", "ĐÌNH"):
        body = sample_client.get("/api/v1/datasets/heritage-sites/records",
                                 query_string={"name__contains": typed, "limit": 1000}).get_json()
        assert {r["code"] for r in body["records"]} == expected, typed


def test_geojson_and_csv_outputs(sample_client) -> None:  # noqa: ANN001
    geo = sample_client.get("/api/v1/datasets/heritage-sites/records?format=geojson&limit=5").get_json()
    assert geo["type"] == "FeatureCollection" and geo["features"][0]["geometry"]["type"] == "Point"
    response = sample_client.get("/api/v1/datasets/heritage-sites/records?format=csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == len(_sample("heritage-sites.csv"))


def test_one_record_by_primary_key(sample_client) -> None:  # noqa: ANN001
    code = _sample("heritage-sites.csv")[0]["code"]
    body = sample_client.get(f"/api/v1/datasets/heritage-sites/records/{code}").get_json()
    assert body["code"] == code
    assert sample_client.get("/api/v1/datasets/heritage-sites/records/NOPE").status_code == 404


def test_openapi_document_lists_the_endpoints(sample_client) -> None:  # noqa: ANN001
    spec = sample_client.get("/api/v1/swagger.json").get_json()
    path = spec["paths"]["/datasets/heritage-sites/records"]["get"]
    assert {"rank", "q", "bbox", "cursor"} <= {p["name"] for p in path["parameters"]}
    props = spec["definitions"]["Record_heritage_sites"]["properties"]
    assert "Tên di tích" in props["name"]["description"]


def test_healthz(sample_client) -> None:  # noqa: ANN001
    assert sample_client.get("/healthz").get_json() == {"status": "ok"}
    assert sample_client.get("/readyz").status_code == 200
