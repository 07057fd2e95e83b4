"""Periodic reports: produced reports and their rows, deliveries, and the scheduler's claims.

Revision ID: 0003_reports
Revises: 0002_jobs
Create Date: 2026-12-06
"""

from alembic import op

from publish.reports.tables import REPORT_TABLES
from publish.schedule import claims

revision = "0003_reports"
down_revision = "0002_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for table in [*REPORT_TABLES, claims]:
        table.create(bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed([*REPORT_TABLES, claims]):
        table.drop(bind, checkfirst=True)
