"""The files the department really has: every format of the same data stores the same rows.

For every dataset of catalog.yaml, variants of its canonical sample (tests/ingest/variants.py: a UTF-8 CSV
in Vietnamese notation, a TCVN3 CSV, an Excel report sheet with a two-row merged header, a JSON array and,
for datasets with a geometry, GeoJSON) go through publish.pipeline.run into a fresh store, in load order so
that foreign keys resolve; the stored current rows must equal those stored from the canonical samples
(the read-only `sample_hub` of the same backend).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import pytest
from pyproj import Transformer

from core.config import Settings
from publish import pipeline
from publish.access import Viewer
from publish.context import Hub
from publish.query import Query, iter_records
from tests.conftest import database_url, drop_schema
from tests.ingest.variants import FORMATS, applies, canonical_records, tcvn3_spelling, write_variant

ADMIN = Viewer(name="t", role="admin")


def _backend(hub: Hub) -> str:
    return "postgis" if hub.store.dialect == "postgresql" else "spatialite"


def _fresh_hub(backend: str, folder: Path) -> tuple[Hub, str | None]:
    url, schema = database_url(backend, folder)
    return Hub.open(Settings(database_url=url, storage_dir=folder / "storage", secret_key="t"), init=True), schema


def stored(hub: Hub, dataset_id: str) -> dict[str, dict[str, Any]]:
    """Current rows with their geometry, keyed by primary key, as an admin sees them."""
    dataset = hub.catalog.dataset(dataset_id)
    pk = dataset.schema.primary_key
    rows = iter_records(hub.store, dataset, Query(with_geometry=True, limit=0), ADMIN)
    return {",".join(str(r[k]) for k in pk): r for r in rows}


def _as_tcvn3(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {f: tcvn3_spelling(v) if isinstance(v, str) else v for f, v in r.items()} for k, r in rows.items()}


def _differences(got: dict[str, dict[str, Any]], want: dict[str, dict[str, Any]]) -> list[str]:
    out = [f"missing {k}" for k in want.keys() - got.keys()] + [f"extra {k}" for k in got.keys() - want.keys()]
    for key in sorted(want.keys() & got.keys()):
        for field in want[key]:
            if got[key].get(field) != want[key][field]:
                out.append(f"{key}.{field}: {got[key].get(field)!r} != {want[key][field]!r}")
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_of_a_sample_stores_the_rows_of_the_canonical_sample(fmt, sample_hub, tmp_path):
    fresh, schema = _fresh_hub(_backend(sample_hub), tmp_path)
    problems: list[str] = []
    try:
        for dataset in fresh.catalog.load_order():
            if dataset.source is None:  # a report's statistics dataset: no sample
                continue
            if applies(dataset, fmt):
                path = write_variant(fresh.catalog, dataset, fmt, tmp_path)
            else:  # stored anyway, so that the datasets after it find their foreign keys
                path = fresh.catalog.resolve(dataset.source)
            outcome = pipeline.run(fresh.store, dataset.id, path, user="tests")
            if outcome.status != "committed" or outcome.rows_rejected:
                problems.append(f"{dataset.id}: {outcome.status}, {outcome.report['tasks'][0]['errors'][:3]}")
                continue
            want = stored(sample_hub, dataset.id)
            if fmt == "csv-tcvn3":  # TCVN3 has no capitals with tone marks ("Ấp" is written "ấp")
                want = _as_tcvn3(want)
            assert len(want) == len(canonical_records(fresh.catalog, dataset))
            problems += [f"{dataset.id} {d}" for d in _differences(stored(fresh, dataset.id), want)[:5]]
    finally:
        fresh.store.dispose()
        drop_schema(schema)
    assert not problems, "\n".join(problems)


def test_tcvn3_loses_only_capitals_with_tone_marks():
    """The TCVN3 comparison above is relaxed only where the encoding cannot write the letter."""
    assert tcvn3_spelling("Ấp 1, Mộ – đền thờ Đoàn Văn Cự, ÁNH DƯƠNG") == "ấp 1, Mộ – đền thờ Đoàn Văn Cự, áNH DƯƠNG"


@pytest.mark.parametrize("fmt", ["csv-utf8", "xlsx"])
def test_the_same_data_in_another_format_is_an_unchanged_load(fmt, hub, tmp_path):
    for dataset_id in ("admin-units", "accommodation"):
        dataset = hub.catalog.dataset(dataset_id)
        assert pipeline.run(hub.store, dataset_id, hub.catalog.resolve(dataset.source)).status == "committed"
    before = stored(hub, "accommodation")
    variant = write_variant(hub.catalog, hub.catalog.dataset("accommodation"), fmt, tmp_path)
    outcome = pipeline.run(hub.store, "accommodation", variant)
    assert outcome.status == "unchanged"
    assert outcome.report["hub"]["changes_total"] > 0  # the file did need normalising
    assert stored(hub, "accommodation") == before


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dlat = (a[0] - b[0]) * 110_574
    dlon = (a[1] - b[1]) * 111_320 * math.cos(math.radians(a[0]))
    return math.hypot(dlat, dlon)


def test_vn2000_survey_coordinates_are_published_within_a_metre_of_the_wgs84_position(hub, tmp_path):
    """A cadastral sheet gives VN-2000 plane X/Y instead of lat/lon. The X/Y here come from each site's
    published WGS84 position through the EPSG definitions (EPSG:6960 datum shift, TM-3 zone by commune),
    independent of the PROJ string ingest uses; once ingested, every site must be published within a metre
    of where it was. (tests/ingest/normalise/test_coordinates.py checks the conversion function alone.)"""
    for dataset_id in ("admin-units", "heritage-sites"):
        dataset = hub.catalog.dataset(dataset_id)
        assert pipeline.run(hub.store, dataset_id, hub.catalog.resolve(dataset.source)).status == "committed"
    before = {k: r for k, r in stored(hub, "heritage-sites").items() if r["lat"] is not None}
    datum = Transformer.from_pipeline("urn:ogc:def:coordinateOperation:EPSG::6960")
    path = tmp_path / "toa-do-vn2000.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["Mã di tích", "Tên di tích", "Loại hình", "Xếp hạng", "Mã xã/phường", "X (VN-2000)", "Y (VN-2000)"])
        for key, row in before.items():
            lat_vn, lon_vn = datum.transform(row["lat"], row["lon"], direction="INVERSE")
            epsg = 9212 if int(row["commune_code"]) < 25500 else 5899  # former Bình Phước: TM-3 106°15'
            y, x = Transformer.from_crs("EPSG:4756", f"EPSG:{epsg}", always_xy=True).transform(lon_vn, lat_vn)
            out.writerow([key, row["name"], row["type"], row["rank"], row["commune_code"], f"{x:.3f}", f"{y:.3f}"])
    outcome = pipeline.run(hub.store, "heritage-sites", path)
    assert outcome.status == "committed" and outcome.rows_rejected == 0
    after = stored(hub, "heritage-sites")
    assert after.keys() == before.keys() and len(before) >= 40
    for key, was in before.items():
        now = after[key]
        assert _metres((now["lat"], now["lon"]), (was["lat"], was["lon"])) < 1.0, key
        assert now["_geometry"]["type"] == "Point"
