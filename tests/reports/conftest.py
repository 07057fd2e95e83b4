"""Fixtures of the report tests: a hub per backend with every sample loaded as if published in the past."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from core.catalog import Catalog
from publish import tables
from publish.context import Hub
from tests.hub_copies import HubCopy, Templates

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
PUBLISHED_AT = datetime(2025, 12, 15, 3, 0)  # the samples' loads are dated here (naive UTC)


def backdate(hub: Hub, when: datetime, *, dataset: str | None = None, version: int | None = None) -> None:
    """Say the committed loads (of `dataset`, `version`) finished at `when`: the hub's clock cannot be turned
    back, so periods that ended before today are tested on loads dated into them."""
    loads = tables.loads
    stmt = loads.update().where(loads.c.status == "committed")
    if dataset:
        stmt = stmt.where(loads.c.dataset == dataset)
    if version is not None:
        stmt = stmt.where(loads.c.version == version)
    with hub.store.engine.begin() as conn:
        conn.execute(stmt.values(started_at=when, finished_at=when))


def sample_frame(name: str) -> pd.DataFrame:
    """A sample CSV as text, empty cells as ''."""
    return pd.read_csv(SAMPLES / f"{name}.csv", dtype=str, keep_default_na=False, na_filter=False)


@pytest.fixture(scope="session")
def sample_frames(catalog: Catalog) -> dict[str, pd.DataFrame]:
    """Every sample read and validated once per session, as `hub ingest` hands rows to the loader (validating
    the communes' boundaries alone takes twenty seconds; loading the frames into a new hub, a second)."""
    from ingest import read_table
    from validate import Validator

    frames = {}
    for dataset in catalog.load_order():
        if dataset.source is None:  # a report's statistics dataset
            continue
        table = read_table(catalog.resolve(dataset.source), dataset.schema.descriptor)
        validator = Validator(dataset.schema.descriptor)
        parts = []
        for batch in table.batches():
            valid, invalid = validator.check(batch)
            assert invalid.empty, (dataset.id, invalid.head())
            parts.append(valid)
        frames[dataset.id] = pd.concat(parts, ignore_index=True)
    return frames


def load_frames(hub: Hub, frames: dict[str, pd.DataFrame]) -> None:
    """Version 1 of every dataset through the real loader."""
    from publish.loads import Loader

    for dataset in hub.catalog.load_order():
        if dataset.id not in frames:
            continue
        frame = frames[dataset.id]
        with Loader(hub.store, dataset, {"source_name": f"{dataset.id} sample", "created_by": "tests"}) as loader:
            loader.stage(frame)
            assert loader.commit(rows_read=len(frame)).status == "committed"


def reports_copy(templates: Templates, backend: str, tmp: Path, frames: dict[str, pd.DataFrame]) -> HubCopy:
    """A hub of its own with version 1 of every sample loaded from the frames and backdated to PUBLISHED_AT,
    copied from a template built once per process."""

    def fill(hub: Hub) -> None:
        load_frames(hub, frames)
        backdate(hub, PUBLISHED_AT)

    return templates.copy("reports", backend, tmp, fill)


@pytest.fixture(scope="module", params=["spatialite", "postgis"])
def reports_hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                sample_frames: dict[str, pd.DataFrame], templates: Templates) -> Iterator[Hub]:
    """Every sample loaded (version 1 of each dataset, dated 15 December 2025). Tests may add reports, not data."""
    copy = reports_copy(templates, request.param, tmp_path_factory.mktemp(f"reports-{request.param}"), sample_frames)
    yield copy.hub
    copy.close()


@pytest.fixture
def fresh_reports_hub(backend: str, tmp_path: Path, sample_frames: dict[str, pd.DataFrame],
                      templates: Templates) -> Iterator[Hub]:
    """Like reports_hub but the test's own: it may load new versions."""
    copy = reports_copy(templates, backend, tmp_path, sample_frames)
    yield copy.hub
    copy.close()


def count_rows(hub: Hub, table: str) -> int:
    with hub.store.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
