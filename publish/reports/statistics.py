"""The statistics of a report definition: every produced period's figures as one table, published as the
report's statistics dataset (its Table Schema and catalogue entry generated from the definition by
core/statistics.py), the access level it inherits, and the minimum-cell rule.

Access: a report is as restricted as the most restricted dataset it reads, unless the definition says
`aggregate_only: true` with a `min_cell`: then it is open, and a figure that counts fewer than `min_cell`
records is withheld: empty in `rows` (the report's own statistics answer), absent from the dataset. The totals
of an aggregate-only report are withheld by the same rule.

Each produced period is published by `publish`: every produced period's rows become the dataset's next
version through the normal pipeline (validated against the generated schema, a versioned load with its
provenance), so history, exports, CKAN, DCAT and the web site need nothing of their own.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from core import statistics as generated
from core.catalog import Catalog
from core.reports import ReportDefinition
from publish.reports import tables
from publish.reports.compute import Cell, number
from publish.store import Store

if TYPE_CHECKING:
    from publish.pipeline import Outcome


def access_of(catalog: Catalog, definition: ReportDefinition) -> str:
    return generated.access_of(catalog, definition)


def schema(definition: ReportDefinition) -> dict[str, Any]:
    """The statistics table's Table Schema: one row per indicator × breakdown category × period."""
    return generated.schema_descriptor(definition)


def rows(store: Store, definition: ReportDefinition) -> list[dict[str, Any]]:
    """Every produced period's figures, oldest period first, with the minimum-cell rule applied (a withheld
    cell's value and records are None)."""
    from publish.reports.forms import Labels

    r, c = tables.runs, tables.rows
    stmt = (sa.select(r.c.period, r.c.period_start, r.c.period_end, c.c.indicator, c.c.breakdown, c.c.category,
                      c.c.value, c.c.records)
            .join(c, c.c.run_id == r.c.id)
            .where(r.c.report == definition.id, r.c.status == "produced")
            .order_by(r.c.period_start, c.c.seq))
    units = {i.code: i.unit_text("vi") for i in definition.indicators}
    minimum = generated.minimum_records(definition)
    with store.read_engine.connect() as conn:
        found = conn.execute(stmt).all()
    labels = Labels(store, definition, [Cell(x.indicator, x.breakdown, x.category, 0.0, 0) for x in found])
    out = []
    for x in found:
        withheld = minimum and x.records < minimum
        out.append({"period": x.period, "period_start": x.period_start.isoformat(),
                    "period_end": (x.period_end.fromordinal(x.period_end.toordinal() - 1)).isoformat(),
                    "indicator": x.indicator, "label": labels.line(x.indicator, x.breakdown, x.category),
                    "unit": units.get(x.indicator, ""), "breakdown": x.breakdown,
                    "category": x.category, "value": None if withheld else number(x.value),
                    "records": None if withheld else int(x.records)})
    return out


def series(store: Store, definition: ReportDefinition) -> dict[str, list[tuple[str, float | None]]]:
    """{indicator code: [(period, total), …]} oldest first, for the charts."""
    out: dict[str, list[tuple[str, float | None]]] = {i.code: [] for i in definition.indicators}
    for row in rows(store, definition):
        if not row["breakdown"]:
            out.setdefault(row["indicator"], []).append((row["period"], row["value"]))
    return out


def dataset_rows(store: Store, definition: ReportDefinition) -> list[dict[str, Any]]:
    """The statistics dataset's rows: every produced period's figures but the withheld ones."""
    return [row for row in rows(store, definition) if row["value"] is not None]


def publish(store: Store, definition: ReportDefinition, *, by: str | None = None) -> Outcome | None:
    """Load every produced period's figures as the statistics dataset's next version (no new version when
    nothing changed). The rows go through the pipeline as a CSV file, as `hub ingest` would read one."""
    from publish import pipeline

    fields = [f["name"] for f in generated.schema_descriptor(definition)["fields"]]
    found = dataset_rows(store, definition)
    if not found:  # nothing produced yet, or every cell withheld: no version to make
        return None
    with tempfile.TemporaryDirectory(prefix="hub-statistics-") as tmp:
        path = Path(tmp) / f"{definition.id}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(found)
        # every produced period is in the file, so nothing is lost; a changed definition may drop indicators
        return pipeline.run(store, definition.id, path, user=by or "hub reports",
                            source_name=f"{definition.id} (hub reports)", allow_shrink=True)
