"""The statistics of a report definition: every produced period's figures as one table, its Table Schema
generated from the definition, the access level it inherits, and the minimum-cell rule.

Access: a report is as restricted as the most restricted dataset it reads, unless the definition says
`aggregate_only: true` with a `min_cell`: then it is open, and a breakdown figure that counts fewer than
`min_cell` records is withheld (value and record count empty), so no person can be singled out. The totals
of an aggregate-only report are withheld by the same rule.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from core.catalog import ACCESS_LEVELS, Catalog
from core.reports import ReportDefinition
from publish.reports import tables
from publish.reports.compute import number
from publish.store import Store


def access_of(catalog: Catalog, definition: ReportDefinition) -> str:
    if definition.aggregate_only and definition.min_cell > 0:
        return "open"
    levels = [catalog.dataset(ds).access for ds in definition.datasets]
    return max(levels, key=ACCESS_LEVELS.index)


def schema(definition: ReportDefinition) -> dict[str, Any]:
    """The statistics table's Table Schema: one row per indicator × breakdown category × period."""
    enum_codes = [i.code for i in definition.indicators]

    def f(name: str, type_: str, vi: str, en: str, **extra: Any) -> dict[str, Any]:
        return {"name": name, "type": type_, "titles": {"vi": vi, "en": en}, **extra}

    return {
        "fields": [
            f("period", "string", "Kỳ báo cáo", "Period", constraints={"required": True}),
            f("period_start", "date", "Ngày đầu kỳ", "First day of the period"),
            f("period_end", "date", "Ngày cuối kỳ", "Last day of the period"),
            f("indicator", "string", "Mã chỉ tiêu", "Indicator code", constraints={"required": True, "enum": enum_codes},
              enumLabels={i.code: i.name for i in definition.indicators}),
            f("unit", "string", "Đơn vị tính", "Unit"),
            f("breakdown", "string", "Chia theo (trường)", "Breakdown (fields)",
              description="'' for the indicator's total; field names joined by '|'"),
            f("category", "string", "Nhóm", "Category", description="the breakdown fields' values joined by '|'"),
            f("value", "number", "Giá trị", "Value", description=f"empty when withheld (fewer than {definition.min_cell} records)"
              if definition.min_cell else "the figure"),
            f("records", "integer", "Số bản ghi", "Records counted"),
        ],
        "primaryKey": ["period", "indicator", "breakdown", "category"],
        "title": definition.raw["title"],
        "form": definition.form,
    }


def rows(store: Store, definition: ReportDefinition) -> list[dict[str, Any]]:
    """Every produced period's figures, oldest period first, with the minimum-cell rule applied."""
    r, c = tables.runs, tables.rows
    stmt = (sa.select(r.c.period, r.c.period_start, r.c.period_end, c.c.indicator, c.c.breakdown, c.c.category,
                      c.c.value, c.c.records)
            .join(c, c.c.run_id == r.c.id)
            .where(r.c.report == definition.id, r.c.status == "produced")
            .order_by(r.c.period_start, c.c.seq))
    units = {i.code: i.unit_text("vi") for i in definition.indicators}
    minimum = definition.min_cell if definition.aggregate_only else 0
    with store.read_engine.connect() as conn:
        found = conn.execute(stmt).all()
    out = []
    for x in found:
        withheld = minimum and x.records < minimum
        out.append({"period": x.period, "period_start": x.period_start.isoformat(),
                    "period_end": (x.period_end.fromordinal(x.period_end.toordinal() - 1)).isoformat(),
                    "indicator": x.indicator, "unit": units.get(x.indicator, ""), "breakdown": x.breakdown,
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
