"""A DCAT catalogue (Turtle) served over HTTP names the CSV distribution to fetch; Last-Modified → 304."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from publish import tables
from publish.harvest import run
from tests.harvest.conftest import DATASET, Files, sample_rows, write_csv

CATALOGUE = """@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .

<{base}/catalog> a dcat:Catalog ; dcat:dataset <{base}/ds/agencies>, <{base}/ds/other> .
<{base}/ds/agencies> a dcat:Dataset ; dct:identifier "lu-hanh" ; dct:title "Doanh nghiệp lữ hành"@vi ;
    dcat:distribution <{base}/dist/agencies-json>, <{base}/dist/agencies-csv> .
<{base}/dist/agencies-json> a dcat:Distribution ; dcat:mediaType <https://www.iana.org/assignments/media-types/application/json> ;
    dcat:downloadURL <{base}/agencies.json> .
<{base}/dist/agencies-csv> a dcat:Distribution ; dcat:mediaType <https://www.iana.org/assignments/media-types/text/csv> ;
    dcat:downloadURL <{base}/agencies.csv> .
<{base}/ds/other> a dcat:Dataset ; dct:identifier "khac" .
"""


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Files]:
    folder = tmp_path / "portal"
    folder.mkdir()
    served = Files(folder)
    (folder / "catalog.ttl").write_text(CATALOGUE.format(base=served.url), encoding="utf-8")
    write_csv(folder / "agencies.csv", sample_rows())
    yield served
    served.stop()


def test_dcat_distribution(harvest_hub: Any, portal: Files) -> None:
    hub = harvest_hub({"kind": "dcat", "url": f"{portal.url}/catalog.ttl", "dataset": "lu-hanh",
                       "media_type": "text/csv", "timeout": 5})
    first = run.harvest(hub.store, DATASET)
    assert first["status"] == "committed" and first["version"] == 1, first
    assert first["source_url"] == f"{portal.url}/agencies.csv" and first["remote_modified"]

    portal.seen.clear()
    second = run.harvest(hub.store, DATASET)
    assert second["status"] == "unchanged" and second["conditional"]
    csv_requests = [h for h in portal.seen if h["path"] == "/agencies.csv"]
    assert csv_requests and csv_requests[0].get("If-Modified-Since") == first["remote_modified"]

    rows = sample_rows()
    removed = rows.pop(5)
    later = time.time() + 5
    write_csv(portal.folder / "agencies.csv", rows)
    os.utime(portal.folder / "agencies.csv", (later, later))
    third = run.harvest(hub.store, DATASET)
    assert third["status"] == "committed" and third["version"] == 2
    with hub.store.engine.connect() as conn:
        load = conn.execute(sa.select(tables.loads).where(tables.loads.c.id == third["load_id"])).one()
    assert (load.rows_added, load.rows_changed, load.rows_removed) == (0, 0, 1)
    assert removed["enterprise_code"]

    (portal.folder / "catalog.ttl").write_text("@prefix broken", encoding="utf-8")
    fourth = run.harvest(hub.store, DATASET)
    assert fourth["status"] == "failed" and "DCAT catalogue cannot be read" in fourth["error_en"]
    assert hub.store.current_version(DATASET) == 2
