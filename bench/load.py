"""Load speed: the hub's versioned load of a big accommodation file beside a raw PostgreSQL COPY.

    python -m bench.load --rows 1000000 --backend postgis|spatialite [--pipeline]

A deterministic (seeded) accommodation-like CSV is generated, then timed in the same run:
- raw: PostgreSQL `COPY` of the file into a plain table whose point is a stored generated column, then a GiST
  index (the floor of what any loader can do); on SpatiaLite, one executemany into a plain table, the points
  built in SQL, then a spatial index;
- hub: `publish.loads.Loader` fed typed frames (built from the file beforehand, as the validator hands them
  over): staging, apply (geometry, indexes, version bookkeeping) and the load's record;
- reload: the same file again with 1% of rows edited (the daily case: only changes written);
- pipeline (with --pipeline): `publish.pipeline.run`, i.e. read + normalise + validate + load, on a copy of the
  catalogue whose accommodation code pattern admits seven digits (the real one stops at 9,999 codes).

`run(rows, backend)` returns the figures as a dict, for `python -m bench`.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from bench.proc import POSTGRES_URL  # HUB_BENCH_POSTGRES_URL, or the tests' server

ROOT = Path(__file__).resolve().parents[1]
DATASET = "accommodation"
TYPES = ["khach_san", "biet_thu_du_lich", "can_ho_du_lich", "nha_nghi_du_lich",
         "nha_o_co_phong_cho_khach_du_lich_thue", "bai_cam_trai_du_lich", "khac"]
STATUSES = ["dang_hoat_dong", "dang_hoat_dong", "dang_hoat_dong", "tam_ngung", "ngung_hoat_dong"]
WORDS = ["Sen Hồng", "Rừng Xanh", "Trường Sơn", "Đồng Nai", "Biên Hòa", "Long Thành", "Trị An", "Nam Cát Tiên",
         "Bửu Long", "Hoàng Gia", "Thảo Nguyên", "Sông Đồng", "Mai Vàng", "Phú Quý", "Hòa Bình", "Ánh Dương"]
KINDS = ["Khách sạn", "Homestay", "Nhà nghỉ", "Biệt thự", "Căn hộ", "Resort"]
STREETS = ["Phạm Văn Thuận", "Trần Phú", "Nguyễn Ái Quốc", "Phú Riềng Đỏ", "Võ Thị Sáu", "Hà Huy Giáp", "30 Tháng 4"]


def commune_codes() -> list[str]:
    units = json.loads((ROOT / "samples" / "admin-units.geojson").read_text(encoding="utf-8"))
    return sorted(f["properties"]["code"] for f in units["features"])


def fields() -> list[str]:
    from core.catalog import load_catalog

    return load_catalog(ROOT / "catalog.yaml").dataset(DATASET).schema.field_names


def generate_rows(rows: int, *, seed: int = 20251126, edit_every: int = 0) -> Iterator[list[Any]]:
    """Accommodation rows, the same for the same seed; with edit_every, every n-th row's name changes."""
    rnd = random.Random(seed)
    communes = commune_codes()
    for i in range(1, rows + 1):
        name = f"{rnd.choice(KINDS)} {rnd.choice(WORDS)} {i}"
        if edit_every and i % edit_every == 0:
            name += " (đổi)"
        kind = rnd.choice(TYPES)
        star = rnd.randint(1, 5) if kind == "khach_san" and rnd.random() < 0.7 else None
        lat = round(rnd.uniform(10.6, 12.2), 6)
        lon = round(rnd.uniform(106.45, 107.55), 6)
        yield [f"LT-{i:07d}", f"99{rnd.randint(0, 99_999_999):08d}", name, kind, star, rnd.randint(1, 400),
               f"Số {rnd.randint(1, 500)}, đường {rnd.choice(STREETS)}, tỉnh Đồng Nai", rnd.choice(communes),
               f"0{rnd.randint(200_000_000, 999_999_999)}", f"lt{i}@example.vn", None, lat, lon,
               rnd.choice(STATUSES)]


def write_csv(path: Path, rows: int, **kw: Any) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields())
        writer.writerows(generate_rows(rows, **kw))
    return path


def edited_frames(frames: list[pd.DataFrame], *, edit_every: int = 100) -> list[pd.DataFrame]:
    """`frames` with every n-th row's name changed, as `generate_rows(edit_every=n)` writes them."""
    out, start = [], 1
    for frame in frames:
        frame = frame.copy()
        number = pd.RangeIndex(start, start + len(frame))
        edit = (number % edit_every == 0)
        frame.loc[edit, "name"] = frame.loc[edit, "name"] + " (đổi)"
        out.append(frame)
        start += len(frame)
    return out


def typed_frames(path: Path, *, batch: int = 50_000) -> list[pd.DataFrame]:
    """The file as the validator hands it to the loader: typed pandas frames."""
    from core.catalog import load_catalog

    schema = load_catalog(ROOT / "catalog.yaml").dataset(DATASET).schema
    dtypes = {f.name: {"integer": "Int64", "number": "Float64"}.get(f.type, "string") for f in schema.fields}
    reader = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""], chunksize=batch)
    return list(reader)


# -- PostgreSQL ------------------------------------------------------------------------------------------------
def _pg_schema() -> tuple[str, str]:
    schema = "bench_" + uuid.uuid4().hex[:10]
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    url = sa.engine.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema},public"})
    return url.render_as_string(hide_password=False), schema


def _pg_drop(schema: str) -> None:
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


def raw_copy_postgres(url: str, path: Path) -> float:
    """Seconds for COPY into a plain table with a generated point column, then its GiST index."""
    import psycopg

    names = fields()
    numeric = {"star_rank": "bigint", "rooms": "bigint", "lat": "double precision", "lon": "double precision"}
    cols = ", ".join(f'"{n}" {numeric.get(n, "text")}' for n in names)
    conninfo = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS raw_copy")
        cur.execute(f"CREATE TABLE raw_copy ({cols}, geom geometry(Point, 4326) GENERATED ALWAYS AS "
                    f"(ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED)")
        conn.commit()
        start = time.perf_counter()
        with path.open("rb") as handle, cur.copy(
            f"COPY raw_copy ({', '.join(chr(34) + n + chr(34) for n in names)}) FROM STDIN WITH (FORMAT csv, HEADER true)"
        ) as copy:
            while block := handle.read(1 << 20):
                copy.write(block)
        cur.execute("CREATE INDEX raw_copy_geom ON raw_copy USING gist (geom)")
        conn.commit()
        return time.perf_counter() - start


def raw_insert_sqlite(url: str, path: Path) -> float:
    """Seconds for one executemany into a plain SpatiaLite table (points built in SQL), then a spatial index."""
    from publish.db import create_engine

    names = fields()
    engine = create_engine(url)
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        cols = ", ".join(f'"{n}"' for n in names)
        raw.execute(f"CREATE TABLE raw_insert ({cols})")
        raw.execute("SELECT AddGeometryColumn('raw_insert', 'geom', 4326, 'POINT', 'XY')")
        lat, lon = names.index("lat"), names.index("lon")
        marks = ", ".join("?" for _ in names)
        start = time.perf_counter()
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            raw.execute("BEGIN")
            raw.executemany(f"INSERT INTO raw_insert ({cols}, geom) VALUES ({marks}, MakePoint(?, ?, 4326))",
                            ([*(v or None for v in r), float(r[lon]), float(r[lat])] for r in reader))
            raw.execute("SELECT CreateSpatialIndex('raw_insert', 'geom')")
            raw.execute("COMMIT")
        seconds = time.perf_counter() - start
    engine.dispose()
    return seconds


# -- the hub ---------------------------------------------------------------------------------------------------
def _open_store(url: str, catalog_path: Path | None = None) -> Any:
    from core.catalog import load_catalog
    from publish.store import Store

    store = Store.connect(url, load_catalog(catalog_path or ROOT / "catalog.yaml"))
    store.init()
    return store


def hub_load(url: str, frames: list[pd.DataFrame], source: str) -> tuple[float, Any]:
    from publish.loads import Loader

    store = _open_store(url)
    dataset = store.catalog.dataset(DATASET)
    start = time.perf_counter()
    with Loader(store, dataset, {"source_name": source, "created_by": "bench"}) as loader:
        for frame in frames:
            loader.stage(frame)
        result = loader.commit(rows_read=sum(len(f) for f in frames))
    seconds = time.perf_counter() - start
    store.dispose()
    return seconds, result


def wide_catalog(folder: Path) -> Path:
    """A copy of the catalogue whose accommodation codes may have seven digits (for a million rows)."""
    shutil.copy(ROOT / "catalog.yaml", folder / "catalog.yaml")
    shutil.copytree(ROOT / "schemas", folder / "schemas")
    shutil.copytree(ROOT / "samples", folder / "samples")
    path = folder / "schemas" / f"{DATASET}.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    for f in schema["fields"]:
        if f["name"] == "code":
            f["constraints"]["pattern"] = "(?:LT-\\d{4,7})"
    path.write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    return folder / "catalog.yaml"


def pipeline_load(url: str, path: Path, folder: Path) -> tuple[float, Any]:
    from publish import pipeline

    store = _open_store(url, wide_catalog(folder))
    pipeline.run(store, "admin-units", store.catalog.resolve("samples/admin-units.geojson"), user="bench")
    start = time.perf_counter()
    outcome = pipeline.run(store, DATASET, path, user="bench")
    seconds = time.perf_counter() - start
    store.dispose()
    return seconds, outcome


def run(rows: int, backend: str, *, pipeline: bool = False, log: Any = print) -> dict[str, Any]:
    """Time raw, hub (first load), hub (reload with 1% edited) and optionally the full pipeline."""
    figures: dict[str, Any] = {"rows": rows, "backend": backend}
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        path = write_csv(folder / "accommodation.csv", rows)
        log(f"generated {rows:,} rows in {time.perf_counter() - start:.1f} s ({path.stat().st_size >> 20} MB)")
        start = time.perf_counter()
        frames = typed_frames(path)
        figures["frames_seconds"] = round(time.perf_counter() - start, 2)
        edited = edited_frames(frames)  # the daily case: 1% of rows changed
        schemas: list[str] = []
        try:
            def url_for(name: str) -> str:
                if backend == "spatialite":
                    return f"sqlite:///{folder / name}.db"
                url, schema = _pg_schema()
                schemas.append(schema)
                return url

            raw_seconds = (raw_copy_postgres if backend == "postgis" else raw_insert_sqlite)(url_for("raw"), path)
            figures["raw_seconds"] = round(raw_seconds, 2)
            figures["raw_rows_per_second"] = round(rows / raw_seconds)
            log(f"raw {'COPY' if backend == 'postgis' else 'executemany'} + spatial index: {raw_seconds:.1f} s, "
                f"{rows / raw_seconds:,.0f} rows/s")

            url = url_for("hub")
            seconds, result = hub_load(url, frames, path.name)
            assert result.rows_added == rows, result
            figures["hub_seconds"] = round(seconds, 2)
            figures["hub_rows_per_second"] = round(rows / seconds)
            figures["ratio_to_raw"] = round(raw_seconds / seconds, 2)
            log(f"hub Loader, first load: {seconds:.1f} s, {rows / seconds:,.0f} rows/s "
                f"({figures['ratio_to_raw']:.2f} × raw)")

            seconds, result = hub_load(url, edited, "accommodation-edited.csv")
            assert result.rows_changed == rows // 100, result
            figures["reload_seconds"] = round(seconds, 2)
            figures["reload_rows_per_second"] = round(rows / seconds)
            log(f"hub Loader, reload with 1% changed: {seconds:.1f} s, {rows / seconds:,.0f} rows/s")

            if pipeline:
                (folder / "catalog").mkdir()
                seconds, outcome = pipeline_load(url_for("pipeline"), path, folder / "catalog")
                figures["pipeline_seconds"] = round(seconds, 2)
                figures["pipeline_rows_per_second"] = round(rows / seconds)
                figures["pipeline_status"] = outcome.status
                log(f"full pipeline (read, validate, load): {seconds:.1f} s, {rows / seconds:,.0f} rows/s "
                    f"({outcome.status}, {outcome.rows_valid:,} valid)")
        finally:
            for schema in schemas:
                _pg_drop(schema)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["postgis", "spatialite"], default="postgis")
    parser.add_argument("--pipeline", action="store_true", help="also time the full ingest → validate → load")
    args = parser.parse_args(argv)
    figures = run(args.rows, args.backend, pipeline=args.pipeline)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
