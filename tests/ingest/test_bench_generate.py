"""bench/generate.py: the benchmark's files are deterministic, read like a department's, and say truly
which rows carry a planted error (the rows validation refuses)."""

from __future__ import annotations

import csv
import json

import pytest

from bench.generate import generate
from bench.ingest import bench_catalog
from core.catalog import load_catalog
from ingest import read_table
from ingest.normalise.communes import REFERENCE
from validate import Validator


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("bench-catalog")
    return load_catalog(bench_catalog(folder)).dataset("accommodation").schema.descriptor


def test_the_same_seed_writes_the_same_file(tmp_path):
    a = generate("accommodation", 300, tmp_path / "a.csv", seed=4, error_rate=0.05)
    b = generate("accommodation", 300, tmp_path / "b.csv", seed=4, error_rate=0.05)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert a["errors"] == b["errors"] and a["rows"] == 300


def test_generated_register_maps_every_column_and_needs_normalising(tmp_path, schema):
    generate("accommodation", 400, tmp_path / "r.csv", seed=2)
    table = read_table(tmp_path / "r.csv", schema)
    frames = list(table.batches())
    assert table.unknown_columns == [] and table.missing_fields == []
    assert sum(len(f) for f in frames) == 400
    rules = {c.rule for c in table.changes}
    assert {"date", "phone", "coordinate", "enum", "commune-name"} <= rules
    assert all(v is None or len(v) == 10 and v[4] == "-" for v in frames[0]["notified_on"])


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_rows_refused_by_validation_are_the_rows_with_a_planted_error(tmp_path, schema, fmt):
    path = tmp_path / f"r.{fmt}"
    planted = generate("accommodation", 600, path, seed=3, error_rate=0.06, fmt=fmt)
    with (REFERENCE / "dong-nai-wards-2026.csv").open(encoding="utf-8") as fh:
        communes = {(row["code"],) for row in csv.DictReader(fh)}
    validator = Validator(schema, foreign_keys={"admin-units": communes})
    refused: set[int] = set()
    for frame in read_table(path, schema).batches():
        _, invalid = validator.check(frame)
        refused |= set(invalid["_row"].tolist())
    validator.finish()
    assert planted["errors"], json.dumps(planted["errors_by_kind"])
    assert refused == {e["row"] for e in planted["errors"]}
