"""The steward's three files for one validation: report.json, report.html and rows-to-fix.xlsx.

`hub validate`, `hub ingest --out`, `hub report LOAD_ID` and the steward workspace all call
`write_report_files`, so the files look the same wherever they come from. The report dict is the one
`publish.pipeline.run` returns and `hub_loads.report` keeps; the rows are the rejected rows (from the run, or
from hub_rejected_rows for a stored load).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, cast

from core.catalog import Schema
from core.files import atomic_write, storage_errors

from .render_html import render_html
from .render_xlsx import Row, write_rows_to_fix

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
ROWS_TO_FIX = "rows-to-fix.xlsx"

__all__ = ["REPORT_HTML", "REPORT_JSON", "ROWS_TO_FIX", "write_report_files"]


def _atomic_write(path: Path, write: Callable[[TextIO], Any]) -> None:
    """`write` fills a partial file next to `path`, which then replaces `path` at once (removed on failure; a
    full or read-only disk is a StorageError)."""
    with atomic_write(path, "w", fsync=False) as handle:
        write(cast(TextIO, handle))  # opened in text mode


def _json(report: dict[str, Any]) -> Callable[[TextIO], None]:
    def write(handle: TextIO) -> None:  # streamed: a million-row file's report is tens of MB
        json.dump(report, handle, ensure_ascii=False, indent=1, default=str)
        handle.write("\n")
    return write


def write_report_files(report: dict[str, Any], out_dir: Path | str, rows: list[Row], *, lang: str = "vi",
                       schema: Schema | None = None, dataset_title: str | None = None) -> dict[str, Path]:
    """Write the three files into `out_dir` (created if needed); returns their paths by name."""
    out = Path(out_dir)
    with storage_errors(out):
        out.mkdir(parents=True, exist_ok=True)
    paths = {REPORT_JSON: out / REPORT_JSON, REPORT_HTML: out / REPORT_HTML, ROWS_TO_FIX: out / ROWS_TO_FIX}
    _atomic_write(paths[REPORT_JSON], _json(report))
    html = render_html(report, lang=lang, schema=schema, dataset_title=dataset_title)
    _atomic_write(paths[REPORT_HTML], lambda handle: handle.write(html))
    partial = out / f".{ROWS_TO_FIX}.part.xlsx"
    try:
        with storage_errors(paths[ROWS_TO_FIX]):
            write_rows_to_fix(partial, report, rows, schema.primary_key if schema else None)
            os.replace(partial, paths[ROWS_TO_FIX])
    finally:
        partial.unlink(missing_ok=True)
    return paths
