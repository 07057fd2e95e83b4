"""The report tables (created by migration 0003_reports, with publish.schedule.claims). They share publish.tables.metadata so Alembic's
autogenerate sees them, but are not in HUB_TABLES: revision 0001 must not create them."""

from __future__ import annotations

import sqlalchemy as sa

from publish.tables import metadata

runs = sa.Table(
    "hub_report_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("report", sa.String(100), nullable=False),
    sa.Column("period", sa.String(10), nullable=False),  # 2026-09, 2026-Q3, 2026-H2, 2026
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),  # first day after the period
    sa.Column("status", sa.String(20), nullable=False),  # producing, produced
    sa.Column("versions", sa.Text),  # JSON {dataset: version current at the period's end}
    sa.Column("definition_sha256", sa.String(64)),
    sa.Column("rows_sha256", sa.String(64)),
    sa.Column("row_count", sa.Integer),
    sa.Column("computed_at", sa.DateTime),
    sa.Column("computed_by", sa.String(200)),
    sa.Column("claimed_by", sa.String(200)),  # the process producing it ("host:pid")
    sa.Column("lease_until", sa.DateTime),  # a producer silent past this is presumed dead
    # one report per (report, period): two workers racing to produce it cannot both insert
    sa.UniqueConstraint("report", "period", name="uq_hub_report_runs_report_period"),
)

rows = sa.Table(
    "hub_report_rows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("hub_report_runs.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("seq", sa.Integer, nullable=False),  # order on the form
    sa.Column("indicator", sa.String(20), nullable=False),
    sa.Column("breakdown", sa.Text, nullable=False),  # '' for the total, else field names joined by '|'
    sa.Column("category", sa.Text, nullable=False),  # '' for the total, else the fields' values joined by '|'
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("records", sa.BigInteger, nullable=False),  # records counted in the cell (minimum-cell rule)
    sa.UniqueConstraint("run_id", "indicator", "breakdown", "category", name="uq_hub_report_rows_cell"),
)

deliveries = sa.Table(
    "hub_report_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("report", sa.String(100), nullable=False),
    sa.Column("period", sa.String(10), nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
    sa.Column("status", sa.String(20), nullable=False),  # sending, delivered, failed
    sa.Column("endpoint", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("first_attempt_at", sa.DateTime),
    sa.Column("last_attempt_at", sa.DateTime),
    sa.Column("next_attempt_at", sa.DateTime),
    sa.Column("delivered_at", sa.DateTime),
    sa.Column("receipt", sa.Text),  # the receiver's answer (JSON or text)
    sa.Column("last_error", sa.Text),
    sa.Column("claimed_by", sa.String(200)),
    sa.Column("lease_until", sa.DateTime),
    sa.UniqueConstraint("report", "period", name="uq_hub_report_deliveries_report_period"),
)

REPORT_TABLES = [runs, rows, deliveries]
