"""The validation report, in the shape of frictionless's `report.to_dict()` for one table task.

Errors keep frictionless's type codes, titles, descriptions, tags and English message (frictionless's own: those
of the errors the validator finds are held equal to the installed error classes' by a test, others are read from
them), plus our bilingual `messages` {vi, en}. The report is
the single record of a validation: the CLI prints it, publish stores it with the load, and the steward's
HTML/XLSX reports and the quality suites (Great Expectations) add to it later through `sections`, a dict of
named, JSON-serialisable extra parts (e.g. "quality": {...}) that `to_dict` carries along.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from functools import cache
from typing import Any

_ROW_KEYS = ("type", "title", "description", "message", "tags", "note", "cells", "rowNumber")
_CELL_KEYS = ("cell", "fieldName", "fieldNumber")
_FK_KEYS = ("fieldNames", "fieldCells", "referenceName", "referenceFieldNames")


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


_CELL_TAGS = ["#table", "#row", "#cell"]
_SHAPE = ("This row has {} values compared to the header row (the first row in the data source). A key concept is "
          "that all the rows in tabular data must have the same number of columns.")
# frictionless 5.21's title, description, tags and message template of each error the validator finds, so that
# a report with errors does not import frictionless (0.4 s and ~9 MB more in a big ingest); a test holds them
# equal to the installed frictionless's (tests/validate/test_reports.py)
KNOWN_ERRORS: dict[str, dict[str, Any]] = {
    "type-error": {
        "title": "Type Error", "description": "The value does not match the schema type and format for this field.",
        "tags": _CELL_TAGS,
        "template": 'Type error in the cell "{cell}" in row "{rowNumber}" and field "{fieldName}" at position '
                    '"{fieldNumber}": {note}'},
    "constraint-error": {
        "title": "Constraint Error", "description": "A field value does not conform to a constraint.",
        "tags": _CELL_TAGS,
        "template": 'The cell "{cell}" in row at position "{rowNumber}" and field "{fieldName}" at position '
                    '"{fieldNumber}" does not conform to a constraint: {note}'},
    "extra-cell": {
        "title": "Extra Cell", "description": _SHAPE.format("more"), "tags": _CELL_TAGS,
        "template": 'Row at position "{rowNumber}" has an extra value in field at position "{fieldNumber}"'},
    "missing-cell": {
        "title": "Missing Cell", "description": _SHAPE.format("less"), "tags": _CELL_TAGS,
        "template": 'Row at position "{rowNumber}" has a missing cell in field "{fieldName}" at position '
                    '"{fieldNumber}"'},
    "blank-row": {
        "title": "Blank Row", "description": "This row is empty. A row should contain at least one value.",
        "tags": ["#table", "#row"], "template": 'Row at position "{rowNumber}" is completely blank'},
    "unique-error": {
        "title": "Unique Error",
        "description": "This field is a unique field but it contains a value that has been used in another row.",
        "tags": _CELL_TAGS,
        "template": 'Row at position "{rowNumber}" has unique constraint violation in field "{fieldName}" at '
                    'position "{fieldNumber}": {note}'},
    "primary-key": {
        "title": "PrimaryKey Error", "description": "Values in the primary key fields should be unique for every row",
        "tags": ["#table", "#row"], "template": 'Row at position "{rowNumber}" violates the primary key: {note}'},
    "foreign-key": {
        "title": "ForeignKey Error",
        "description": "Values in the foreign key fields should exist in the reference table",
        "tags": ["#table", "#row"], "template": 'Row at position "{rowNumber}" violates the foreign key: {note}'},
}


def error_class_info(error_type: str) -> dict[str, Any]:
    """title, description, tags and message template of a frictionless error type."""
    known = KNOWN_ERRORS.get(error_type)
    return known if known is not None else frictionless_error_info(error_type)


@cache
def frictionless_error_info(error_type: str) -> dict[str, Any]:
    """error_class_info read from the installed frictionless's error classes."""
    from frictionless import errors

    for item in vars(errors).values():
        if isinstance(item, type) and getattr(item, "type", None) == error_type:
            error_class: Any = item  # a frictionless Error subclass
            return {
                "title": error_class.title,
                "description": error_class.description,
                "tags": list(error_class.tags),
                "template": error_class.template,
            }
    return {"title": error_type, "description": "", "tags": [], "template": "{note}"}


@dataclass
class ReportError:
    """One error. Cell errors have cell/fieldName/fieldNumber; foreign-key errors fieldNames/fieldCells..."""

    type: str
    rowNumber: int  # noqa: N815 - frictionless's key
    note: str = ""
    cells: list[str] = field(default_factory=list)
    cell: str | None = None
    fieldName: str | None = None  # noqa: N815
    fieldNumber: int | None = None  # noqa: N815
    fieldNames: list[str] | None = None  # noqa: N815
    fieldCells: list[str] | None = None  # noqa: N815
    referenceName: str | None = None  # noqa: N815
    referenceFieldNames: list[str] | None = None  # noqa: N815
    messages: dict[str, str] = field(default_factory=dict)
    constraint: str | None = None  # for constraint-error: which one (required, enum...)

    @property
    def title(self) -> str:
        return str(error_class_info(self.type)["title"])

    @property
    def description(self) -> str:
        return str(error_class_info(self.type)["description"])

    @property
    def tags(self) -> list[str]:
        return list(error_class_info(self.type)["tags"])

    @property
    def message(self) -> str:
        """frictionless's English message."""
        values = _Blank({k: v for k, v in self._frictionless_values().items() if v is not None})
        return string.Formatter().vformat(error_class_info(self.type)["template"], (), values)

    def _frictionless_values(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "note": self.note,
            "cells": self.cells,
            "rowNumber": self.rowNumber,
            "cell": self.cell,
            "fieldName": self.fieldName,
            "fieldNumber": self.fieldNumber,
            "fieldNames": self.fieldNames,
            "fieldCells": self.fieldCells,
            "referenceName": self.referenceName,
            "referenceFieldNames": self.referenceFieldNames,
        }

    def to_dict(self) -> dict[str, Any]:
        values = self._frictionless_values()
        values.update(title=self.title, description=self.description, message=self.message, tags=self.tags)
        keys = list(_ROW_KEYS)
        if self.fieldNumber is not None:
            keys += _CELL_KEYS
        if self.type == "foreign-key":
            keys += _FK_KEYS
        out = {key: values[key] for key in keys}
        out["messages"] = dict(self.messages)
        return out


@dataclass
class Report:
    valid: bool
    stats: dict[str, Any]  # rows, errors, warnings, seconds, fields (+ bytes, md5, sha256 for files)
    errors: list[ReportError]
    warnings: list[str] = field(default_factory=list)
    name: str = ""
    place: str = "<memory>"
    labels: list[str] = field(default_factory=list)
    #: rows that `Validator.check` passed as valid but that `finish` found invalid (a reference to the same
    #: file that no row satisfied): drop them before publishing.
    late_invalid_rows: list[int] = field(default_factory=list)
    sections: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        task_stats = {
            "errors": self.stats["errors"],
            "warnings": self.stats["warnings"],
            "seconds": self.stats.get("seconds", 0.0),
        }
        for key in ("md5", "sha256", "bytes"):
            if key in self.stats:
                task_stats[key] = self.stats[key]
        task_stats["fields"] = self.stats.get("fields", len(self.labels))
        task_stats["rows"] = self.stats["rows"]
        task = {
            "name": self.name,
            "type": "table",
            "valid": self.valid,
            "place": self.place,
            "labels": list(self.labels),
            "stats": task_stats,
            "warnings": list(self.warnings),
            "errors": [e.to_dict() for e in self.errors],
        }
        out: dict[str, Any] = {
            "valid": self.valid,
            "stats": {
                "tasks": 1,
                "errors": self.stats["errors"],
                "warnings": self.stats["warnings"],
                "seconds": self.stats.get("seconds", 0.0),
            },
            "warnings": [],
            "errors": [],
            "tasks": [task],
        }
        out.update({k: v for k, v in self.sections.items() if k not in out})
        return out

    def flatten(self, spec: tuple[str, ...] = ("rowNumber", "fieldNumber", "type")) -> list[list[Any]]:
        """Like frictionless's `report.flatten()`: one list per error with the asked properties."""
        return [[e._frictionless_values().get(key) for key in spec] for e in self.errors]
