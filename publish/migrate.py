"""`hub migrate`: bring the hub's own tables to the newest Alembic revision.

We upgrade to "heads" rather than "head": capabilities developed side by side may each add a revision on
top of the same parent, and an operator's upgrade must not stop at "multiple heads" because of it.
"""

from __future__ import annotations

import io
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LATEST = "heads"


def alembic_config(connection: sa.Connection | None = None, url: str | None = None,
                   output: io.StringIO | None = None) -> Config:
    cfg = Config(output_buffer=output) if output is not None else Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ConfigParser interpolation
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: sa.Engine, revision: str = LATEST) -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def upgrade_sql(url: str, revision: str = LATEST, *, start: str | None = None) -> str:
    """The SQL an upgrade from `start` (None: an empty database) to `revision` would run, for review."""
    output = io.StringIO()
    target = f"{start}:{revision}" if start else revision
    command.upgrade(alembic_config(url=url, output=output), target, sql=True)
    return output.getvalue()


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at; with several heads applied, they are joined by ','."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) or None


def latest_revisions() -> list[str]:
    """The newest revisions this version of the hub knows (what `hub migrate` brings a database to)."""
    return sorted(ScriptDirectory.from_config(alembic_config()).get_heads())


def pending(engine: sa.Engine) -> bool:
    """True when the database is behind this version of the hub."""
    current = set((current_revision(engine) or "").split(",")) - {""}
    return current != set(latest_revisions())
