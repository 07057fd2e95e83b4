"""Run frictionless and our Validator on the same CSV and schema; compare what they report."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from validate import validate_file

Key = tuple[Any, ...]


def frictionless_report(
    path: Path,
    schema: dict[str, Any],
    *,
    limit_errors: int | None = None,
    resources: dict[str, tuple[Path, dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """frictionless's report.to_dict() for one CSV; `resources` are other tables its foreign keys name."""
    from frictionless import Dialect, Package, Resource, Schema

    # frictionless guesses the header row from the average width of the first 100 rows: on a file of mostly
    # short or blank rows it picks a later row. Ingest has already found the header: row 1.

    options = {"limit_errors": limit_errors} if limit_errors else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if resources:
            descriptors = [{"name": "main", "path": path.name, "schema": schema, "dialect": {"headerRows": [1]}}]
            for name, (other, other_schema) in resources.items():
                descriptors.append({"name": name, "path": other.name, "schema": other_schema})
            package = Package(
                {
                    "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
                    "resources": descriptors,
                },
                basepath=str(path.parent),
            )
            report = package.get_resource("main").validate(**options)
        else:
            resource = Resource(
                path.name,
                basepath=str(path.parent),
                schema=Schema.from_descriptor(schema),
                dialect=Dialect(header_rows=[1]),
            )
            report = resource.validate(**options)
    return report.to_dict()


def keys_of(report: dict[str, Any]) -> list[Key]:
    return [
        (e["type"], e["rowNumber"], e.get("fieldName"), e.get("fieldNumber"), e.get("note"), e.get("cell"))
        for e in report["tasks"][0]["errors"]
    ]


def compare(
    path: Path,
    schema: dict[str, Any],
    *,
    limit_errors: int | None = None,
    foreign_keys: dict[str, set[tuple[Any, ...]]] | None = None,
    resources: dict[str, tuple[Path, dict[str, Any]]] | None = None,
    batch_size: int = 7,
) -> tuple[dict[str, Any], dict[str, Any]]:
    theirs = frictionless_report(path, schema, limit_errors=limit_errors, resources=resources)
    ours = validate_file(
        path, schema, limit_errors=limit_errors, foreign_keys=foreign_keys, batch_size=batch_size
    ).to_dict()
    return theirs, ours


def assert_same(theirs: dict[str, Any], ours: dict[str, Any]) -> None:
    t_keys, o_keys = keys_of(theirs), keys_of(ours)
    if t_keys != o_keys:
        diff = [(k, a, b) for k, (a, b) in enumerate(zip(t_keys, o_keys, strict=False)) if a != b][:5]
        raise AssertionError(
            f"{len(t_keys)} vs {len(o_keys)} errors; first differences: {diff}\n"
            f"frictionless tail: {t_keys[len(o_keys) :][:5]}\nours tail: {o_keys[len(t_keys) :][:5]}"
        )
    t_task, o_task = theirs["tasks"][0], ours["tasks"][0]
    assert t_task["stats"]["rows"] == o_task["stats"]["rows"], (t_task["stats"], o_task["stats"])
    assert t_task["warnings"] == o_task["warnings"]
    assert theirs["valid"] == ours["valid"]
    for t_err, o_err in zip(t_task["errors"], o_task["errors"], strict=True):
        for key, value in t_err.items():
            assert o_err.get(key) == value, (key, t_err, o_err)
