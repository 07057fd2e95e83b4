"""Tests that catch a broken privacy rule (issue 23's mutation check): each fails on the mutant named.

- publish/query.py: the cached page statement keyed without sees_personal (both orders, API and CKAN);
- publish/changes.py: removed records not redacted in the change feed;
- publish/exports/csv.py: formula escaping reduced to `=` (every CSV path, = + - @ and `-5` kept);
- hub/ckan/search.py: private packages returned without include_private.
"""

from __future__ import annotations

import csv
import io

import pytest

from publish import pipeline
from publish.exports.csv import safe_cell
from tests.hub.api.conftest import SAMPLES
from tests.security.conftest import PERSONAL, leaked


@pytest.mark.parametrize("first", ["granted", "plain"])
def test_cached_page_statement_depends_on_the_personal_grant(attacked, attacked_client, first: str) -> None:
    limit = 37 if first == "granted" else 38  # a statement of this test's own (the cache is per process)
    callers = ["department-personal", "department"] if first == "granted" else ["department", "department-personal"]
    answers = {}
    for caller in callers:
        api = attacked_client.get(f"/api/v1/datasets/{PERSONAL}/records?limit={limit}", headers=attacked.headers(caller))
        ckan = attacked_client.get(f"/api/3/action/datastore_search?resource_id={PERSONAL}&limit={limit}",
                                   headers=attacked.headers(caller))
        assert api.status_code == ckan.status_code == 200
        answers[caller] = (api.get_data(as_text=True), ckan.get_data(as_text=True))
    for text in answers["department"]:
        assert "holder_id_number" not in text and leaked(text) == []
    for text in answers["department-personal"]:
        assert leaked(text), "the granted caller sees the personal values"


def test_removed_records_of_individuals_are_redacted_in_the_change_feed(attacked, attacked_client, tmp_path) -> None:
    source = SAMPLES / "licences.csv"
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    kept = [r for r in rows if r["holder_kind"] != "ca_nhan"]  # every individual's licence removed
    smaller = tmp_path / "licences.csv"
    with smaller.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(kept)
    before = attacked.hub.store.current_version(PERSONAL)
    # removing every individual is a large shrink: said so, as a steward would (allow_shrink)
    outcome = pipeline.run(attacked.hub.store, PERSONAL, smaller, user="tests", allow_shrink=True)
    assert outcome.status == "committed"
    feed = attacked_client.get(f"/api/v1/datasets/{PERSONAL}/changes?since={before}&limit=1000",
                               headers=attacked.headers("department"))
    assert feed.status_code == 200
    removed = [c for c in feed.json["changes"] if c["op"] == "removed"]
    assert removed, "the individuals' licences show as removed"
    assert leaked(feed.get_data(as_text=True)) == []
    granted = attacked_client.get(f"/api/v1/datasets/{PERSONAL}/changes?since={before}&limit=1000",
                                  headers=attacked.headers("department-personal"))
    assert leaked(granted.get_data(as_text=True))


FORMULAS = ["=1+1", "+SUM(1)", "-cmd|' /C calc'!A0", "@SUM(1)"]


def test_formula_cells_are_escaped_on_every_csv_path(attacked, attacked_client, tmp_path) -> None:
    source = SAMPLES / "heritage-sites.csv"
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row, formula in zip(rows, FORMULAS, strict=False):
        row["managing_unit"] = formula
    rows[len(FORMULAS)]["managing_unit"] = "-5"
    changed = tmp_path / "heritage-sites.csv"
    with changed.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert pipeline.run(attacked.hub.store, "heritage-sites", changed, user="tests").status == "committed"
    package = attacked_client.get("/api/3/action/package_show?id=heritage-sites").json["result"]
    ckan_csv = next(r for r in package["resources"] if r.get("hub_resource") == "csv" or r["format"].lower() == "csv")
    urls = ["/api/v1/datasets/heritage-sites/records?format=csv&limit=1000",
            "/datasets/heritage-sites/download.csv",
            ckan_csv["url"].split("://", 1)[-1].split("/", 1)[-1].join(["/", ""])]
    for url in urls:
        answer = attacked_client.get(url)
        assert answer.status_code == 200, url
        cells = [c for line in csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))) for c in line]
        for formula in FORMULAS:
            assert formula not in cells and "'" + formula in cells, (url, formula)
        assert "-5" in cells, url  # a negative number stays a number
    from publish.exports import export_stream

    exported = b"".join(export_stream(attacked.hub.store, attacked.hub.catalog.dataset("heritage-sites"), "csv",
                                      __import__("publish.access", fromlist=["ANONYMOUS"]).ANONYMOUS)).decode()
    cells = [c for line in csv.reader(io.StringIO(exported.lstrip("\ufeff"))) for c in line]
    assert all("'" + f in cells for f in FORMULAS) and "-5" in cells
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert safe_cell(start + "x") == "'" + start + "x"
    assert safe_cell("-5") == "-5" and safe_cell("-5.5e3") == "-5.5e3"


def test_private_packages_need_include_private(attacked, attacked_client) -> None:
    headers = attacked.headers("department-granted")  # may see the restricted sports-venues
    plain = attacked_client.get("/api/3/action/package_search?rows=1000", headers=headers).json["result"]
    names = {p["name"] for p in plain["results"]}
    assert "sports-venues" not in names and PERSONAL not in names
    private = attacked_client.get("/api/3/action/package_search?rows=1000&include_private=true",
                                  headers=headers).json["result"]
    assert {"sports-venues", PERSONAL} <= {p["name"] for p in private["results"]}
