"""The steward's three files for one validation: report.json, report.html and rows-to-fix.xlsx.

`hub validate`, `hub ingest --out`, `hub report LOAD_ID` and the steward workspace all call
`write_report_files`, so the files look the same wherever they come from. The report dict is the one
`hub.pipeline.run` returns and `hub_loads.report` keeps; the rows are the rejected rows (from the run, or
from hub_rejected_rows for a stored load).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hub.catalog import Schema

from .render_html import render_html
from .render_xlsx import Row, write_rows_to_fix

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
ROWS_TO_FIX = "rows-to-fix.xlsx"

__all__ = ["REPORT_HTML", "REPORT_JSON", "ROWS_TO_FIX", "write_report_files"]


def _atomic_write(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.part")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _atomic_json(path: Path, data: dict[str, Any]) -> None:
    partial = path.with_name(f".{path.name}.part")
    with partial.open("w", encoding="utf-8") as handle:  # streamed: a million-row file's report is tens of MB
        json.dump(data, handle, ensure_ascii=False, indent=1, default=str)
        handle.write("\n")
    os.replace(partial, path)


def write_report_files(report: dict[str, Any], out_dir: Path | str, rows: list[Row], *, lang: str = "vi",
                       schema: Schema | None = None, dataset_title: str | None = None) -> dict[str, Path]:
    """Write the three files into `out_dir` (created if needed); returns their paths by name."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {REPORT_JSON: out / REPORT_JSON, REPORT_HTML: out / REPORT_HTML, ROWS_TO_FIX: out / ROWS_TO_FIX}
    _atomic_json(paths[REPORT_JSON], report)
    _atomic_write(paths[REPORT_HTML], render_html(report, lang=lang, schema=schema, dataset_title=dataset_title))
    partial = out / f".{ROWS_TO_FIX}.part.xlsx"
    write_rows_to_fix(partial, report, rows)
    os.replace(partial, paths[ROWS_TO_FIX])
    return paths
