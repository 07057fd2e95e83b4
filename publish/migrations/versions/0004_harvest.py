"""Harvest history: hub_harvests (every harvest attempt, its provenance and its outcome).

Revision ID: 0004_harvest
Revises: 0003_reports
Create Date: 2026-12-06
"""

from alembic import op

from publish.harvest.tables import harvests

revision = "0004_harvest"
down_revision = "0003_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    harvests.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    harvests.drop(op.get_bind(), checkfirst=True)
