"""The project's sample files (samples/, samples/messy/) give the same report with frictionless and with us."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.validate.differential import assert_same, compare
from tests.validate.generate import write_csv

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
SAMPLES = ROOT / "samples"
MESSY = sorted((SAMPLES / "messy").glob("*.csv")) if (SAMPLES / "messy").is_dir() else []
CLEAN = sorted(p for p in SAMPLES.glob("*.csv") if (SCHEMAS / f"{p.stem}.json").exists())
ADMIN_SCHEMA = {"name": "admin-units", "fields": [{"name": "code", "type": "string"}], "primaryKey": ["code"]}


def _admin_codes() -> list[str]:
    collection = json.loads((SAMPLES / "admin-units.geojson").read_text(encoding="utf-8"))
    return [f["properties"]["code"] for f in collection["features"]]


def _compare(path: Path, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = json.loads((SCHEMAS / f"{path.stem}.json").read_text(encoding="utf-8"))
    codes = _admin_codes()
    main = tmp_path / f"{path.stem}.csv"
    main.write_bytes(path.read_bytes())
    resources = None
    if schema.get("foreignKeys"):
        admin = write_csv(tmp_path / "ref-admin-units.csv", ["code"], [[c] for c in codes])
        resources = {"admin-units": (admin, ADMIN_SCHEMA)}
    return compare(main, schema, foreign_keys={"admin-units": {(c,) for c in codes}}, resources=resources, batch_size=6)


@pytest.mark.parametrize("path", MESSY, ids=[p.stem for p in MESSY])
def test_messy_sample_reports_like_frictionless(path: Path, tmp_path: Path) -> None:
    theirs, ours = _compare(path, tmp_path)
    assert_same(theirs, ours)
    expected_file = path.with_name(f"{path.stem}.expected.json")
    if expected_file.exists():
        # the hand-written lists name the same errors; their order within a row is not always frictionless's
        # (the raw file, not ingested: the cells ingest would repair are errors here too)
        expected = json.loads(expected_file.read_text(encoding="utf-8"))
        got = sorted((e["type"], e["rowNumber"], e.get("fieldName") or "") for e in ours["tasks"][0]["errors"])
        want = sorted([(e["type"], e["rowNumber"], e.get("fieldName") or "") for e in expected["errors"]]
                      + [(f["type"], r["rowNumber"], f["fieldName"] or "") for r in expected.get("repairs", [])
                         for f in r["frictionless"]])
        assert got == want


@pytest.mark.parametrize("path", CLEAN, ids=[p.stem for p in CLEAN])
def test_clean_sample_is_valid(path: Path, tmp_path: Path) -> None:
    theirs, ours = _compare(path, tmp_path)
    assert_same(theirs, ours)
    assert ours["valid"], ours["tasks"][0]["errors"][:3]
