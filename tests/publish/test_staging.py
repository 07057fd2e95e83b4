"""The loader's fast row builder gives exactly what publish.rows.stored_rows gives: same keys, same hashes
(so loads recognise unchanged rows whichever built them), same folded search text."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from core.catalog import Catalog
from publish.rows import stored_rows
from publish.staging import stored_rows_fast
from tests.publish.conftest import SAMPLES, accommodation_frame

SAMPLE_FILES = {"heritage-sites": "heritage-sites.csv", "sports-venues": "sports-venues.csv",
                "accommodation": "accommodation.csv", "travel-agencies": "travel-agencies.csv",
                "licences": "licences.csv"}


def _validated(catalog: Catalog, dataset: str) -> pd.DataFrame:
    from ingest import read_table
    from validate import Validator

    schema = catalog.dataset(dataset).schema
    table = read_table(SAMPLES / SAMPLE_FILES[dataset], schema.descriptor)
    validator = Validator(schema.descriptor)
    return pd.concat([validator.check(batch)[0] for batch in table.batches()])


@pytest.mark.parametrize("dataset", sorted(SAMPLE_FILES))
def test_fast_rows_equal_stored_rows_for_every_sample(catalog: Catalog, dataset: str) -> None:
    frame = _validated(catalog, dataset)
    schema = catalog.dataset(dataset).schema
    assert stored_rows_fast(frame, schema) == list(stored_rows(frame, schema))


def test_fast_rows_equal_stored_rows_for_odd_dtypes_and_missing_values(catalog: Catalog) -> None:
    schema = catalog.dataset("accommodation").schema
    frame = accommodation_frame(1, 50)
    frame["rooms"] = frame["rooms"].astype("float64")  # an integer field arriving as floats
    frame.loc[3, "rooms"] = float("nan")
    frame["lat"] = frame["lat"].astype(object)
    frame.loc[4, "lat"] = None
    frame.loc[5, "name"] = pd.NA
    frame = frame.drop(columns=["website"])  # a field missing from the frame
    assert stored_rows_fast(frame, schema) == list(stored_rows(frame, schema))
    typed = stored_rows_fast(frame, schema, ["text"] * 4 + ["int8", "int8"] + ["text"] * 5 +
                             ["float8", "float8", "text"])
    rooms = 3 + schema.field_names.index("rooms")
    assert typed[0][rooms] == frame["rooms"].iloc[0] and type(typed[0][rooms]) is int
    assert [r[1] for r in typed] == [r[1] for r in stored_rows(frame, schema)]  # hashes unchanged


def test_dates_keep_their_iso_hash(catalog: Catalog) -> None:
    schema = catalog.dataset("licences").schema
    frame = pd.DataFrame({"number": ["A-1", "A-2"], "issue_date": [date(2020, 1, 31), None]})
    assert stored_rows_fast(frame, schema) == list(stored_rows(frame, schema))


