"""Stores filled once for the read benchmarks (API and exports): the same rows in the hub on PostGIS, the hub on
SpatiaLite and a plain SQLite file for Datasette.

The rows are the store engineer's accommodation rows (bench/load.py: `write_csv`, `typed_frames`, `hub_load`),
loaded through the hub's own Loader (a versioned load, as a validated ingest would leave them), with the real
catalogue, so the hub serves exactly what it serves in production. Filling is setup, not a measurement.

    python -m bench.stores --rows 20000      # fill a SpatiaLite store and a Datasette file, print their facts
"""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.proc import child, create_database, database_url, drop_database, own_peak_mb, postgres_problem

__all__ = ["DATASET", "CLIENT", "HubStore", "write_source", "fill_hub", "datasette_db", "prepare"]

DATASET = "accommodation"
CLIENT = "bench-so-xay-dung"  # a department, as another provincial department would call the API


def write_source(path: Path, rows: int) -> Path:
    from bench.load import write_csv

    return write_csv(path, rows)


def fill_hub(url: str, source: Path, *, key: bool = False) -> dict[str, Any]:
    """Load `source` into a fresh hub store at `url` (in a child process); with `key`, a department's API key
    with a grant on the dataset (personal data included, with a purpose), so every access rule runs."""
    return child("bench.stores", {"url": url, "source": str(source), "key": key})


def _fill(url: str, source: Path, key: bool) -> dict[str, Any]:
    from bench.load import _open_store, hub_load, typed_frames

    start = time.perf_counter()
    frames = typed_frames(source)
    seconds, result = hub_load(url, frames, source.name)
    out: dict[str, Any] = {"rows": result.rows_added, "load_seconds": round(seconds, 2),
                           "seconds": round(time.perf_counter() - start, 2), "peak_rss_mb": own_peak_mb()}
    if key:
        from publish import clients

        store = _open_store(url)
        clients.create_client(store, CLIENT, "department", title="Sở Xây dựng (benchmark)", actor="bench")
        out["token"] = clients.issue_key(store, CLIENT, days=2, actor="bench").token
        clients.grant(store, CLIENT, DATASET, personal=True, purpose="Đo hiệu năng / benchmark", granted_by="bench")
        store.dispose()
    return out


def datasette_db(source: Path, out: Path) -> dict[str, Any]:
    """The same rows in a plain SQLite table for Datasette: typed columns, the code as primary key (Datasette's
    row pages and default order use it, as the hub uses its key)."""
    from bench.load import fields

    names = fields()
    types = {"star_rank": "INTEGER", "rooms": "INTEGER", "lat": "REAL", "lon": "REAL"}
    casts = {"INTEGER": int, "REAL": float}
    start = time.perf_counter()
    out.unlink(missing_ok=True)
    db = sqlite3.connect(out)
    cols = ", ".join(f'"{n}" {types.get(n, "TEXT")}' + (" PRIMARY KEY" if n == "code" else "") for n in names)
    db.execute(f"CREATE TABLE {DATASET.replace('-', '_')} ({cols})")
    converters = [casts.get(types.get(n, "TEXT")) for n in names]
    with source.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = ([None if v == "" else (conv(v) if conv else v) for v, conv in zip(r, converters, strict=True)]
                for r in reader)
        db.executemany(f"INSERT INTO {DATASET.replace('-', '_')} VALUES ({', '.join('?' for _ in names)})", rows)
    db.commit()
    count = db.execute(f"SELECT count(*) FROM {DATASET.replace('-', '_')}").fetchone()[0]
    db.close()
    return {"rows": count, "seconds": round(time.perf_counter() - start, 2)}


@dataclass
class HubStore:
    backend: str  # "PostGIS" or "SpatiaLite"
    url: str
    rows: int
    token: str | None


def prepare(work: Path, source: Path, rows: int, backends: tuple[str, ...], *, key: bool,
            log: Callable[[str], None], cleanup: list[Callable[[], None]]) -> list[HubStore]:
    """Hub stores holding `source`, one per backend (a fresh bench_* database on PostGIS, dropped by `cleanup`;
    a file in `work` on SpatiaLite). PostGIS is skipped, with the reason logged, when PostgreSQL is absent."""
    stores = []
    for backend in backends:
        if backend == "PostGIS":
            problem = postgres_problem()
            if problem:
                log(f"  PostGIS skipped: {problem}")
                continue
            name = create_database(f"store{rows}")
            cleanup.append(lambda name=name: drop_database(name))
            url = database_url(name)
        else:
            url = f"sqlite:///{work / f'hub-{rows}.db'}"
        start = time.perf_counter()
        filled = fill_hub(url, source, key=key)
        if backend == "PostGIS":
            _analyze(url)
        log(f"  hub store on {backend}: {filled['rows']:,} rows loaded in {time.perf_counter() - start:.1f} s (setup)")
        stores.append(HubStore(backend, url, filled["rows"], filled.get("token")))
    return stores


def _analyze(url: str) -> None:
    """Table statistics, as autovacuum gathers them within a minute or two of a load: the read benchmarks
    measure that steady state. Right after a load, without them, PostgreSQL plans a filtered page as a sort of
    every match (55 ms instead of 2 ms at 100,000 rows; the Loader does not ANALYZE). Nothing gathers them on
    SQLite, so the SpatiaLite store is measured without, as it runs."""
    import psycopg
    import sqlalchemy as sa

    conninfo = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("ANALYZE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stores", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(_fill(spec["url"], Path(spec["source"]), spec["key"])))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-stores-") as tmp:
        work = Path(tmp)
        source = write_source(work / "accommodation.csv", args.rows)
        hub = fill_hub(f"sqlite:///{work / 'hub.db'}", source, key=True)
        hub["token"] = hub["token"][:8] + "…"
        print(json.dumps({"hub": hub, "datasette": datasette_db(source, work / "bench.db")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
