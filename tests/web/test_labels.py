"""Labels for people (publish/labels.py): names of wards instead of codes, enum labels instead of slugs, on the
site and, with `labels=on`, in the API; read on both backends."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from core.text import search_fold
from publish.labels import Names, names_for

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _sample(name: str) -> list[dict[str, str]]:
    with (SAMPLES / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_ward_names_come_from_the_published_admin_units_and_are_found_back_without_accents(sample_hub) -> None:  # noqa: ANN001
    names = names_for(sample_hub.store, sample_hub.catalog.dataset("admin-units"))
    assert len(names.names) == 95
    assert names.name("26041") == "Phường Trấn Biên" and names.name("26041", "en") == "Tran Bien Ward"
    for spelling in ("Trấn Biên", "tran bien", "TRAN BIEN", "Phường Trấn Biên", "phuong tran bien", "26041"):
        assert names.find(spelling) == "26041", spelling
    # "Biên Hoà" (as the reference list spells it) and "Biên Hòa" are one name
    assert names.find("Biên Hòa") == names.find("Biên Hoà") == "26068"
    assert names.find("Đồng Xoài") == names.find("dong xoai") == "25210"
    assert names.find("Nowhere") is None
    choices = names.choices()
    assert len(choices) == 95 and [search_fold(n) for _, n in choices] == sorted(search_fold(n) for _, n in choices)


def test_names_ignore_a_record_without_name() -> None:
    names = Names()
    names.add("1", "Xã A", None)
    assert names.name("1", "en") == "Xã A" and names.name(None) is None and names.name("2") is None


def test_preview_and_record_page_show_ward_names_and_labels_not_codes(sample_client) -> None:  # noqa: ANN001
    html = sample_client.get("/datasets/heritage-sites?per=100").get_data(as_text=True)
    table = html.split('<table class="data">', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    assert body.count(">Phường Trấn Biên</a>") == 19  # the 19 sites of 26041, each named and linked
    assert '<a href="/datasets/admin-units/records/26041">Phường Trấn Biên</a>' in body
    assert not re.search(r">\s*26041\s*<", body)  # no bare code left in a cell
    i = body.find("quoc_gia_dac_biet")
    assert i < 0, body[i - 300:i + 100]
    assert "Di tích quốc gia đặc biệt" in body
    record = sample_client.get("/datasets/heritage-sites/records/DT-0001").get_data(as_text=True)
    facts = record.split('<dl class="facts record">', 1)[1].split("</dl>", 1)[0]
    assert "Phường Hàng Gòn" in facts and "26113" in facts  # the name, with the code next to it
    assert "khao_co" not in facts


def test_english_pages_use_english_names(sample_client) -> None:  # noqa: ANN001
    html = sample_client.get("/datasets/heritage-sites/records/DT-0001?lang=en").get_data(as_text=True)
    facts = html.split('<dl class="facts record">', 1)[1].split("</dl>", 1)[0]
    assert "Hang Gon Ward" in facts and "Archaeological" in facts


def test_api_labels_on_adds_enum_labels_and_commune_name(sample_client) -> None:  # noqa: ANN001
    plain = sample_client.get("/api/v1/datasets/heritage-sites/records?code=DT-0001").get_json()
    assert "commune_name" not in plain["records"][0] and "commune_name" not in plain["fields"]
    body = sample_client.get("/api/v1/datasets/heritage-sites/records?code=DT-0001&labels=on").get_json()
    row = body["records"][0]
    assert row["commune_code"] == "26113" and row["commune_name"] == "Phường Hàng Gòn"
    assert row["rank"] == "quoc_gia_dac_biet" and row["rank_label"] == "Di tích quốc gia đặc biệt"
    assert row["type_label"] == "Di tích khảo cổ"
    assert body["fields"].index("commune_name") == body["fields"].index("commune_code") + 1
    assert set(body["fields"]) == set(row)
    en = sample_client.get("/api/v1/datasets/heritage-sites/records/DT-0001?labels=en").get_json()
    assert en["commune_name"] == "Hang Gon Ward" and en["rank_label"] == "Special national"
    bad = sample_client.get("/api/v1/datasets/heritage-sites/records?labels=maybe")
    assert bad.status_code == 400 and "labels" in bad.get_data(as_text=True)


def _heritage_codes(html: str) -> list[str]:
    return re.findall(r'<th scope="row"[^>]*><a href="/datasets/heritage-sites/records/(DT-\d{4})"', html)


def test_preview_filters_a_ward_by_its_name_without_accents(sample_client) -> None:  # noqa: ANN001
    sites = _sample("heritage-sites.csv")
    expected = sorted(s["code"] for s in sites if s["commune_code"] == "26041")
    for spelling in ("Trấn Biên", "tran bien", "Phường Trấn Biên", "26041"):
        html = sample_client.get("/datasets/heritage-sites", query_string={"f.commune_code": spelling, "per": 100}
                                 ).get_data(as_text=True)
        assert sorted(_heritage_codes(html)) == expected, spelling
    page = sample_client.get("/datasets/heritage-sites").get_data(as_text=True)
    datalist = page.split('<datalist id="dl-commune_code">', 1)[1].split("</datalist>", 1)[0]
    assert datalist.count("<option") == 95 and '<option value="Phường Trấn Biên">' in datalist
    unknown = sample_client.get("/datasets/heritage-sites", query_string={"f.commune_code": "Atlantis"})
    assert unknown.status_code == 400 and "Không có «Atlantis»" in unknown.get_data(as_text=True)
    # the map follows the same filter
    fc = sample_client.get("/datasets/heritage-sites/map.geojson", query_string={"f.commune_code": "tran bien"}).get_json()
    assert sorted(f["properties"]["key"] for f in fc["features"]) == expected


def test_preview_filters_number_ranges_and_names_the_filters_it_cannot_apply(sample_client) -> None:  # noqa: ANN001
    hotels = _sample("accommodation.csv")
    expected = sorted(h["code"] for h in hotels if h["star_rank"] and int(h["star_rank"]) >= 3)
    html = sample_client.get("/datasets/accommodation", query_string={"f.star_rank__gte": "3", "per": 100}).get_data(as_text=True)
    found = re.findall(r'records/(LT-\d{4})"', html)
    assert sorted(found) == expected and len(expected) == 17
    between = sample_client.get("/datasets/accommodation", query_string={"f.star_rank__gte": "2", "f.star_rank__lte": "3",
                                                                          "per": 100}).get_data(as_text=True)
    assert len(re.findall(r'records/(LT-\d{4})"', between)) == len([h for h in hotels if h["star_rank"] in ("2", "3")])
    assert 'name="star_rank__gte" form="pf" value="2"' in between  # the API's spelling (f. links still read)
    refused = sample_client.get("/datasets/accommodation", query_string={"f.stars__gte": "3", "name__like": "B"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "stars__gte" in text and "name__like" in text
    assert "không áp dụng được" in text.lower() or "cannot be applied" in text


def test_api_filters_a_ward_by_its_name(sample_client) -> None:  # noqa: ANN001
    sites = _sample("heritage-sites.csv")
    body = sample_client.get("/api/v1/datasets/heritage-sites/records", query_string={"commune_code": "tran bien"}).get_json()
    assert body["total"] == sum(s["commune_code"] == "26041" for s in sites)
    assert sample_client.get("/api/v1/datasets/heritage-sites/records?commune_code=Atlantis").status_code == 400
    assert sample_client.get("/api/v1/datasets/heritage-sites/records?commune_code=99999").get_json()["total"] == 0


def test_every_schema_field_is_described_in_both_languages(sample_hub) -> None:  # noqa: ANN001
    for dataset in sample_hub.catalog:
        for f in dataset.schema.fields:
            descriptions = f.descriptor.get("descriptions") or {}
            assert descriptions.get("vi") and descriptions.get("en"), (dataset.id, f.name)
            assert descriptions["vi"] != descriptions["en"], (dataset.id, f.name)
