"""A first PostgreSQL load builds each batch's keys, hashes and search text as Arrow arrays
(publish/arrow_rows.py). They must be exactly those publish.rows.stored_rows gives, or the next load (staged,
built from Python values) would see every row as changed."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.catalog import Catalog, Schema
from core.text import FoldedColumns
from publish.arrow_rows import _float_texts, build
from publish.copy_binary import Column, _fields
from publish.rows import canonical, stored_rows
from tests.publish.conftest import accommodation_frame
from tests.publish.test_staging import SAMPLE_FILES, _validated


def _built(frame: pd.DataFrame, schema: Schema, folds: FoldedColumns | None = None) -> list[tuple[str, str, str]]:
    built = build(frame, schema, folds)
    hashes = [cell[4:].decode("ascii") for cell in built.hashes.to_pylist()]  # behind the 4-byte length
    return list(zip(built.keys.to_pylist(), hashes, built.search.to_pylist(), strict=True))


def _expected(frame: pd.DataFrame, schema: Schema) -> list[tuple[str, str, str]]:
    return [(key, digest, search) for key, digest, search, *_ in stored_rows(frame, schema)]


@pytest.mark.parametrize("dataset", sorted(SAMPLE_FILES))
def test_keys_hashes_and_search_text_equal_stored_rows_for_every_sample(catalog: Catalog, dataset: str) -> None:
    frame = _validated(catalog, dataset)
    schema = catalog.dataset(dataset).schema
    assert _built(frame, schema) == _expected(frame, schema)


@pytest.mark.parametrize("dataset", sorted(SAMPLE_FILES))
def test_a_search_text_made_of_columns_folded_once_equals_stored_rows(catalog: Catalog, dataset: str) -> None:
    """The pipeline hands the load the text columns the quality check folded (core.text.FoldedColumns)."""
    frame = _validated(catalog, dataset)
    schema = catalog.dataset(dataset).schema
    assert _built(frame, schema, FoldedColumns()) == _expected(frame, schema)


def test_they_equal_stored_rows_for_odd_dtypes_and_missing_values(catalog: Catalog) -> None:
    schema = catalog.dataset("accommodation").schema
    frame = accommodation_frame(1, 50)
    frame["rooms"] = frame["rooms"].astype("float64")  # an integer field arriving as floats
    frame.loc[3, "rooms"] = float("nan")
    frame["star_rank"] = frame["star_rank"].astype("int64")  # plain numpy integers
    frame.loc[4, "lat"] = None
    frame.loc[5, "name"] = pd.NA
    frame.loc[6, "address"] = "Số 1\x1fđường\nmới\\N  Biên Hòa "  # the separator, a line break, a backslash
    frame.loc[7, "name"] = "ﬁ Straße Ǆ Đình"  # letters folding to several
    frame = frame.drop(columns=["website"])  # a field missing from the frame
    assert _built(frame, schema) == _expected(frame, schema)
    assert _built(frame, schema, FoldedColumns()) == _expected(frame, schema)


def test_composite_keys_and_number_search_fields_equal_stored_rows() -> None:
    schema = Schema({"fields": [{"name": "unit", "type": "string"}, {"name": "year", "type": "integer"},
                                {"name": "share", "type": "number"}, {"name": "note", "type": "string"}],
                     "primaryKey": ["unit", "year"], "searchFields": ["note", "year", "share"]}, Path("odd.json"))
    frame = pd.DataFrame({
        "unit": pd.array(["Biên Hòa", "Biên Hòa", None, "Trảng Bom"], dtype="string"),
        "year": pd.array([2024, None, 2023, -5], dtype="Int64"),
        "share": pd.array([0.1, 5.0, None, np.float64(1e-7)], dtype="Float64"),
        "note": pd.array(["  Đồng  Nai ", None, "", "x"], dtype="string"),
    })
    assert _built(frame, schema) == _expected(frame, schema)
    assert _built(frame, schema, FoldedColumns()) == _expected(frame, schema)


def test_float_texts_are_pythons_canonical_texts_for_any_double() -> None:
    """Arrow writes the float texts where it writes what `repr` writes; every double must come out as
    publish.rows.canonical makes it (random bit patterns cover every magnitude, the edges are added)."""
    rng = np.random.default_rng(20251207)
    bits = rng.integers(0, 2**64, 100_000, dtype=np.uint64).view(np.float64)
    scaled = rng.standard_normal(100_000) * 10.0 ** rng.integers(-8, 20, 100_000)
    edges = np.array([1e-4, -1e-4, np.nextafter(1e-4, 0), 1e16, np.nextafter(1e16, 0), -np.nextafter(1e16, 0),
                      0.0, -0.0, 5.0, 2.0**53 + 2, 0.1, 1 / 3, 10.6, np.nan, np.inf, -np.inf, 1e308, 5e-324])
    numbers = np.concatenate([bits, scaled, np.round(scaled, 6), edges])
    expected = [canonical(None if v != v else v) for v in numbers.tolist()]
    assert _float_texts(numbers).to_pylist() == expected


_DATES = Schema({"fields": [{"name": "id", "type": "integer"}, {"name": "day", "type": "date"},
                            {"name": "note", "type": "string"}],
                 "primaryKey": ["id"], "searchFields": ["note", "day"]}, Path("dates.json"))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.none() | st.dates(), min_size=1, max_size=40))
def test_a_date_fields_arrow_texts_and_copy_days_equal_the_python_ones(days: list[date | None]) -> None:
    """A date column (the validator's `date` objects and Nones) takes Arrow's date32 path: its canonical texts
    (in the hash and the search text) and binary COPY days must be what canonical() and _moments() make of the
    Python dates, years before 1000 and missing days included."""
    frame = pd.DataFrame({"id": pd.array(range(len(days)), dtype="Int64"), "day": pd.Series(days, dtype=object),
                          "note": pd.array(["x"] * len(days), dtype="string")})
    assert build(frame, _DATES).fields[1].days is not None  # the Arrow path, not the general one
    assert _built(frame, _DATES) == _expected(frame, _DATES)
    arrow = _fields("date", build(frame, _DATES).fields[1])
    python = _fields("date", Column("day", [canonical(d) for d in days], days, None))
    assert arrow[0].to_pylist() == python[0].to_pylist()


def test_a_date_column_holding_a_datetime_keeps_its_time_in_the_canonical_text() -> None:
    """Arrow would read a datetime in a date column as its day alone; such a column goes the general way."""
    frame = pd.DataFrame({"id": pd.array([1, 2, 3], dtype="Int64"),
                          "day": pd.Series([date(2024, 1, 2), datetime(2024, 1, 2, 5, 6), None], dtype=object),
                          "note": pd.array(["a", None, "c"], dtype="string")})
    assert build(frame, _DATES).fields[1].days is None
    assert _built(frame, _DATES) == _expected(frame, _DATES)
