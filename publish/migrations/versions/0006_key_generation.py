"""hub_key_generation: a counter every change to keys, clients and grants bumps (by trigger, whichever process or
tool made it), so every worker drops a key it remembers on its next request (publish/clients.py).

Revision ID: 0006_key_generation
Revises: 0005_load_hosts
Create Date: 2026-12-06

Triggers rather than code in publish.clients: an operator's UPDATE in psql or a restore counts too. The
columns listed are those a resolved key depends on; `last_used_at` (touched by lookups) is left out.
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0006_key_generation"
down_revision = "0005_load_hosts"
branch_labels = None
depends_on = None

BUMP = "UPDATE hub_key_generation SET n = n + 1 WHERE id = 1"
# trigger name -> (table, events)
TRIGGERS = {
    "hub_keys_changed": ("hub_keys", "UPDATE OF client_id, prefix, hash, expires_at, revoked_at"),
    "hub_keys_deleted": ("hub_keys", "DELETE"),
    "hub_clients_changed": ("hub_clients", "UPDATE OF name, role, disabled"),
    "hub_clients_deleted": ("hub_clients", "DELETE"),
    "hub_grants_added": ("hub_grants", "INSERT"),
    "hub_grants_changed": ("hub_grants", "UPDATE"),
    "hub_grants_deleted": ("hub_grants", "DELETE"),
}


def _has_table() -> bool:
    if context.is_offline_mode():
        return False
    return sa.inspect(op.get_bind()).has_table("hub_key_generation")


def upgrade() -> None:
    if not _has_table():
        op.create_table("hub_key_generation", sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                        sa.Column("n", sa.BigInteger, nullable=False))
    op.execute("INSERT INTO hub_key_generation (id, n) SELECT 1, 0 WHERE NOT EXISTS "
               "(SELECT 1 FROM hub_key_generation WHERE id = 1)")
    postgres = op.get_context().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE OR REPLACE FUNCTION hub_bump_key_generation() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN {BUMP}; RETURN NULL; END $$")
    for name, (table, events) in TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgres else ""))
        if postgres:  # once per statement: a revoke of all a client's keys bumps once
            op.execute(f"CREATE TRIGGER {name} AFTER {events} ON {table} FOR EACH STATEMENT "
                       "EXECUTE FUNCTION hub_bump_key_generation()")
        else:
            op.execute(f"CREATE TRIGGER {name} AFTER {events} ON {table} BEGIN {BUMP}; END")


def downgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    for name, (table, _) in TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS hub_bump_key_generation()")
    op.drop_table("hub_key_generation")
