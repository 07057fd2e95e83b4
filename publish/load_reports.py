"""A stored load's report, as the steward's files or page: the report kept with the load (hub_loads.report)
and its rejected rows (hub_rejected_rows), rendered the same way as a fresh validation.

The CLI (`hub report LOAD_ID`) runs on the server for the operator and renders everything; the web workspace
passes the signed-in steward as `viewer`, and personal values are blanked as the reports API blanks them
(publish/redaction.py), unless the steward is granted the dataset's personal data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.catalog import Dataset
from publish import versions
from publish.access import Viewer
from publish.redaction import redact_report, redact_row
from publish.store import Store
from validate.render_files import write_report_files

MAX_ROWS = 200_000  # rejected rows put into rows-to-fix.xlsx

__all__ = ["load_files", "stored_report"]


def stored_report(store: Store, load_id: int, viewer: Viewer | None = None
                  ) -> tuple[Dataset, dict[str, Any], list[tuple[int, dict[str, Any]]]]:
    """(dataset, report, rejected rows) of a load, blanked for `viewer` when one is given."""
    summary = versions.load_summary(store, load_id)
    dataset = store.catalog.dataset(summary["dataset"])
    report = versions.load_report(store, load_id) or {}
    rows = [(int(r["row"]), r["data"]) for r in versions.rejected_rows(store, load_id, limit=MAX_ROWS)]
    if viewer is not None:
        report = redact_report(dataset, viewer, report)
        rows = [(n, redact_row(dataset, viewer, data, [])[0]) for n, data in rows]
    return dataset, report, rows


def load_files(store: Store, load_id: int, out_dir: Path | str, *, lang: str = "vi",
               viewer: Viewer | None = None) -> dict[str, Path]:
    """report.json, report.html and rows-to-fix.xlsx of a stored load, written into `out_dir`."""
    dataset, report, rows = stored_report(store, load_id, viewer)
    return write_report_files(report, out_dir, rows, lang=lang, schema=dataset.schema,
                              dataset_title=dataset.title(lang))
