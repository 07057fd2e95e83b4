"""The Validator's batch interface: typed valid rows, rejected rows with messages, the report."""

from __future__ import annotations

import datetime
from typing import Any

import pandas as pd

from validate import Report, Validator
from validate.report import KNOWN_ERRORS, frictionless_error_info

SCHEMA: dict[str, Any] = {
    "name": "heritage-sites",
    "fields": [
        {
            "name": "code",
            "type": "string",
            "titles": {"vi": "Mã di tích", "en": "Site code"},
            "constraints": {"required": True},
        },
        {
            "name": "rank",
            "type": "string",
            "titles": {"vi": "Cấp di tích", "en": "Rank"},
            "constraints": {"enum": ["cap_tinh", "quoc_gia", "quoc_gia_dac_biet"]},
        },
        {"name": "year", "type": "integer", "titles": {"vi": "Năm", "en": "Year"}},
        {"name": "area", "type": "number", "titles": {"vi": "Diện tích", "en": "Area"}},
        {
            "name": "ranked",
            "type": "boolean",
            "titles": {"vi": "Đã xếp hạng", "en": "Ranked"},
            "trueValues": ["có"],
            "falseValues": ["không"],
        },
        {"name": "on", "type": "date", "titles": {"vi": "Ngày", "en": "Date"}},
        {"name": "commune", "type": "integer", "titles": {"vi": "Mã xã", "en": "Commune"}},
        {"name": "parent", "type": "string", "titles": {"vi": "Thuộc", "en": "Part of"}},
    ],
    "primaryKey": ["code"],
    "foreignKeys": [
        {"fields": "commune", "reference": {"resource": "admin-units", "fields": "code"}},
        {"fields": "parent", "reference": {"resource": "", "fields": "code"}},
    ],
}
NAMES = [f["name"] for f in SCHEMA["fields"]]


def batch(rows: list[list[Any]], first_row: int = 2) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=NAMES, dtype=object)
    frame["_row"] = range(first_row, first_row + len(rows))
    return frame


def test_valid_rows_come_back_typed() -> None:
    validator = Validator(SCHEMA, foreign_keys={"admin-units": {("25195",)}})
    valid, invalid = validator.check(batch([["DT1", "quoc_gia", "1698", "12.5", "có", "2015-12-23", "25195", None]]))
    assert invalid.empty
    assert str(valid["year"].dtype) == "Int64" and valid["year"].iloc[0] == 1698
    assert str(valid["area"].dtype) == "Float64" and valid["area"].iloc[0] == 12.5
    assert str(valid["ranked"].dtype) == "boolean" and bool(valid["ranked"].iloc[0]) is True
    assert valid["on"].iloc[0] == datetime.date(2015, 12, 23)
    assert valid["commune"].iloc[0] == 25195  # published keys given as text match an integer field
    assert pd.isna(valid["parent"].iloc[0]) and valid["_row"].tolist() == [2]
    assert validator.finish().valid


def test_rejected_rows_are_kept_for_the_steward_with_vietnamese_messages() -> None:
    validator = Validator(SCHEMA, foreign_keys={"admin-units": {("25195",)}})
    rows = [["DT1", "quoc_gia", "1698", None, None, None, None, None]] * 3 + [
        ["DT2", "quoc gia", "17xx", None, None, None, None, None]
    ]
    valid, invalid = validator.check(batch(rows))
    assert valid["_row"].tolist() == [2]
    assert invalid["_row"].tolist() == [3, 4, 5]
    assert invalid["rank"].tolist()[-1] == "quoc gia"  # the original text
    assert invalid["_errors"].iloc[2] == [
        "Dòng 5, cột «Cấp di tích» (rank): giá trị «quoc gia» không thuộc danh sách cho phép: "
        "cap_tinh, quoc_gia, quoc_gia_dac_biet",
        "Dòng 5, cột «Năm» (year): giá trị «17xx» không phải số nguyên",
    ]
    report = validator.finish()
    assert [(e.type, e.rowNumber) for e in report.errors] == [
        ("primary-key", 3),
        ("primary-key", 4),
        ("constraint-error", 5),
        ("type-error", 5),
    ]
    first = report.errors[0]
    assert first.note == "the same as in the row at position 2"
    assert first.messages["en"].startswith("Row 3: the primary key (code)")
    assert report.errors[2].message == (
        'The cell "quoc gia" in row at position "5" and field "rank" at position "2" does not conform to a '
        "constraint: constraint \"enum\" is \"['cap_tinh', 'quoc_gia', 'quoc_gia_dac_biet']\""
    )


def test_reference_to_a_later_row_of_the_same_file_is_valid() -> None:
    validator = Validator(SCHEMA)
    valid, _ = validator.check(batch([["DT1", None, None, None, None, None, None, "DT3"]]))
    assert len(valid) == 1  # DT3 may come later
    validator.check(batch([["DT2", None, None, None, None, None, None, "DT9"]], first_row=3))
    validator.check(batch([["DT3", None, None, None, None, None, None, None]], first_row=4))
    report = validator.finish()
    assert [(e.type, e.rowNumber) for e in report.errors] == [("foreign-key", 3)]
    assert report.late_invalid_rows == [3]  # passed by check(), to drop before publishing
    assert report.errors[0].note == 'for "parent": values "DT9" not found in the lookup table "" as "code"'


def test_foreign_key_without_published_keys_is_skipped_with_a_warning() -> None:
    validator = Validator(SCHEMA)
    validator.check(batch([["DT1", None, None, None, None, None, "99999", None]]))
    report = validator.finish()
    assert report.valid
    assert report.warnings == ['foreign key "commune" to "admin-units" not checked: no keys given']


def test_short_and_long_rows_use_the_missing_and_extra_columns() -> None:
    frame = batch(
        [["DT1", "quoc_gia", "1698", None, None, None, None, None], ["DT2", None, None, None, None, None, None, None]]
    )
    frame["_missing"] = [0, 6]
    frame["_extra"] = [["thừa"], None]
    validator = Validator(SCHEMA)
    _, invalid = validator.check(frame)
    report = validator.finish()
    assert [(e.type, e.rowNumber, e.fieldNumber) for e in report.errors] == [
        ("extra-cell", 2, 9),
        *[("missing-cell", 3, k) for k in range(3, 9)],
    ]
    assert report.errors[0].cells == ["DT1", "quoc_gia", "1698", "", "", "", "", "", "thừa"]
    assert report.errors[1].cells == ["DT2", ""]
    assert len(invalid) == 2


def test_report_has_frictionless_shape() -> None:
    validator = Validator(SCHEMA, source="heritage.csv")
    validator.check(batch([["DT1", "x", None, None, None, None, None, None]]))
    report = validator.finish()
    assert isinstance(report, Report)
    data = report.to_dict()
    assert set(data) == {"valid", "stats", "warnings", "errors", "tasks"}
    task = data["tasks"][0]
    assert list(task) == ["name", "type", "valid", "place", "labels", "stats", "warnings", "errors"]
    assert task["place"] == "heritage.csv" and task["labels"] == NAMES
    assert task["stats"]["rows"] == 1 and task["stats"]["errors"] == 1
    error = task["errors"][0]
    assert list(error)[:11] == [
        "type",
        "title",
        "description",
        "message",
        "tags",
        "note",
        "cells",
        "rowNumber",
        "cell",
        "fieldName",
        "fieldNumber",
    ]
    assert error["messages"]["vi"].startswith("Dòng 2, cột «Cấp di tích» (rank)")
    assert report.stats == {"rows": 1, "errors": 1, "warnings": 1, "seconds": report.stats["seconds"], "fields": 8}


def test_error_texts_written_without_frictionless_are_frictionless_own() -> None:
    """The titles, descriptions, tags and message templates a report takes without importing frictionless are
    the installed frictionless's, for every error the validator finds."""
    for error_type in ("type-error", "constraint-error", "extra-cell", "missing-cell", "blank-row", "unique-error",
                       "primary-key", "foreign-key"):
        assert error_type in KNOWN_ERRORS
        assert KNOWN_ERRORS[error_type] == frictionless_error_info(error_type), error_type
