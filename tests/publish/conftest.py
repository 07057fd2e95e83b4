"""Fixtures of the store tests: hubs with samples loaded, generated typed frames, a command-line runner."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from core.catalog import Catalog
from publish import pipeline
from publish.context import Hub
from publish.loads import Loader, LoadResult
from publish.store import Store
from tests.hub_copies import Templates

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


def ingest(hub: Hub, dataset: str, path: Path, user: str = "tests") -> pipeline.Outcome:
    return pipeline.run(hub.store, dataset, path, user=user)


@pytest.fixture(scope="session")
def units_frame(catalog: Catalog) -> pd.DataFrame:
    """The communes sample, read and validated once per session (validating its 95 boundaries takes
    seconds; loading them takes a fraction of one)."""
    from ingest import read_table
    from validate import Validator

    schema = catalog.dataset("admin-units").schema
    table = read_table(SAMPLES / "admin-units.geojson", schema.descriptor)
    validator = Validator(schema.descriptor)
    frames = []
    for batch in table.batches():
        valid, invalid = validator.check(batch)
        assert invalid.empty
        frames.append(valid)
    return pd.concat(frames)


def load_units(hub: Hub, frame: pd.DataFrame) -> LoadResult:
    """Publish the communes through the real loader, as `hub ingest` would after validation."""
    dataset = hub.catalog.dataset("admin-units")
    with Loader(hub.store, dataset, {"source_name": "admin-units.geojson", "created_by": "tests"}) as loader:
        loader.stage(frame)
        result = loader.commit(rows_read=len(frame))
    assert result.status == "committed"
    return result


@pytest.fixture
def units_loaded(backend: str, tmp_path: Path, templates: Templates, units_frame: pd.DataFrame) -> Iterator[Hub]:
    """A fresh hub with the communes loaded (every other dataset's foreign keys point at them): a copy of one
    loaded once per process by `load_units`."""
    copy = templates.copy("units-frame", backend, tmp_path, lambda hub: load_units(hub, units_frame))
    yield copy.hub
    copy.close()


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def accommodation_frame(start: int, count: int, *, tag: str = "") -> pd.DataFrame:
    """Typed accommodation rows as the validator hands them to the loader (codes LT-<start..>)."""
    ids = range(start, start + count)
    frame = pd.DataFrame({
        "code": [f"LT-{i:07d}" for i in ids],
        "enterprise_code": [f"99{i:08d}" for i in ids],
        "name": [f"Khách sạn Đồng Nai {i}{tag}" for i in ids],
        "type": ["khach_san"] * count,
        "star_rank": pd.array([(i % 5) + 1 for i in ids], dtype="Int64"),
        "rooms": pd.array([10 + i % 90 for i in ids], dtype="Int64"),
        "address": [f"Số {i % 500}, đường Võ Thị Sáu, tỉnh Đồng Nai" for i in ids],
        "commune_code": ["26368"] * count,
        "phone": ["02513894643"] * count,
        "email": [f"lt{i}@example.vn" for i in ids],
        "website": pd.array([None] * count, dtype="string"),
        "lat": pd.array([10.6 + (i % 1000) / 1000 for i in ids], dtype="Float64"),
        "lon": pd.array([106.5 + (i % 1000) / 1000 for i in ids], dtype="Float64"),
        "status": ["dang_hoat_dong"] * count,
    })
    for name in ("code", "enterprise_code", "name", "type", "address", "commune_code", "phone", "email", "status"):
        frame[name] = frame[name].astype("string")
    return frame


def hub_env(hub: Hub) -> dict[str, str]:
    """The environment a `hub` command needs to open this test's hub."""
    env = dict(os.environ)
    env.update(HUB_DATABASE_URL=hub.settings.database_url, HUB_STORAGE_DIR=str(hub.settings.storage_dir),
               HUB_SECRET_KEY="test-secret", HUB_LOG_LEVEL="WARNING")
    return env


def hub_command(hub: Hub, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real `hub` command line against this test's hub."""
    done = subprocess.run([sys.executable, "-m", "hub", *args], env=hub_env(hub), cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def planner_rows(store: Store, table: str) -> int | None:
    """How many rows the query planner believes `table` holds; None when it has no statistics of it."""
    with store.engine.connect() as conn:
        if store.dialect == "postgresql":
            rows = conn.execute(sa.text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                                {"t": table}).scalar()
            sampled = conn.execute(sa.text("SELECT count(*) FROM pg_stats WHERE tablename = :t"), {"t": table}).scalar()
            return int(rows) if rows >= 0 and sampled else None  # -1: never analysed
        if not conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first():
            return None
        stats = conn.exec_driver_sql("SELECT stat FROM sqlite_stat1 WHERE tbl = ?", (table,)).scalars().all()
        return max((int(s.split()[0]) for s in stats), default=None)
