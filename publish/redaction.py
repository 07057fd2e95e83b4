"""Blanking what a caller may not see in validation reports and rejected rows (the source file's cells).

Every report served anywhere (the loads API, a job's result, the upload's answer, the steward's report files)
passes through `redact_report`/`redact_row`: personal fields are blanked unless the caller is granted the
dataset's personal data, `personalWhen` fields on the rows where the condition holds (or cannot be told), and
the hidden values are scrubbed from every message that repeats them.
"""

from __future__ import annotations

import copy
from typing import Any

from core.catalog import Catalog, Dataset
from publish.access import Viewer, sees_personal

__all__ = ["HIDDEN", "redact_report", "redact_row", "redact_job_result"]

HIDDEN = "***"

def _rules(dataset: Dataset, viewer: Viewer) -> list[tuple[str, Any]]:
    """(personal field, its personalWhen or None) for each field this viewer must not see."""
    if sees_personal(dataset, viewer):
        return []
    return [(f.name, f.personal_when) for f in dataset.schema.fields if f.personal]


def _hidden_on_row(dataset: Dataset, rules: list[tuple[str, Any]], row: dict[str, Any]) -> list[str]:
    # a column the schema does not know (an unmapped source header) may hold anything: hidden as well
    hidden = [name for name in row if name not in dataset.schema.field_names]
    for name, when in rules:
        if when:
            value = row.get(when["field"])
            enum = dataset.schema.field(when["field"]).enum
            # shown only when the row clearly is not the personal case (a valid value other than `equals`)
            clearly_not = value not in (None, "", when.get("equals")) and (not enum or value in enum)
            if clearly_not:
                continue
        hidden.append(name)
    return hidden


def _scrub(text: Any, secrets: list[str]) -> Any:
    if not isinstance(text, str):
        return text
    for secret in secrets:
        text = text.replace(secret, HIDDEN)
    return text


def _secrets(row: dict[str, Any], hidden: list[str]) -> list[str]:
    values = {str(row[n]) for n in hidden if row.get(n) not in (None, "")}
    return sorted((v for v in values if len(v) >= 3), key=len, reverse=True)  # longest first: no partial leftovers


def redact_row(dataset: Dataset, viewer: Viewer, data: dict[str, Any], messages: list[Any]) -> tuple[dict[str, Any], list[Any]]:
    """A rejected row (source cells by field name) and its error messages, as this viewer may see them."""
    rules = _rules(dataset, viewer)
    if not rules:
        return data, messages
    hidden = _hidden_on_row(dataset, rules, data)
    secrets = _secrets(data, hidden)
    data = {k: (None if k in hidden else v) for k, v in data.items()}
    return data, [_scrub_deep(m, secrets) for m in messages]


def _scrub_deep(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _scrub_deep(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_deep(v, secrets) for v in value]
    return _scrub(value, secrets)


def redact_report(dataset: Dataset, viewer: Viewer, report: dict[str, Any]) -> dict[str, Any]:
    """A validation report (frictionless shape) with the cells and messages about hidden values blanked."""
    rules = _rules(dataset, viewer)
    if not rules or not report:
        return report
    report = copy.deepcopy(report)
    everything: set[str] = set()
    for task in report.get("tasks") or [{"labels": [], "errors": report.get("errors") or []}]:
        labels = task.get("labels") or []
        for error in task.get("errors") or []:
            cells = error.get("cells")
            if not isinstance(cells, list):
                # an error without the row's cells (a header or file error) names no value we could check
                continue
            row = dict(zip(labels, cells, strict=False))
            hidden = _hidden_on_row(dataset, rules, row)
            secrets = _secrets(row, hidden)
            everything.update(secrets)
            error["cells"] = [None if label in hidden else cell for label, cell in zip(labels, cells, strict=False)]
            if isinstance(error.get("fieldCells"), list):
                error["fieldCells"] = [None if name in hidden else cell for name, cell
                                       in zip(error.get("fieldNames") or [], error["fieldCells"], strict=False)]
            for key in ("cell", "message", "note", "messages", "description"):
                if key in error:
                    error[key] = None if key == "cell" and error.get("fieldName") in hidden else \
                        _scrub_deep(error[key], secrets)
    # what the normalisers changed (hub section): the row is not at hand, so every personal field is blanked
    personal = {name for name, _ in rules}
    for change in (report.get("hub") or {}).get("changes") or []:
        if isinstance(change, dict) and change.get("field") in personal:
            change["original"] = change["value"] = None
    # and the values seen hidden anywhere above are blanked wherever else the report repeats them
    scrubbed: dict[str, Any] = _scrub_deep(report, sorted(everything, key=len, reverse=True))
    return scrubbed


def redact_job_result(catalog: Catalog, dataset_id: str | None, result: dict[str, Any] | None,
                      viewer: Viewer) -> dict[str, Any] | None:
    """A job's result as `viewer` may see it: an ingest's report (and the load's report, if any) blanked."""
    if not result:
        return result
    if not dataset_id or dataset_id not in catalog.datasets:
        # a dataset no longer in the catalogue: which fields were personal cannot be told, so no cells at all
        return {k: v for k, v in result.items() if k not in ("report", "load")}
    dataset = catalog.dataset(dataset_id)
    out = dict(result)
    if isinstance(out.get("report"), dict):
        out["report"] = redact_report(dataset, viewer, out["report"])
    if isinstance(out.get("load"), dict) and isinstance(out["load"].get("report"), dict):
        out["load"] = {**out["load"], "report": redact_report(dataset, viewer, out["load"]["report"])}
    return out
