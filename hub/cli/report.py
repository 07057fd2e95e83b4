"""`hub report LOAD_ID`: the steward's files of a stored load; and the summary `hub validate` prints.

The files are the same three `hub validate` writes (validate/render_files.py): report.json, report.html and
rows-to-fix.xlsx, rendered again from the report and rejected rows kept with the load.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import click

from hub.cli.common import console, open_hub, print_table
from validate.render_model import TYPE_TITLES, label

__all__ = ["print_files", "print_summary", "report"]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def print_summary(report: dict[str, Any], *, lang: str = "vi", status: str | None = None, errors: int = 20) -> None:
    """A rich table: rows, errors by type, quality score and failed expectations; then the first errors."""
    task = (report.get("tasks") or [{}])[0]
    found = task.get("errors") or []
    hub = report.get("hub") or {}
    quality = report.get("quality") or {}
    rows_read = int(hub.get("rows_read") or task.get("stats", {}).get("rows") or 0)
    bad_rows = len({e.get("rowNumber") for e in found})
    result = status or ("valid" if report.get("valid") else "invalid")
    if quality.get("blocked"):
        result = "blocked"
    lines: list[list[Any]] = [
        [label("dataset", lang), hub.get("dataset") or task.get("name")],
        [label("file", lang), (hub.get("source") or {}).get("file") or task.get("place")],
        [label("status", lang), label(result, lang) if result in ("valid", "invalid", "blocked") else result],
        [label("rows_read", lang), f"{rows_read:,}"],
        [label("rows_valid", lang), f"{rows_read - bad_rows:,}"],
        [label("rows_rejected", lang), f"{bad_rows:,}"],
    ]
    for kind, count in Counter(e.get("type") for e in found).most_common():
        lines.append([f"  {(TYPE_TITLES.get(kind) or {}).get(lang, kind)} ({kind})", f"{count:,}"])
    lines.append([label("changes", lang), f"{hub.get('changes_total', 0):,}"])
    lines.append([label("quality_score", lang), _pct(hub.get("quality_score"))])
    for e in quality.get("expectations") or []:
        if not e.get("success"):
            mark = "⛔" if e.get("severity") == "block" else "⚠"
            lines.append([f"  {mark} {e['description'].get(lang) or e['description']['vi']}",
                          f"{e.get('unexpected', 0):,} / {e.get('checked', 0):,}"])
    print_table(label("title", lang), [label("summary", lang), label("value", lang)], lines)
    for e in found[:errors]:
        console.print(f"  • {(e.get('messages') or {}).get(lang) or e.get('message')}", markup=False)
    if len(found) > errors:
        console.print(f"  … {label('more', lang, n=len(found) - errors)}")


def print_files(paths: dict[str, Path]) -> None:
    for path in paths.values():
        console.print(f"  → {path}", markup=False, highlight=False)


@click.command()
@click.argument("load_id", type=int)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Folder for report.json, report.html and rows-to-fix.xlsx.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="Language of the HTML report and the summary.")
def report(load_id: int, out: Path, lang: str) -> None:
    """Write the report files of a stored load (see `hub versions DATASET --all` for load ids)."""
    from publish.load_reports import stored_report
    from validate.render_files import write_report_files

    hub = open_hub(init=True)
    dataset, stored, rows = stored_report(hub.store, load_id)
    print_summary(stored, lang=lang)
    print_files(write_report_files(stored, out, rows, lang=lang, schema=dataset.schema,
                                   dataset_title=dataset.title(lang)))
