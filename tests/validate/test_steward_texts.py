"""What stewards read in reports (issue 16, small items): an example of the expected form, never a regular
expression; a repeated key's cell marked in rows-to-fix.xlsx."""

from __future__ import annotations

import re

from core.catalog import Catalog
from ingest import read_table
from tests.publish.conftest import SAMPLES
from validate import Validator
from validate.messages import pattern_example


def test_every_schema_pattern_has_an_example_it_accepts(catalog: Catalog) -> None:
    for dataset in catalog:
        for field in dataset.schema.fields:
            pattern = field.constraints.get("pattern")
            if pattern:
                example = pattern_example(pattern)
                assert example and re.fullmatch(pattern, example), (dataset.id, field.name)
    assert pattern_example("(?:LT-\\d{4})") == "LT-1234"


def test_a_pattern_error_shows_an_example_not_the_expression(catalog: Catalog) -> None:
    schema = catalog.dataset("accommodation").schema
    table = read_table(SAMPLES / "heritage-sites.csv", schema.descriptor)  # codes DT-..., not LT-...
    validator = Validator(schema.descriptor)
    for batch in table.batches():
        validator.check(batch)
    report = validator.finish().to_dict()
    errors = [e for t in report.get("tasks", []) for e in t.get("errors", [])] or report.get("errors", [])
    codes = [e["messages"] for e in errors if e.get("fieldName") == "code"]
    assert codes and "ví dụ đúng: LT-1234" in codes[0]["vi"] and "for example: LT-1234" in codes[0]["en"]
    assert not any("\\d" in m["vi"] or "(?:" in m["en"] for e in errors for m in [e["messages"]])


def test_a_repeated_key_marks_its_cell_in_rows_to_fix(catalog: Catalog, tmp_path) -> None:  # noqa: ANN001
    import openpyxl

    from validate.render_files import write_report_files
    from validate.render_xlsx import rows_from_frame

    schema = catalog.dataset("sports-venues").schema
    lines = (SAMPLES / "sports-venues.csv").read_text(encoding="utf-8").splitlines()
    source = tmp_path / "dup.csv"
    source.write_text("\n".join([*lines[:4], lines[2]]) + "\n", encoding="utf-8")  # row 5 repeats row 3's key
    table = read_table(source, schema.descriptor)
    validator = Validator(schema.descriptor)
    rejected = []
    import pandas as pd

    for batch in table.batches():
        _, invalid = validator.check(batch)
        rejected.append(invalid)
    report = validator.finish().to_dict()
    files = write_report_files(report, tmp_path / "out", rows_from_frame(pd.concat(rejected)), schema=schema)
    sheet = openpyxl.load_workbook(files["rows-to-fix.xlsx"]).worksheets[0]
    header = [c.value for c in sheet[1]]
    code = sheet.cell(row=2, column=header.index("code") + 1)
    assert code.value == lines[2].split(",")[0]
    assert code.fill.fgColor.rgb.endswith("FBD5D1")  # marked bad, as a cell breaking any rule
    assert code.comment is not None and "trùng" in code.comment.text
