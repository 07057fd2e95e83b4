"""The records endpoint's geographic filters, `bbox` and `near`, answer the same rows on both backends: the
sample's points inside the box, or within the radius measured on the WGS84 ellipsoid, and through the spatial
index (on SpatiaLite that is the R*Tree, which no SpatiaLite function consults by itself)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from pyproj import Geod

from publish import query
from publish.context import Hub
from publish.query import Query
from tests.conftest import statements_reading

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
DATASETS = ["heritage-sites", "accommodation", "sports-venues"]
GEOD = Geod(ellps="WGS84")


def _points(dataset: str) -> dict[str, tuple[float, float]]:
    """code -> (lat, lon) of the sample's rows."""
    with (SAMPLES / f"{dataset}.csv").open(encoding="utf-8", newline="") as handle:
        return {r["code"]: (float(r["lat"]), float(r["lon"])) for r in csv.DictReader(handle) if r["lat"] and r["lon"]}


def _codes(client, dataset: str, **params: str) -> set[str]:  # noqa: ANN001
    response = client.get(f"/api/v1/datasets/{dataset}/records", query_string={"limit": "1000", **params})
    assert response.status_code == 200, response.get_json()
    return {r["code"] for r in response.get_json()["records"]}


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("bbox", [(106.8, 10.9, 107.0, 11.0), (106.4, 10.6, 107.0, 11.3), (107.2, 11.0, 107.6, 12.1)])
def test_bbox_returns_exactly_the_points_inside_the_box(sample_client, dataset: str,  # noqa: ANN001
                                                        bbox: tuple[float, float, float, float]) -> None:
    points = _points(dataset)
    x1, y1, x2, y2 = bbox
    expected = {code for code, (lat, lon) in points.items() if x1 <= lon <= x2 and y1 <= lat <= y2}
    assert _codes(sample_client, dataset, bbox=",".join(map(str, bbox))) == expected


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("radius", [3_000, 15_000, 45_000])
def test_near_returns_exactly_the_points_within_the_radius(sample_client, dataset: str, radius: int) -> None:  # noqa: ANN001
    points = _points(dataset)
    lat0, lon0 = 10.95, 106.84  # Biên Hòa
    distances = {code: GEOD.inv(lon0, lat0, lon, lat)[2] for code, (lat, lon) in points.items()}
    assert all(abs(d - radius) > 5 for d in distances.values())  # no point so near the edge that rounding decides
    expected = {code for code, d in distances.items() if d <= radius}
    assert expected or radius < 5_000
    assert _codes(sample_client, dataset, near=f"{lat0},{lon0},{radius}") == expected


def test_near_box_reaches_far_enough_for_points_on_the_circle(sample_hub: Hub) -> None:
    """The bounding box narrowing a `near` search holds the whole circle, also at its north, south, east and
    west edges, where a box from 111,320 m per degree falls short."""
    dataset = sample_hub.catalog.dataset("heritage-sites")
    lat, lon = _points("heritage-sites")["DT-0001"]
    for azimuth in (0, 90, 180, 270):
        for radius in (500.0, 20_000.0):
            lon0, lat0, _ = GEOD.fwd(lon, lat, azimuth, radius * 0.9999)  # a centre just inside the radius
            page = query.records(sample_hub.store, dataset, Query(near=(lat0, lon0, radius), limit=100))
            assert "DT-0001" in {r["code"] for r in page.rows}, (azimuth, radius)


def test_geographic_filters_can_go_through_the_spatial_index(sample_hub: Hub) -> None:
    """bbox and near are written so the R*Tree (SpatiaLite) or GiST index (PostGIS) serves them. PostGIS plans
    by cost and scans a table this small, so there the plan is read with sequential scans priced out."""
    store = sample_hub.store
    dataset = store.catalog.dataset("heritage-sites")
    table = store.table(dataset).name
    with statements_reading(store, table) as seen:
        query.records(store, dataset, Query(bbox=(106.8, 10.9, 107.0, 11.0)))
        query.records(store, dataset, Query(near=(10.95, 106.84, 15_000)))
    assert len(seen) == 2
    explain = "EXPLAIN QUERY PLAN" if store.dialect == "sqlite" else "EXPLAIN"
    with store.read_engine.connect() as conn, conn.begin():
        if store.dialect != "sqlite":
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        for statement, parameters in seen:
            plan = " ".join(str(row) for row in conn.exec_driver_sql(f"{explain} {statement}", parameters))
            assert f"idx_{table}__geom" in plan, plan
