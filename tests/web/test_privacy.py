"""Only open data reaches the catalogue, and never a personal field: crawled page by page, in both languages."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from core.config import PROJECT_ROOT, Settings
from publish.context import Hub

SAMPLES = PROJECT_ROOT / "samples"
HREF = re.compile(r'href="(/[^"#]*)')
RECORDS_PER_DATASET = 3


def crawl(client, start: str = "/") -> Iterator[tuple[str, str]]:  # noqa: ANN001
    """(url, body) of every page reachable from `start`: each path once (plus a few record pages per dataset),
    and every download linked on the way."""
    seen_paths: set[str] = set()
    records: dict[str, int] = {}
    queue = [start]
    while queue:
        url = queue.pop(0)
        parts = urlsplit(url)
        if parts.path in seen_paths or parts.path.startswith(("/api/", "/static/", "/vendor/")):
            continue
        match = re.match(r"/datasets/([\w-]+)/records/", parts.path)
        if match:
            records[match.group(1)] = records.get(match.group(1), 0) + 1
            if records[match.group(1)] > RECORDS_PER_DATASET:
                continue
        seen_paths.add(parts.path)
        response = client.get(url)
        assert response.status_code == 200, url
        raw = response.get_data()
        body = raw.decode("utf-8") if response.mimetype.startswith(("text/", "application/geo+json")) else raw.decode("latin-1")
        yield url, body
        if response.mimetype == "text/html":
            queue += [href.replace("&amp;", "&") for href in HREF.findall(body)]


def _licences_sample() -> list[dict[str, str]]:
    with (SAMPLES / "licences.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_no_licences_dataset_and_no_personal_field_on_any_page(sample_client, lang) -> None:  # noqa: ANN001
    sample_client.get(f"/?lang={lang}")  # the language cookie
    personal_values = {v for row in _licences_sample() for k, v in row.items()
                       if k in ("holder_id_number", "holder_phone") and v}
    pages = list(crawl(sample_client))
    assert len(pages) > 20
    assert any(url.endswith("download.csv") for url, _ in pages)
    for url, body in pages:
        assert "/datasets/licences" not in body, url
        assert "Giấy phép do Sở cấp" not in body and "Licences issued by the department" not in body, url
        for field in ("holder_id_number", "holder_phone", "holder_name"):
            assert field not in body, (url, field)
        assert not any(value in body for value in personal_values), url


def test_shared_dataset_is_not_found_at_any_of_its_addresses(sample_client) -> None:  # noqa: ANN001
    for url in ("/datasets/licences", "/datasets/licences/records/75-0001/2019/CDLQGVN-GP LHQT",
                "/datasets/licences/map.geojson", "/datasets/licences/download.csv"):
        response = sample_client.get(url)
        assert response.status_code == 404, url
        assert "holder" not in response.get_data(as_text=True)
    for q in ("giấy phép karaoke", "holder", "CCCD"):
        body = sample_client.get("/datasets", query_string={"q": q}).get_data(as_text=True)
        assert "/datasets/licences" not in body


@pytest.fixture(scope="module")
def open_licences_client(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """A hub whose catalogue (wrongly, for this test) makes the licences register open: the site must still
    drop the always-personal fields and blank the names of individual holders."""
    from hub.app import create_app
    from publish import pipeline

    tmp = tmp_path_factory.mktemp("open-licences")
    raw = yaml.safe_load((PROJECT_ROOT / "catalog.yaml").read_text(encoding="utf-8"))
    kept = []
    for entry in raw["datasets"]:
        if entry["id"] in ("admin-units", "licences"):
            entry.update(access="open", licence="cc-by-4.0", schema=str(PROJECT_ROOT / entry["schema"]),
                         source=str(PROJECT_ROOT / entry["source"]))
            kept.append(entry)
    raw["datasets"] = kept
    raw.pop("reports", None)  # the sector reports read datasets this catalogue leaves out
    (tmp / "catalog.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    settings = Settings(database_url=f"sqlite:///{tmp / 'hub.db'}", storage_dir=tmp / "storage",
                        catalog_path=tmp / "catalog.yaml", secret_key="test-secret")
    hub = Hub.open(settings, init=True)
    for dataset in hub.catalog.load_order():
        outcome = pipeline.run(hub.store, dataset.id, Path(dataset.source), user="tests")
        assert outcome.status == "committed", outcome.report.get("errors")
    app = create_app(settings, hub=hub)
    app.config["TESTING"] = True
    yield app.test_client()
    hub.store.dispose()


def test_personal_fields_never_shown_even_when_a_dataset_is_open(open_licences_client) -> None:  # noqa: ANN001
    client = open_licences_client
    rows = _licences_sample()
    individuals = [r for r in rows if r["holder_kind"] == "ca_nhan"]
    organisations = [r for r in rows if r["holder_kind"] == "to_chuc"]
    assert individuals and organisations
    secret = {r["holder_name"] for r in individuals} | {v for r in rows for v in (r["holder_id_number"], r["holder_phone"]) if v}

    bodies: list[tuple[str, str]] = []
    for page in (1, 2):
        url = f"/datasets/licences?per=100&page={page}"
        bodies.append((url, client.get(url).get_data(as_text=True)))
    for r in individuals[:5]:
        url = f"/datasets/licences/records/{r['number']}"
        response = client.get(url)
        assert response.status_code == 200, url
        bodies.append((url, response.get_data(as_text=True)))
    for fmt in ("csv", "geojson"):
        url = f"/datasets/licences/download.{fmt}"
        if client.get("/datasets/licences").get_data(as_text=True).count(f"download.{fmt}"):
            bodies.append((url, client.get(url).get_data(as_text=True)))
    # filtering or sorting on a name blanked on some rows would give it away: both are ignored
    name = individuals[0]["holder_name"]
    filtered = client.get("/datasets/licences", query_string={"f.holder_name": name, "sort": "holder_name"})
    bodies.append(("filtered", filtered.get_data(as_text=True)))
    assert f"Bản ghi 1–20 trong tổng số {len(rows)}" in bodies[-1][1]

    for url, body in bodies:
        assert "holder_id_number" not in body and "holder_phone" not in body, url
        for title in ("Số CCCD của cá nhân", "Điện thoại của chủ giấy phép", "Individual's citizen ID number"):
            assert title not in body, (url, title)
        leaked = [value for value in secret if value in body]
        assert leaked == [], (url, leaked[:3])
    # organisations' names are public and shown
    assert organisations[0]["holder_name"] in bodies[0][1] + bodies[1][1]
    dictionary = bodies[0][1].split('id="dictionary"', 1)[1]
    assert "<code>holder_name</code>" in dictionary and "<code>holder_kind</code>" in dictionary


def test_csv_download_of_open_licences_has_no_personal_column(open_licences_client) -> None:  # noqa: ANN001
    text = open_licences_client.get("/datasets/licences/download.csv").get_data(as_text=True)
    header = next(csv.reader(io.StringIO(text)))
    assert "holder_id_number" not in header and "holder_phone" not in header and "holder_name" in header


def _secrets() -> set[str]:
    rows = _licences_sample()
    return ({r["holder_name"] for r in rows if r["holder_kind"] == "ca_nhan"}
            | {v for r in rows for v in (r["holder_id_number"], r["holder_phone"]) if v})


def test_labels_feeds_sitemap_and_exports_for_people_leak_nothing_personal(open_licences_client) -> None:  # noqa: ANN001
    """The outputs for people added with the labels (issue 17) on a register wrongly made open."""
    client = open_licences_client
    secret = _secrets()
    bodies: list[tuple[str, str]] = []
    for url in ("/api/v1/datasets/licences/records?labels=on&limit=1000",
                "/api/v1/datasets/licences/records?labels=en&limit=1000&format=geojson"):
        response = client.get(url)
        assert response.status_code == 200, url
        bodies.append((url, response.get_data(as_text=True)))
    from openpyxl import load_workbook

    for fmt in ("csv", "xlsx"):
        for query in ("", "?f.holder_kind=ca_nhan&sort=number"):
            url = f"/datasets/licences/people.{fmt}{query}"
            response = client.get(url)
            assert response.status_code == 200, url
            if fmt == "csv":
                bodies.append((url, response.get_data(as_text=True)))
            else:
                book = load_workbook(io.BytesIO(response.get_data()))
                cells = [str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v]
                assert "Loại chủ thể" in cells and "Cá nhân" in cells, url  # the labelled, public columns are there
                bodies.append((url, "\n".join(cells)))
    for url in ("/datasets/licences/feed.atom", "/feed.atom", "/sitemap.xml", "/datasets/licences"):
        response = client.get(url)
        assert response.status_code == 200, url
        bodies.append((url, response.get_data(as_text=True)))
    jsonld = bodies[-1][1].split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    bodies[-1] = ("/datasets/licences (JSON-LD)", jsonld)
    assert "/datasets/licences" in bodies[-2][1]  # the sitemap lists the (here open) register
    labelled = json.loads(bodies[0][1])
    assert "holder_kind_label" in labelled["fields"] and "commune_name" in labelled["fields"]
    assert any(r["holder_kind_label"] == "Cá nhân" and r["holder_name"] is None for r in labelled["records"])
    for url, body in bodies:
        assert "holder_id_number" not in body and "holder_phone" not in body, url
        for title in ("Số CCCD của cá nhân", "Điện thoại của chủ giấy phép", "Individual's citizen ID number"):
            assert title not in body, (url, title)
        leaked = [value for value in secret if value in body]
        assert leaked == [], (url, leaked[:3])
