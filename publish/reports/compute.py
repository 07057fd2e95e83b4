"""Compute one periodic report for one period, as the data stood at the period's end.

For each dataset a report reads, the version used is the newest one committed (hub_loads.finished_at) before
the period ended; rows "as of version v" are `_from <= v AND (_to IS NULL OR _to > v)`. Every figure is one
GROUP BY in the database (SQLite and PostgreSQL alike): no dataset is read into Python. A version loaded after
the period cannot change the report, and recomputing it gives the same rows, byte for byte (`rows_csv`).

A produced report is a row of hub_report_runs, unique per (report, period): the insert that creates it is the
claim, so two processes never produce the same report twice; a producer silent past its lease is presumed
dead and the next one takes over.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from core.errors import InputError, LoadConflict, NotFound
from core.reports import Indicator, Period, ReportDefinition, fixed_values, parse_period
from publish import tables as hub_tables
from publish.db import inserted_id, write_transaction
from publish.reports import tables
from publish.store import Store, utcnow

LEASE = timedelta(minutes=10)
ROW_COLUMNS = ["indicator", "breakdown", "category", "value", "records"]


@dataclass
class Cell:
    indicator: str
    breakdown: str
    category: str
    value: float
    records: int

    def to_dict(self) -> dict[str, Any]:
        return {"indicator": self.indicator, "breakdown": self.breakdown, "category": self.category,
                "value": number(self.value), "records": self.records}


@dataclass
class Produced:
    report: str
    period: str
    period_start: date
    period_end: date
    status: str
    versions: dict[str, int | None]
    computed_at: datetime | None
    computed_by: str | None
    rows_sha256: str | None
    cells: list[Cell] = field(default_factory=list)
    computed_now: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"report": self.report, "period": self.period, "period_start": self.period_start.isoformat(),
                "period_end": self.period_end.isoformat(), "status": self.status, "versions": self.versions,
                "computed_at": self.computed_at.isoformat() if self.computed_at else None,
                "computed_by": self.computed_by, "rows_sha256": self.rows_sha256,
                "rows": [c.to_dict() for c in self.cells]}


def number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(float(value), 6)


def text(value: Any) -> str:
    """A group value as stored text: the same on both backends (ints as ints, dates as ISO dates)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


# -- versions as of the period's end ------------------------------------------------------------------------
def versions_at(store: Store, datasets: list[str], instant: datetime,
                conn: sa.Connection | None = None) -> dict[str, int | None]:
    """{dataset: newest version committed before `instant` (naive UTC)}; None where there was none yet."""
    loads = hub_tables.loads
    stmt = (sa.select(loads.c.dataset, sa.func.max(loads.c.version))
            .where(loads.c.dataset.in_(datasets), loads.c.status == "committed", loads.c.version.is_not(None),
                   loads.c.finished_at < instant)
            .group_by(loads.c.dataset))
    if conn is None:
        with store.read_engine.connect() as c:
            found = dict(c.execute(stmt).all())
    else:
        found = dict(conn.execute(stmt).all())
    return {ds: (int(found[ds]) if found.get(ds) is not None else None) for ds in sorted(datasets)}


# -- the GROUP BY of one indicator --------------------------------------------------------------------------
def _condition(column: sa.ColumnElement[Any], condition: Any) -> sa.ColumnElement[bool]:
    if isinstance(condition, dict):
        parts: list[sa.ColumnElement[bool]] = []
        if "not" in condition:
            values = condition["not"] if isinstance(condition["not"], list) else [condition["not"]]
            parts.append(sa.or_(column.is_(None), column.not_in(values)))
        if "present" in condition:
            parts.append(column.is_not(None) if condition["present"] else column.is_(None))
        return sa.and_(*parts)
    if isinstance(condition, list):
        return column.in_(condition)
    if condition is None:
        return column.is_(None)
    equal: sa.ColumnElement[bool] = column == condition  # a comparison with Any is Any to mypy
    return equal


def _measured(indicator: Indicator) -> str:
    """The field a `sum` or `count_in_period` indicator reads (core.reports requires one for those measures)."""
    assert indicator.field is not None, indicator.code
    return indicator.field


def _scan_key(indicator: Indicator) -> tuple[Any, ...]:
    """Indicators with the same key read the same rows the same way and share one scan (counts and sums of
    the same establishments, say): only what they measure differs."""
    period_field = indicator.field if indicator.measure == "count_in_period" else None
    return (indicator.dataset, json.dumps(indicator.where, sort_keys=True, default=str), period_field,
            indicator.breakdowns)


def indicator_statement(store: Store, indicators: list[Indicator], version: int,
                        period: Period) -> sa.CompoundSelect[Any]:
    """One statement for all the figures of `indicators` (one scan key, see _scan_key), reading the dataset once:

        WITH fine AS (SELECT <every breakdown field>, count(*) AS records, sum(<field>) AS value_1, …
                      FROM <dataset as of version> WHERE <filters> GROUP BY <every breakdown field>)
        SELECT 0, NULL…, sum(records), sum(value_1), … FROM fine                           -- the totals
        UNION ALL SELECT 1, <breakdown 1 fields>, NULL…, sum(records), sum(value_1), … FROM fine GROUP BY …
        …

    The finest grouping is small (types × ranks × communes: thousands of rows at most), so each breakdown is
    a GROUP BY over it instead of another scan of the dataset (a million rows: one scan instead of six)."""
    first = indicators[0]
    table = store.table(first.dataset)
    where: list[sa.ColumnElement[bool]] = [table.c._from <= version,
                                           sa.or_(table.c._to.is_(None), table.c._to > version)]
    for name, condition in sorted(first.where.items()):
        where.append(_condition(table.c[name], condition))
    if first.measure == "count_in_period":
        column = table.c[_measured(first)]
        start, end = period.start, period.end
        if isinstance(column.type, sa.DateTime):
            start, end = datetime.combine(start, datetime.min.time()), datetime.combine(end, datetime.min.time())
        where += [column >= start, column < end]
    sums = [sa.func.coalesce(sa.func.sum(table.c[_measured(i)]), 0).label(f"value_{n}")
            for n, i in enumerate(indicators) if i.measure == "sum"]
    fields = list(dict.fromkeys(f for breakdown in first.breakdowns for f in breakdown))
    groups = [table.c[f].label(f) for f in fields]
    fine = (sa.select(*groups, sa.func.count().label("records"), *sums).where(*where)
            .group_by(*[table.c[f] for f in fields]).cte("fine"))
    parts = []
    for index, breakdown in enumerate(((), *first.breakdowns)):
        columns = [fine.c[f] if f in breakdown else sa.cast(sa.null(), table.c[f].type).label(f) for f in fields]
        part = sa.select(sa.literal(index).label("b"), *columns, sa.func.sum(fine.c.records).label("records"),
                         *[sa.func.sum(fine.c[s.name]).label(s.name) for s in sums])
        if breakdown:
            part = part.group_by(*[fine.c[f] for f in breakdown])
        parts.append(part)
    return sa.union_all(*parts)


def compute_cells(store: Store, definition: ReportDefinition, period: Period, versions: dict[str, int | None],
                  conn: sa.Connection) -> list[Cell]:
    scans: dict[tuple[Any, ...], list[Indicator]] = {}
    for indicator in definition.indicators:
        scans.setdefault(_scan_key(indicator), []).append(indicator)
    found: dict[str, dict[int, list[Cell]]] = {}
    for indicators in scans.values():
        first = indicators[0]
        version = versions.get(first.dataset)
        breakdowns = ((), *first.breakdowns)
        fields = list(dict.fromkeys(f for breakdown in first.breakdowns for f in breakdown))
        for indicator in indicators:
            found[indicator.code] = {i: [] for i in range(len(breakdowns))}
        if version is None:
            continue
        for row in conn.execute(indicator_statement(store, indicators, version, period)):
            index = int(row[0])
            records = int(row.records or 0)
            if index and not records:
                continue
            values = dict(zip(fields, row[1:1 + len(fields)], strict=True))
            breakdown = breakdowns[index]
            category = "|".join(text(values[f]) for f in breakdown)
            for n, indicator in enumerate(indicators):
                value = float(row._mapping[f"value_{n}"] or 0) if indicator.measure == "sum" else float(records)
                found[indicator.code][index].append(Cell(indicator.code, "|".join(breakdown), category, value, records))
    cells: list[Cell] = []
    listings = _Listings(store, versions, conn)
    for indicator in definition.indicators:  # in the definition's order, each total first
        mine = found[indicator.code]
        if not mine[0]:  # the total always has a row, zero when nothing matched
            mine[0].append(Cell(indicator.code, "", "", 0.0, 0))
        for index, breakdown in enumerate(indicator.breakdowns, start=1):
            mine[index].extend(_zeros(indicator, breakdown, mine[index], listings))
        for index in sorted(mine):
            cells.extend(sorted(mine[index], key=lambda c: c.category))
    return cells


class _Listings:
    """Every value of a field, as stored text: the schema's fixed list (core.reports.fixed_values), or the keys of
    the dataset it references as of the version the report reads (every commune, for `all_values`)."""

    def __init__(self, store: Store, versions: dict[str, int | None], conn: sa.Connection) -> None:
        self.store, self.versions, self.conn = store, versions, conn
        self.keys: dict[tuple[str, str], list[str]] = {}

    def fixed(self, indicator: Indicator) -> dict[str, list[str]]:
        schema = self.store.catalog.dataset(indicator.dataset).schema
        out = {}
        for name in dict.fromkeys(f for b in indicator.breakdowns for f in b):
            values = fixed_values(schema.field(name))
            if values is not None:
                out[name] = values
        return out

    def values(self, indicator: Indicator, name: str, fixed: dict[str, list[str]]) -> list[str]:
        if name not in indicator.references:
            return fixed[name]
        dataset, key = indicator.references[name]
        if (dataset, key) not in self.keys:
            table = self.store.table(dataset)
            version = self.versions.get(dataset) or 0
            column = table.c[key]
            self.keys[(dataset, key)] = [text(v) for v in self.conn.execute(
                sa.select(column).distinct().where(table.c._from <= version,
                                                   sa.or_(table.c._to.is_(None), table.c._to > version))
                .order_by(column)).scalars()]
        return self.keys[(dataset, key)]


def _zeros(indicator: Indicator, breakdown: tuple[str, ...], found: list[Cell], listings: _Listings) -> list[Cell]:
    """A line with 0 for every listed category no record falls in (Indicator.listed), so the office form has
    the same lines every period."""
    fixed = listings.fixed(indicator)
    if not indicator.listed(breakdown, fixed):
        return []
    have = {c.category for c in found}
    combos = itertools.product(*(listings.values(indicator, f, fixed) for f in breakdown))
    return [Cell(indicator.code, "|".join(breakdown), category, 0.0, 0)
            for category in ("|".join(combo) for combo in combos) if category not in have]


def rows_csv(cells: list[Cell]) -> bytes:
    """The statistics rows as CSV bytes: what 'byte-identical' is checked on, and what rows_sha256 digests."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ROW_COLUMNS)
    for c in cells:
        writer.writerow([c.indicator, c.breakdown, c.category, number(c.value), c.records])
    return out.getvalue().encode("utf-8")


# -- producing and reading ----------------------------------------------------------------------------------
def _run_row(conn: sa.Connection, report: str, period: str) -> Any:
    r = tables.runs
    return conn.execute(sa.select(r).where(r.c.report == report, r.c.period == period)).first()


def _claim(store: Store, definition: ReportDefinition, period: Period, worker: str, *, force: bool) -> int | None:
    """Take the right to produce (report, period). Returns the run id to fill, or None when it is produced
    already and not forced. Raises LoadConflict while another live process produces it."""
    r = tables.runs
    now = utcnow()
    with write_transaction(store.engine) as conn:
        try:
            with conn.begin_nested():
                return inserted_id(conn.execute(r.insert().values(
                    report=definition.id, period=period.code, period_start=period.start, period_end=period.end,
                    status="producing", claimed_by=worker, lease_until=now + LEASE,
                )))
        except sa.exc.IntegrityError:
            pass
        row = _run_row(conn, definition.id, period.code)
        if row.status == "produced" and not force:
            return None
        # produced (forced recompute), or a producer whose lease ran out: take it over, if still so
        taken = conn.execute(r.update().where(
            r.c.id == row.id,
            sa.or_(r.c.status == "produced", r.c.lease_until < now) if force else r.c.lease_until < now,
        ).values(status="producing", claimed_by=worker, lease_until=now + LEASE)).rowcount
        if not taken:
            raise LoadConflict(f"Báo cáo «{definition.id}» kỳ {period.code} đang được {row.claimed_by} lập",
                               f"Report «{definition.id}» for {period.code} is being produced by {row.claimed_by}",
                               field="period")
        run_id: int = row.id
        return run_id


def produce(store: Store, definition: ReportDefinition, period: Period | str, *, force: bool = False,
            by: str | None = None, worker: str | None = None) -> Produced:
    """Compute and store the report for `period` (once: an already produced report is returned as stored,
    unless `force`, which recomputes it from the same versions)."""
    import os
    import socket

    period = parse_period(period, definition.period_kind) if isinstance(period, str) else period
    if period.kind != definition.period_kind:
        raise InputError(f"Báo cáo «{definition.id}» không theo kỳ {period.kind}",
                         f"Report «{definition.id}» is not {period.kind}ly", field="period")
    if utcnow() < period.end_utc:
        raise InputError(f"Kỳ {period.code} chưa kết thúc (kết thúc {period.end:%d/%m/%Y} 00:00 giờ Việt Nam)",
                         f"Period {period.code} has not ended yet (it ends {period.end.isoformat()} 00:00 Vietnam time)",
                         field="period")
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    run_id = _claim(store, definition, period, worker, force=force)
    if run_id is None:
        return read(store, definition.id, period.code)
    try:
        # read in one snapshot (no write lock held while the GROUP BYs run), then write in one transaction;
        # the versions of an ended period never change, so nothing read can be stale by the write
        with store.engine.connect() as conn, conn.begin():
            versions = versions_at(store, definition.datasets, period.end_utc, conn)
            missing = [ds for ds, v in versions.items() if v is None]
            if missing:
                raise NotFound(
                    f"Chưa có phiên bản nào của {', '.join(missing)} được công bố trước khi kỳ {period.code} kết thúc",
                    f"No version of {', '.join(missing)} was published before period {period.code} ended",
                    dataset=missing[0], field="period")
            cells = compute_cells(store, definition, period, versions, conn)
        digest = hashlib.sha256(rows_csv(cells)).hexdigest()
        with write_transaction(store.engine) as conn:
            conn.execute(tables.rows.delete().where(tables.rows.c.run_id == run_id))
            if cells:
                conn.execute(tables.rows.insert(), [
                    {"run_id": run_id, "seq": i, "indicator": c.indicator, "breakdown": c.breakdown,
                     "category": c.category, "value": c.value, "records": c.records} for i, c in enumerate(cells)])
            conn.execute(tables.runs.update().where(tables.runs.c.id == run_id).values(
                status="produced", versions=json.dumps(versions, sort_keys=True), rows_sha256=digest,
                row_count=len(cells), definition_sha256=definition.sha256, computed_at=utcnow(),
                computed_by=by or worker, lease_until=None))
    except BaseException:
        _release(store, run_id)
        raise
    produced = read(store, definition.id, period.code)
    produced.computed_now = True
    from publish.reports import statistics  # it reads this module's rows

    statistics.publish(store, definition, by=by or worker)
    return produced


def _release(store: Store, run_id: int) -> None:
    """A failed production gives the report back: a first attempt's row goes, a recompute's stays produced."""
    r = tables.runs
    with write_transaction(store.engine) as conn:
        conn.execute(r.delete().where(r.c.id == run_id, r.c.status == "producing", r.c.computed_at.is_(None)))
        conn.execute(r.update().where(r.c.id == run_id, r.c.status == "producing")
                     .values(status="produced", lease_until=None))


def read(store: Store, report: str, period: str) -> Produced:
    with store.read_engine.connect() as conn:
        run = _run_row(conn, report, period)
        if run is None or run.status != "produced":
            raise NotFound(f"Chưa lập báo cáo «{report}» kỳ {period}", f"Report «{report}» for {period} is not produced",
                           field="period")
        t = tables.rows
        cells = [Cell(r.indicator, r.breakdown, r.category, float(r.value), int(r.records)) for r in conn.execute(
            sa.select(t.c.indicator, t.c.breakdown, t.c.category, t.c.value, t.c.records)
            .where(t.c.run_id == run.id).order_by(t.c.seq))]
    return Produced(run.report, run.period, run.period_start, run.period_end, run.status,
                    json.loads(run.versions or "{}"), run.computed_at, run.computed_by, run.rows_sha256, cells)


def produced_runs(store: Store, report: str | None = None) -> list[dict[str, Any]]:
    """Produced reports (without their rows), newest period first."""
    r = tables.runs
    stmt = sa.select(r).where(r.c.status == "produced").order_by(r.c.report, r.c.period_start.desc())
    if report:
        stmt = stmt.where(r.c.report == report)
    with store.read_engine.connect() as conn:
        return [{"report": x.report, "period": x.period, "versions": json.loads(x.versions or "{}"),
                 "computed_at": x.computed_at, "rows": x.row_count, "rows_sha256": x.rows_sha256}
                for x in conn.execute(stmt)]
