"""Backup and restore of the whole hub, across backends: SQLite → PostgreSQL → SQLite gives back every table
row for row; damaged backups and non-empty targets are refused; old backups are pruned."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from shapely import wkt

from core.config import Settings
from publish import audit, clients, tables
from publish.backup import BackupError, backup, kind_of, prune, read_manifest, sources
from publish.context import Hub
from publish.restore import restore
from publish.rollback import rollback
from publish.store import utcnow
from tests.conftest import database_url, drop_schema
from tests.publish.conftest import SAMPLES, hub_command, ingest, load_units, planner_rows, read_rows, write_rows


def _open(url: str, folder: Path) -> Hub:
    return Hub.open(Settings(database_url=url, storage_dir=folder / "storage", secret_key="test-secret"), init=True)


@pytest.fixture
def open_hub(tmp_path: Path) -> Iterator[Any]:
    """Opens fresh hubs on either backend; closes them and drops their PostgreSQL schemas afterwards."""
    opened: list[tuple[Hub, str | None]] = []

    def make(backend: str, name: str) -> Hub:
        folder = tmp_path / name
        folder.mkdir()
        url, schema = database_url(backend, folder)
        hub = _open(url, folder)
        opened.append((hub, schema))
        return hub

    yield make
    for hub, schema in opened:
        hub.store.dispose()
        drop_schema(schema)


def _fill(hub: Hub, tmp_path: Path, units: pd.DataFrame) -> None:
    """Something in every kind of table: versions and a rollback, rejected rows, clients, keys, grants,
    audit entries, a job, statistics, personal data and polygons."""
    load_units(hub, units)
    for dataset, path in (("heritage-sites", "heritage-sites.csv"), ("licences", "licences.csv")):
        assert ingest(hub, dataset, SAMPLES / path).load.status == "committed"
    rows = read_rows(SAMPLES / "heritage-sites.csv")
    rows[0]["name"] += " (sửa)"
    ingest(hub, "heritage-sites", write_rows(tmp_path / "heritage-sites.csv", rows[:-1]))
    rollback(hub.store, "heritage-sites", 1, user="steward")
    assert ingest(hub, "sports-venues", SAMPLES / "messy" / "sports-venues.csv").load.rows_rejected > 0
    clients.create_client(hub.store, "so-cong-an", title="Sở Công an")
    clients.issue_key(hub.store, "so-cong-an")
    clients.grant(hub.store, "so-cong-an", "licences", personal=True, purpose="kiểm tra cư trú")
    audit.append(hub.store, method="GET", path="/api/v1/datasets/licences/records", client="so-cong-an",
                 dataset="licences", status=200, rows=10, personal=True)
    with hub.store.engine.begin() as conn:
        conn.execute(tables.jobs.insert().values(id="job-1", kind="ingest", status="finished", dataset="licences",
                                                 params='{"file": "x.csv"}', created_at=utcnow()))
        conn.execute(tables.dataset_stats.insert().values(dataset="heritage-sites", views=7, downloads=2))


def _canonical(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "geometry":
        return wkt.dumps(wkt.loads(value), rounding_precision=6)
    if kind == "number":
        return round(float(value), 9)
    if kind == "boolean":
        return bool(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _dump(hub: Hub) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the backup covers, geometry as rounded WKT, in primary-key order."""
    store = hub.store
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store.engine.connect() as conn, store.audit_engine.connect() as audit_conn:
        for _, table, _, source in sources(store, conn, audit_conn):
            columns = []
            for c in table.columns:
                if kind_of(c) == "geometry":
                    fn = sa.func.ST_AsText if store.dialect == "postgresql" else sa.func.AsText
                    columns.append(fn(sa.literal_column(f'"{c.name}"')))
                else:
                    columns.append(c)
            kinds = [kind_of(c) for c in table.columns]
            order = list(table.primary_key.columns)
            rows = source.execute(sa.select(*columns).select_from(table).order_by(*order)).all()
            out[table.name] = [tuple(_canonical(v, k) for v, k in zip(r, kinds, strict=True)) for r in rows]
    return out


def test_backup_round_trips_sqlite_to_postgresql_to_sqlite_with_every_table_equal(
        open_hub: Any, tmp_path: Path, units_frame: pd.DataFrame) -> None:
    source = open_hub("spatialite", "source")
    _fill(source, tmp_path, units_frame)
    expected = _dump(source)
    assert all(expected[name] for name in ("hub_loads", "hub_rejected_rows", "hub_clients", "hub_keys", "hub_grants",
                                           "hub_audit", "hub_jobs", "hub_dataset_stats", "ds_admin_units",
                                           "ds_heritage_sites", "ds_licences"))
    first = backup(source.store, tmp_path / "from-sqlite.zip")
    assert first["source_dialect"] == "sqlite" and first["alembic_revision"]
    assert {t["name"]: t["rows"] for t in first["tables"]} == {name: len(rows) for name, rows in expected.items()}

    middle = open_hub("postgis", "middle")
    restore(middle.store, tmp_path / "from-sqlite.zip")
    assert _dump(middle) == expected
    # the restored tables are planned for their rows, not as the empty tables they were
    assert planner_rows(middle.store, "ds_heritage_sites") == len(expected["ds_heritage_sites"])
    backup(middle.store, tmp_path / "from-postgresql.zip")

    final = open_hub("spatialite", "final")
    restore(final.store, tmp_path / "from-postgresql.zip")
    assert _dump(final) == expected
    assert planner_rows(final.store, "ds_heritage_sites") == len(expected["ds_heritage_sites"])

    # ids carry on after the restored ones (PostgreSQL sequences were moved past them)
    rows = read_rows(SAMPLES / "heritage-sites.csv")
    rows[1]["name"] += " (sau khôi phục)"
    for hub in (middle, final):
        outcome = ingest(hub, "heritage-sites", write_rows(tmp_path / "heritage-sites.csv", rows))
        assert outcome.load.version == 4 and outcome.load.load_id > max(r[0] for r in expected["hub_loads"])
        clients.create_client(hub.store, "so-tai-chinh")


def test_restore_refuses_a_database_that_holds_data_unless_forced(open_hub: Any, tmp_path: Path,
                                                                  units_frame: pd.DataFrame) -> None:
    source = open_hub("spatialite", "source")
    load_units(source, units_frame)
    audit.append(source.store, method="GET", path="/", status=200)
    backup(source.store, tmp_path / "b.zip")
    target = open_hub("postgis", "target")
    load_units(target, units_frame)
    audit.append(target.store, method="GET", path="/other", status=200)
    with pytest.raises(BackupError, match="not empty"):
        restore(target.store, tmp_path / "b.zip")
    restore(target.store, tmp_path / "b.zip", force=True)
    assert _dump(target) == _dump(source)
    assert audit.append_only_in_place(target.store.audit_engine)  # the audit log is append-only again


def test_damaged_backup_is_refused_before_anything_is_written(open_hub: Any, tmp_path: Path,
                                                              units_frame: pd.DataFrame) -> None:
    source = open_hub("spatialite", "source")
    load_units(source, units_frame)
    backup(source.store, tmp_path / "good.zip")
    with zipfile.ZipFile(tmp_path / "good.zip") as good, zipfile.ZipFile(tmp_path / "bad.zip", "w") as bad:
        for item in good.infolist():
            data = good.read(item)
            if item.filename == "tables/ds_admin_units.jsonl":
                data = data.replace(b"26", b"27", 1)
            bad.writestr(item, data)
    target = open_hub("spatialite", "target")
    with pytest.raises(BackupError, match="checksum of tables/ds_admin_units.jsonl"):
        restore(target.store, tmp_path / "bad.zip")
    assert not any(_dump(target).values())
    (tmp_path / "not-a-backup.zip").write_bytes(b"PK not really")
    with pytest.raises(BackupError, match="Not a hub backup"):
        restore(target.store, tmp_path / "not-a-backup.zip")


def test_backup_command_keeps_the_newest_backups_and_restore_command_restores(
        open_hub: Any, tmp_path: Path, units_frame: pd.DataFrame) -> None:
    source = open_hub("spatialite", "source")
    load_units(source, units_frame)
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.zip").write_bytes(b"not a backup: never removed")
    backup(source.store, folder / "older.zip")
    hub_command(source, "backup", str(folder), "--keep", "1")
    kept = sorted(p.name for p in folder.glob("*.zip") if p.name != "notes.zip")
    assert len(kept) == 1 and kept[0].startswith("hub-backup-") and (folder / "notes.zip").exists()
    assert prune(folder, 5) == []
    target = open_hub("postgis", "target")
    done = hub_command(target, "restore", str(folder / kept[-1]))
    assert "restored" in done.stdout and read_manifest(folder / kept[-1])["source_dialect"] == "sqlite"
    assert _dump(target) == _dump(source)
    refused = hub_command(target, "restore", str(folder / kept[-1]), check=False)
    assert refused.returncode != 0 and "--force" in refused.stderr
