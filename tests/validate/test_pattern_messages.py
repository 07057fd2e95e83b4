"""Stewards read an example of the expected form, never a regular expression (issue 16, small item)."""

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
