"""Follow and find (publish/feeds.py, hub/web/feeds.py): Atom feeds, sitemap.xml, robots.txt, schema.org JSON-LD,
and CORS on anonymous GETs of open data only (hub/cors.py)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import feedparser
from lxml import etree

from publish import clients, feeds, pipeline

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
ATOM = "{http://www.w3.org/2005/Atom}"
OPEN = ("admin-units", "heritage-sites", "sports-venues", "accommodation", "travel-agencies")


def _check_atom(body: bytes) -> etree._Element:
    """The Atom 1.0 rules (RFC 4287) a reader relies on: feed and entries each with one id, title and updated."""
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    root = etree.fromstring(body)
    assert root.tag == f"{ATOM}feed"
    for node in [root, *root.findall(f"{ATOM}entry")]:
        for child in ("id", "title", "updated"):
            assert len(node.findall(f"{ATOM}{child}")) == 1, (node.tag, child)
    assert root.find(f"{ATOM}link[@rel='self']") is not None and root.find(f"{ATOM}author/{ATOM}name") is not None
    return root


def test_dataset_feed_is_atom_with_an_entry_per_version(sample_client) -> None:  # noqa: ANN001
    page = sample_client.get("/datasets/heritage-sites").get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml" href="/datasets/heritage-sites/feed.atom"' in page
    response = sample_client.get("/datasets/heritage-sites/feed.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    root = _check_atom(response.get_data())
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 1
    assert entries[0].findtext(f"{ATOM}title") == "Phiên bản 1 của «Di tích lịch sử - văn hóa và danh lam thắng cảnh»"
    assert "48 bản ghi; thêm 48" in entries[0].findtext(f"{ATOM}summary")
    assert sample_client.get("/datasets/licences/feed.atom").status_code == 404


def test_catalogue_feed_covers_every_open_dataset_and_nothing_else(sample_client) -> None:  # noqa: ANN001
    assert 'href="/feed.atom"' in sample_client.get("/").get_data(as_text=True)
    body = sample_client.get("/feed.atom").get_data()
    root = _check_atom(body)
    links = {e.find(f"{ATOM}link[@rel='alternate']").get("href").split("/datasets/")[1].split("#")[0]
             for e in root.findall(f"{ATOM}entry")}
    assert links == set(OPEN)
    assert b"licences" not in body and "Giấy phép do Sở cấp".encode() not in body


def test_a_new_version_names_what_changed(hub, tmp_path) -> None:  # noqa: ANN001
    for dataset_id in ("admin-units", "accommodation"):
        ds = hub.catalog.dataset(dataset_id)
        assert pipeline.run(hub.store, dataset_id, hub.catalog.resolve(ds.source), user="tests").status == "committed"
    with (SAMPLES / "accommodation.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["name"] = "Khách sạn Sen Hồng Mới"
    changed = tmp_path / "accommodation.csv"
    with changed.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[:-1])  # the last one removed
    assert pipeline.run(hub.store, "accommodation", changed, user="tests").status == "committed"
    body = feeds.dataset_feed(hub.store, hub.catalog.dataset("accommodation"), "https://data.example.vn", "en")
    root = _check_atom(body)
    newest = root.findall(f"{ATOM}entry")[0]
    assert newest.findtext(f"{ATOM}title") == "Version 2 of “Tourist accommodation”"
    summary = newest.findtext(f"{ATOM}summary")
    assert "1 changed, 1 removed" in summary and "Khách sạn Sen Hồng Mới (changed)" in summary
    assert newest.find(f"{ATOM}link[@rel='related']").get("href") == (
        "https://data.example.vn/api/v1/datasets/accommodation/changes?since=1&until=2")


def test_sitemap_lists_every_open_dataset_and_robots_points_to_it(sample_client) -> None:  # noqa: ANN001
    body = sample_client.get("/sitemap.xml").get_data()
    root = etree.fromstring(body)
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    locs = [u.findtext(f"{ns}loc") for u in root.findall(f"{ns}url")]
    datasets = {loc.rsplit("/", 1)[1] for loc in locs if "/datasets/" in loc}
    assert datasets == set(OPEN)
    assert all(u.findtext(f"{ns}lastmod") for u in root.findall(f"{ns}url") if "/datasets/" in u.findtext(f"{ns}loc"))
    robots = sample_client.get("/robots.txt").get_data(as_text=True)
    assert "Disallow: /steward" in robots and re.search(r"^Sitemap: \S+/sitemap\.xml$", robots, re.M)


def test_dataset_page_carries_schema_org_dataset_json_ld(sample_client) -> None:  # noqa: ANN001
    html = sample_client.get("/datasets/accommodation").get_data(as_text=True)
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    data = json.loads(raw)
    assert data["@context"] == "https://schema.org/" and data["@type"] == "Dataset"
    assert data["name"] == "Cơ sở lưu trú du lịch" and data["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert data["creator"]["name"] == "Phòng Quản lý Du lịch" and data["version"] == "1"
    assert {d["encodingFormat"] for d in data["distribution"]} >= {"text/csv", "application/geo+json"}
    assert "Hạng sao" in data["variableMeasured"]
    assert 'href="/dataset/accommodation.ttl"' in html and 'href="/api/3/action/package_show?id=accommodation"' in html


def test_cors_on_anonymous_reads_of_open_data_only(sample_client, sample_hub) -> None:  # noqa: ANN001
    for url in ("/api/v1/datasets/heritage-sites/records?limit=1", "/api/3/action/package_list",
                "/datasets/heritage-sites/download.csv", "/datasets/heritage-sites/feed.atom", "/sitemap.xml"):
        response = sample_client.get(url, headers={"Origin": "https://other.example"})
        assert response.status_code == 200, url
        assert response.headers.get("Access-Control-Allow-Origin") == "*", url
        assert "Access-Control-Allow-Credentials" not in response.headers, url
    # pages of the site are for people, not for other origins' scripts
    assert "Access-Control-Allow-Origin" not in sample_client.get("/datasets/heritage-sites").headers
    # a keyed answer is never shared with another origin, even for open data
    name = f"cors-{sample_hub.store.dialect}"
    if name not in {c["name"] for c in clients.clients(sample_hub.store)}:
        clients.create_client(sample_hub.store, name, "department", actor="tests")
    token = clients.issue_key(sample_hub.store, name, days=1, actor="tests").token
    for url in ("/api/v1/datasets/heritage-sites/records?limit=1", "/api/v1/datasets/licences/records?limit=1"):
        keyed = sample_client.get(url, headers={"Authorization": f"Bearer {token}", "Origin": "https://other.example"})
        assert keyed.status_code == 200, url
        assert "Access-Control-Allow-Origin" not in keyed.headers, url
    # no preflight is granted, so a browser never sends the key from another origin
    preflight = sample_client.options("/api/v1/datasets/licences/records", headers={
        "Origin": "https://other.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Headers" not in preflight.headers
