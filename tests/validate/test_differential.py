"""Our Validator reports what frictionless 5.21 reports, in the same order, on messy generated files."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.validate.differential import assert_same, compare
from tests.validate.generate import (
    ADMIN_UNITS,
    CELLS,
    COMMUNES,
    EVENTS,
    HERITAGE,
    messy_rows,
    write_admin_units,
    write_csv,
)

ADMIN_KEYS = {"admin-units": {(c,) for c in COMMUNES}}


def _heritage(tmp_path: Path, seed: int, n_rows: int, **kw: float) -> Path:
    rows = messy_rows(HERITAGE, n_rows, random.Random(seed), **kw)
    write_admin_units(tmp_path)
    return write_csv(tmp_path / "main.csv", [f["name"] for f in HERITAGE["fields"]], rows)


def _resources(tmp_path: Path) -> dict:
    return {"admin-units": (tmp_path / "admin-units.csv", ADMIN_UNITS)}


@pytest.mark.parametrize("seed", range(8))
def test_heritage_errors_match_frictionless(tmp_path: Path, seed: int) -> None:
    path = _heritage(tmp_path, seed, 150)
    theirs, ours = compare(
        path, HERITAGE, foreign_keys=ADMIN_KEYS, resources=_resources(tmp_path), batch_size=1 + seed * 9
    )
    assert not theirs["valid"]
    assert_same(theirs, ours)


@pytest.mark.parametrize("seed", range(8))
def test_composite_key_and_missing_values_match_frictionless(tmp_path: Path, seed: int) -> None:
    rows = messy_rows(EVENTS, 120, random.Random(100 + seed))
    path = write_csv(tmp_path / "events.csv", [f["name"] for f in EVENTS["fields"]], rows)
    theirs, ours = compare(path, EVENTS, batch_size=5 + seed * 11)
    assert_same(theirs, ours)


@pytest.mark.parametrize("limit", [1, 3, 17, 60])
def test_error_limit_cuts_the_report_like_frictionless(tmp_path: Path, limit: int) -> None:
    rows = messy_rows(EVENTS, 100, random.Random(7))
    path = write_csv(tmp_path / "events.csv", [f["name"] for f in EVENTS["fields"]], rows)
    theirs, ours = compare(path, EVENTS, limit_errors=limit, batch_size=9)
    assert ours["tasks"][0]["warnings"] == [f"reached error limit: {limit}"]
    assert_same(theirs, ours)


@pytest.mark.parametrize("limit", [2, 25])
def test_error_limit_with_self_references(tmp_path: Path, limit: int) -> None:
    path = _heritage(tmp_path, 42, 120)
    theirs, ours = compare(
        path,
        HERITAGE,
        limit_errors=limit,
        foreign_keys=ADMIN_KEYS,
        resources=_resources(tmp_path),
        batch_size=13,
    )
    assert_same(theirs, ours)


def test_clean_file_is_valid_in_both(tmp_path: Path) -> None:
    write_admin_units(tmp_path)
    rows = [
        [
            f"DN{k:03d}",
            "Đình Tân Lân",
            "quoc_gia",
            "1698",
            "12.5",
            "có",
            "1990-01-01",
            "a@dongnai.gov.vn",
            "https://dongnai.gov.vn",
            COMMUNES[k % 4],
            f"DN{(k + 7) % 60:03d}" if k % 3 else "",
            str(k),
        ]
        for k in range(60)
    ]
    path = write_csv(tmp_path / "main.csv", [f["name"] for f in HERITAGE["fields"]], rows)
    theirs, ours = compare(path, HERITAGE, foreign_keys=ADMIN_KEYS, resources=_resources(tmp_path))
    assert_same(theirs, ours)
    assert ours["valid"] and ours["tasks"][0]["stats"]["rows"] == 60


_names = [f["name"] for f in EVENTS["fields"]]
_cell = st.one_of(
    st.sampled_from(sorted({v for spec in CELLS["events"].values() for pool in spec.values() for v in pool})),
    st.text(alphabet="01-2a.NA ", max_size=4),
)
_row = st.lists(_cell, min_size=0, max_size=len(_names) + 2)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_row, min_size=1, max_size=25), batch_size=st.integers(1, 30))
def test_any_rows_match_frictionless(tmp_path: Path, rows: list[list[str]], batch_size: int) -> None:
    # a normal first row: frictionless sniffs the CSV dialect from the first rows and, on a sample of only
    # blank lines, takes a later line for the header (a reader issue, not a validation one)
    first = ["1", "1", "a", "true", "2024-01-01", "10"]
    path = write_csv(tmp_path / "events.csv", _names, [first, *rows])
    theirs, ours = compare(path, EVENTS, batch_size=batch_size)
    assert_same(theirs, ours)
