"""`hub migrate`: the upgrade path an operator follows, and the SQL they can review first."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from publish import migrate
from publish.db import create_engine
from tests.ops.conftest import hub_env, run_hub


def test_sql_for_review_then_migrate_then_current(tmp_path: Path) -> None:
    env = hub_env(database_url=f"sqlite:///{tmp_path / 'hub.db'}", storage_dir=tmp_path / "storage")
    sql = run_hub("migrate", "--sql", env=env, cwd=tmp_path)
    assert sql.returncode == 0, sql.stderr
    assert "CREATE TABLE hub_jobs" in sql.stdout and "heartbeat_at" in sql.stdout
    assert "CREATE TABLE hub_loads" in sql.stdout

    done = run_hub("migrate", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    current = run_hub("migrate", "--current", env=env, cwd=tmp_path)
    assert "up to date" in current.stdout and ",".join(migrate.latest_revisions()) in current.stdout
    engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    assert sa.inspect(engine).has_table("ds_heritage_sites")  # dataset tables too
    engine.dispose()
    again = run_hub("migrate", "--sql", env=env, cwd=tmp_path)
    assert "CREATE TABLE" not in again.stdout  # nothing left to do: the SQL starts from where the database is


def test_database_of_the_first_release_gains_the_job_columns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = create_engine(url)
    migrate.upgrade(engine, "0001")
    with engine.begin() as conn:  # hub_jobs as the first release created it
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_hub_jobs_status")
        conn.exec_driver_sql("ALTER TABLE hub_jobs DROP COLUMN heartbeat_at")
        conn.exec_driver_sql("ALTER TABLE hub_jobs DROP COLUMN worker")
    assert migrate.pending(engine)
    env = hub_env(database_url=url, storage_dir=tmp_path / "storage")
    listed = run_hub("migrate", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "0001 →" in listed.stdout
    columns = {c["name"] for c in sa.inspect(engine).get_columns("hub_jobs")}
    assert {"worker", "heartbeat_at"} <= columns
    assert not migrate.pending(engine)
    engine.dispose()
