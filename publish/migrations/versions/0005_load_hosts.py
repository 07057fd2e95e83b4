"""hub_loads: the host, boot, PID namespace and heartbeat of a running load (publish/leases.py), so recovery
knows a load by more than its PID.

Revision ID: 0005_load_hosts
Revises: 0004_harvest
Create Date: 2026-12-06

Revision 0001 creates hub_* tables from today's `publish.tables`, so a database created after this change
already has the columns: add only what is missing (as 0002 does).
"""

from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0005_load_hosts"
down_revision = "0004_harvest"
branch_labels = None
depends_on = None

COLUMNS: list[sa.Column[Any]] = [sa.Column("host", sa.String(255)), sa.Column("boot_id", sa.String(64)),
                                  sa.Column("pid_ns", sa.String(64)), sa.Column("heartbeat_at", sa.DateTime)]


def _existing() -> set[str]:
    if context.is_offline_mode():
        if context.get_starting_revision_argument() is None:
            return {c.name for c in COLUMNS}  # created whole by 0001
        return set()
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns("hub_loads")}


def upgrade() -> None:
    columns = _existing()
    for column in COLUMNS:
        if column.name not in columns:
            op.add_column("hub_loads", column.copy())


def downgrade() -> None:
    with op.batch_alter_table("hub_loads") as batch:
        for column in COLUMNS:
            batch.drop_column(column.name)
