"""hub_jobs: which process runs a job and its heartbeat, so a job whose worker died can be marked failed.

Revision ID: 0002_jobs
Revises: 0001
Create Date: 2026-11-27

Revision 0001 creates hub_* tables from today's `publish.tables`, so a database created after this change
already has the columns: add only what is missing. In offline mode (`hub migrate --sql`) the columns are
emitted only when the script starts from an existing revision (an upgrade), not from an empty database.
"""

from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0002_jobs"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS: list[sa.Column[Any]] = [sa.Column("worker", sa.String(200)), sa.Column("heartbeat_at", sa.DateTime)]


def _existing() -> tuple[set[str], set[str | None]]:
    if context.is_offline_mode():
        if context.get_starting_revision_argument() is None:
            return {c.name for c in COLUMNS}, {"ix_hub_jobs_status"}  # created whole by 0001
        return set(), set()
    inspector = sa.inspect(op.get_bind())
    return ({c["name"] for c in inspector.get_columns("hub_jobs")},
            {i["name"] for i in inspector.get_indexes("hub_jobs")})


def upgrade() -> None:
    columns, indexes = _existing()
    for column in COLUMNS:
        if column.name not in columns:
            op.add_column("hub_jobs", column.copy())
    if "ix_hub_jobs_status" not in indexes:
        op.create_index("ix_hub_jobs_status", "hub_jobs", ["status"])


def downgrade() -> None:
    op.drop_index("ix_hub_jobs_status", table_name="hub_jobs")
    with op.batch_alter_table("hub_jobs") as batch:
        for column in COLUMNS:
            batch.drop_column(column.name)
