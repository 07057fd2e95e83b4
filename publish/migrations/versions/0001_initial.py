"""The hub's own tables: loads, rejected rows, clients, keys, grants, audit log, jobs, dataset stats.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

This first revision creates the tables as `publish.tables` defines them today. Later changes to those tables
must come as new revisions with explicit operations (`alembic revision --autogenerate` helps write them).
"""

from alembic import op

from publish.tables import HUB_TABLES

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for table in HUB_TABLES:
        table.create(bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(HUB_TABLES):
        table.drop(bind, checkfirst=True)
