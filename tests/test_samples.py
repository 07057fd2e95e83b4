"""The sample files in samples/ agree with the schemas in schemas/.

- every clean sample passes frictionless validation of its schema (foreign keys to admin-units included);
- every messy sample's frictionless report equals the planted errors listed in its .expected.json, plus the
  cells listed under "repairs" (notations ingest rewrites, so the hub does not report them).

Foreign keys point at another dataset, so each table is validated inside a frictionless Package that also
holds the admin-units table (flattened from samples/admin-units.geojson).
"""

import csv
import json
import pathlib
import unicodedata

import pytest
from frictionless import Package, Resource, Schema

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "schemas"
SAMPLES = ROOT / "samples"
TABLES = ["heritage-sites", "sports-venues", "accommodation", "travel-agencies", "licences"]
ALL = ["admin-units", *TABLES]


def load_schema(sid):
    return json.loads((SCHEMAS / f"{sid}.json").read_text(encoding="utf-8"))


def admin_unit_rows():
    """admin-units.geojson flattened to rows: properties as columns, geometry as GeoJSON text."""
    gj = json.loads((SAMPLES / "admin-units.geojson").read_text(encoding="utf-8"))
    names = [f["name"] for f in load_schema("admin-units")["fields"]]
    rows = [names]
    for feat in gj["features"]:
        props = dict(feat["properties"], boundary=json.dumps(feat["geometry"]))
        rows.append([props.get(n) for n in names])
    return rows


def admin_units_resource():
    return Resource(name="admin-units", data=admin_unit_rows(),
                    schema=Schema.from_descriptor(load_schema("admin-units")))


def validate_table(sid, path):
    """frictionless report for a CSV file of dataset `sid`, as comparable tuples."""
    path = pathlib.Path(path)
    res = Resource(name=sid, path=path.name, basepath=str(path.parent),
                   schema=Schema.from_descriptor(load_schema(sid)))
    if sid == "admin-units":
        report = res.validate()
    else:
        pkg = Package(resources=[admin_units_resource(), res])
        report = pkg.get_resource(sid).validate()
    return report, [norm(e) for e in report.flatten(["type", "rowNumber", "fieldName"])]


def norm(e):
    type_, row, field = e
    return (type_, row, field or None)


def test_admin_units_geojson():
    rows = admin_unit_rows()
    assert len(rows) == 96
    report = admin_units_resource().validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    for feat in json.loads((SAMPLES / "admin-units.geojson").read_text(encoding="utf-8"))["features"]:
        assert feat["geometry"]["type"] in ("Polygon", "MultiPolygon")


@pytest.mark.parametrize("sid", ALL)
def test_schema_loads_and_follows_conventions(sid):
    desc = load_schema(sid)
    Schema.from_descriptor(desc)  # raises on an invalid descriptor
    assert desc["name"] == sid and set(desc["titles"]) == {"vi", "en"}
    assert desc["primaryKey"]
    names = [f["name"] for f in desc["fields"]]
    for f in desc["fields"]:
        assert set(f["titles"]) == {"vi", "en"}, f["name"]
        cons = f.get("constraints", {})
        if "enum" in cons:
            assert set(cons["enum"]) == set(f["enumLabels"]), f["name"]
        if "pattern" in cons:
            assert cons["pattern"].startswith("(?:") and cons["pattern"].endswith(")"), f["name"]
        assert f.get("classification", "public") in ("public", "internal", "personal")
    assert set(desc["searchFields"]) <= set(names)
    geom = desc.get("geometry")
    if geom and geom["type"] == "point":
        assert {geom["latitude"], geom["longitude"]} <= set(names)
    for fk in desc.get("foreignKeys", []):
        assert fk["reference"]["resource"] in ALL


@pytest.mark.parametrize("sid", TABLES)
def test_clean_sample_is_valid(sid):
    report, errors = validate_table(sid, SAMPLES / f"{sid}.csv")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:20]
    text = (SAMPLES / f"{sid}.csv").read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", text)
    with open(SAMPLES / f"{sid}.csv", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header == [f["name"] for f in load_schema(sid)["fields"]]


def frictionless_errors(expected):
    """What frictionless reports on a messy sample: the planted errors, and the cells ingest repairs
    (`repairs`: office notations that frictionless, reading the raw file, takes for errors), in row order."""
    planted = [(e["type"], e["rowNumber"], e.get("fieldName")) for e in expected["errors"]]
    repairs = [(f["type"], r["rowNumber"], f["fieldName"]) for r in expected.get("repairs", []) for f in r["frictionless"]]
    return sorted(planted + repairs, key=lambda e: e[1])  # stable: the order within a row is kept


@pytest.mark.parametrize("sid", ALL)
def test_messy_sample_reports_exactly_the_planted_errors(sid):
    expected = json.loads((SAMPLES / "messy" / f"{sid}.expected.json").read_text(encoding="utf-8"))
    report, errors = validate_table(sid, SAMPLES / "messy" / f"{sid}.csv")
    assert errors == frictionless_errors(expected)  # same errors in the same order as frictionless reports them
    assert not {r["rowNumber"] for r in expected["repairs"]} & {e["rowNumber"] for e in expected["errors"]}
    assert expected["quality"], "each messy sample also plants schema-valid quality problems"
    planted = {e["rowNumber"] for e in expected["errors"]}
    for q in expected["quality"]:
        assert q["rowNumber"] not in planted, "quality rows must be schema-valid"
