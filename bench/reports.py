"""Periodic reports: a year of monthly reports over a large accommodation dataset with 12 versions.

    python -m bench.reports --rows 1000000 --backend postgis|spatialite [--versions 12]

The accommodation table is filled in SQL with its history (generating a million rows through the loader
twelve times would measure loads, which `bench.load` does): version 1 holds every row; each later version
closes 1% of the rows and adds their changed successors (status and star rank changed), as a monthly load
of a real register would. Version v is recorded in hub_loads as committed on the 15th of month v of 2025,
so the report for month m reads version m. Then the twelve monthly reports of the shipped definition
(`accommodation-monthly`: establishments and rooms by type × star rank and by commune) are produced, each
timed; a forced recompute of the last month checks the rows come out byte-identical.

`run(rows, backend)` returns the figures as a dict, for `python -m bench`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics as stats
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

REPORT = "accommodation-monthly"
TYPES = ["khach_san", "biet_thu_du_lich", "can_ho_du_lich", "nha_nghi_du_lich",
         "nha_o_co_phong_cho_khach_du_lich_thue", "bai_cam_trai_du_lich", "khac"]
STATUSES = ["dang_hoat_dong", "dang_hoat_dong", "dang_hoat_dong", "tam_ngung", "ngung_hoat_dong"]
COMMUNES = 95


def _fill(conn: sa.Connection, table: str, rows: int, versions: int, pg: bool) -> int:
    """Rows of every version, built in SQL. Returns the number of stored rows."""
    types = "ARRAY[" + ",".join(f"'{t}'" for t in TYPES) + "]" if pg else None
    statuses = "ARRAY[" + ",".join(f"'{s}'" for s in STATUSES) + "]" if pg else None

    def pick(values: list[str], expr: str) -> str:
        if pg:
            array = types if values is TYPES else statuses
            return f"({array})[1 + ({expr}) % {len(values)}]"
        return "CASE (" + expr + f") % {len(values)} " + " ".join(
            f"WHEN {i} THEN '{v}'" for i, v in enumerate(values)) + " END"

    def select(ids: str, version: int, shift: int) -> str:
        star = f"CASE WHEN (n + {shift}) % 7 = 0 THEN 1 + (n + {shift}) % 5 ELSE NULL END"
        return (f"SELECT 'LT-' || n, 'h' || n || '-{version}', {version}, NULL, 'ks ' || n, "
                f"{pick(TYPES, 'n')}, {star}, 5 + (n * 7 + {shift}) % 200, "
                f"CAST(26000 + (n % {COMMUNES}) * 3 AS TEXT), {pick(STATUSES, f'n + {shift}')} FROM {ids}")

    def execute(sql: str) -> None:
        conn.exec_driver_sql(sql.replace("%", "%%") if pg else sql)  # psycopg reads % as a placeholder

    columns = "(_key, _hash, _from, _to, name, type, star_rank, rooms, commune_code, status)"
    series = (f"generate_series(1, {rows}) AS g(n)" if pg else
              f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {rows}) SELECT n FROM s)")
    execute(f"INSERT INTO {table} {columns} {select(series, 1, 0)}")
    for version in range(2, versions + 1):
        # 1% of the register changes each month: a different hundredth each time
        changed = f"(SELECT CAST(substr(_key, 4) AS INTEGER) AS n FROM {table} WHERE _to IS NULL AND " \
                  f"CAST(substr(_key, 4) AS INTEGER) % 100 = {version}) AS c"
        execute(f"CREATE TEMPORARY TABLE changed_{version} AS SELECT n FROM {changed}")
        execute(f"UPDATE {table} SET _to = {version} WHERE _to IS NULL AND "
                             f"CAST(substr(_key, 4) AS INTEGER) % 100 = {version}")
        execute(f"INSERT INTO {table} {columns} {select(f'changed_{version} AS x', version, version)}")
        execute(f"DROP TABLE changed_{version}")
    return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() or 0)


def run(rows: int = 1_000_000, backend: str = "postgis", versions: int = 12) -> dict[str, Any]:
    from bench.proc import create_database, database_url, drop_database
    from core.config import PROJECT_ROOT, Settings
    from publish import bulk, tables
    from publish.context import Hub
    from publish.reports import compute

    work = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    pg_name = create_database("reports") if backend == "postgis" else None
    url = database_url(pg_name) if pg_name else f"sqlite:///{work / 'hub.db'}"
    hub = Hub.open(Settings(database_url=url, storage_dir=work / "storage", catalog_path=PROJECT_ROOT / "catalog.yaml"),
                   init=True)
    try:
        store = hub.store
        table = store.table("accommodation").name
        start = time.perf_counter()
        with store.engine.begin() as conn:
            stored = _fill(conn, table, rows, versions, backend == "postgis")
            for version in range(1, versions + 1):
                at = datetime(2025, version, 15, 3, 0)
                conn.execute(tables.loads.insert().values(dataset="accommodation", version=version, status="committed",
                                                          started_at=at, finished_at=at, created_by="bench"))
        with store.engine.begin() as conn:
            bulk.analyze(conn, table)
        fill_seconds = time.perf_counter() - start
        definition = hub.catalog.report(REPORT)
        seconds: list[float] = []
        for month in range(1, versions + 1):
            t0 = time.perf_counter()
            produced = compute.produce(store, definition, f"2025-{month:02d}", by="bench")
            seconds.append(time.perf_counter() - t0)
            assert produced.versions == {"accommodation": month}, produced.versions
        last = compute.read(store, REPORT, f"2025-{versions:02d}")
        t0 = time.perf_counter()
        again = compute.produce(store, definition, f"2025-{versions:02d}", force=True, by="bench")
        recompute = time.perf_counter() - t0
        identical = compute.rows_csv(again.cells) == compute.rows_csv(last.cells)
        return {"backend": backend, "rows": rows, "versions": versions, "stored_rows": stored,
                "fill_seconds": round(fill_seconds, 1), "reports": len(seconds),
                "seconds_per_report": round(stats.median(seconds), 3), "slowest_report_seconds": round(max(seconds), 3),
                "recompute_seconds": round(recompute, 3), "recompute_identical": identical,
                "cells_per_report": len(last.cells)}
    finally:
        hub.store.dispose()
        if pg_name:
            drop_database(pg_name)
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--versions", type=int, default=12)
    parser.add_argument("--backend", choices=["postgis", "spatialite"], default="postgis")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.rows, args.backend, args.versions)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
