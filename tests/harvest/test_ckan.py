"""A second, running hub as a CKAN source (federation): its CSV resource, or its datastore_search pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from publish import pipeline, tables
from publish.harvest import run
from publish.query import count_current
from tests.ckan.conftest import RunningHub, load_samples, serve
from tests.harvest.conftest import DATASET, sample_rows, write_csv
from tests.hub_copies import Templates, communes_copy


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory, templates: Templates) -> Iterator[RunningHub]:
    """The province's hub, live on SpatiaLite, with the communes and the travel agencies published."""
    copy = communes_copy(templates, "spatialite", tmp_path_factory.mktemp("peer"))
    load_samples(copy.hub, (DATASET,))
    running = serve(copy.hub)
    yield running
    running.server.stop()
    copy.close()


def load_row(hub: Any, load_id: int) -> Any:
    with hub.store.engine.connect() as conn:
        return conn.execute(sa.select(tables.loads).where(tables.loads.c.id == load_id)).one()


@pytest.mark.parametrize("mode", ["download", "datastore"])
def test_second_hub_as_ckan_source(harvest_hub: Any, peer: RunningHub, mode: str, tmp_path: Path) -> None:
    hub = harvest_hub({"kind": "ckan", "url": peer.url, "package": DATASET, "resource": "csv", "mode": mode,
                       "page_size": 25, "timeout": 10})
    dataset = hub.catalog.dataset(DATASET)
    before = peer.hub.store.current_version(DATASET)
    first = run.harvest(hub.store, DATASET)
    assert first["status"] == "committed" and first["version"] == 1, first
    assert count_current(hub.store, dataset) == count_current(peer.hub.store, dataset)

    second = run.harvest(hub.store, DATASET)
    assert second["status"] == "unchanged" and second["conditional"]  # resource last_modified unchanged

    rows = sample_rows()
    rows[2]["name"] = f"Công ty Lữ hành Mới {mode} (mẫu)"
    changed = write_csv(tmp_path / "changed.csv", rows)
    assert pipeline.run(peer.hub.store, DATASET, changed).status == "committed"
    try:
        third = run.harvest(hub.store, DATASET)
        assert third["status"] == "committed" and third["version"] == 2, third
        load = load_row(hub, third["load_id"])
        assert (load.rows_added, load.rows_changed, load.rows_removed) == (0, 1, 0)
    finally:  # the peer back as it was, for the other mode
        from publish.rollback import rollback

        rollback(peer.hub.store, DATASET, before)


def test_unknown_package_is_a_recorded_failure(harvest_hub: Any, peer: RunningHub) -> None:
    hub = harvest_hub({"kind": "ckan", "url": peer.url, "package": "khong-co", "resource": "csv"})
    row = run.harvest(hub.store, DATASET)
    assert row["status"] == "failed" and "khong-co" in row["error_en"] and row["error_vi"]
