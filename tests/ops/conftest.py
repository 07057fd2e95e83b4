"""Fixtures of the operations tests: Redis (the machine's, one database number per test module), API keys,
fresh PostgreSQL databases, and running `hub` commands as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from core.config import PROJECT_ROOT
from publish import clients
from publish.context import Hub
from tests.conftest import PG_URL_OPTIONS, POSTGRES_URL, require_postgres
from tests.hub_copies import Templates, communes_copy

REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379")
HUB = [sys.executable, "-m", "hub"]


def require(problem: str | None) -> None:
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)


def wait_for(condition: Callable[[], Any], what: str = "condition", timeout: float = 60, every: float = 0.2) -> Any:
    """Poll `condition` until it gives something true, and return that; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not after {timeout}s")


def redis_db_url() -> str:
    """A Redis URL on a database number of this test process's own (8 + the xdist worker's index, or HUB_TEST_REDIS_DB), emptied
    first: tests of one process run one after another, so a worker started by one test never takes another
    test's jobs. (xdist's loadgroup does not keep groups together with pytest 9, so we do not rely on it.)"""
    import redis

    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    db = 8 + int(worker[2:] or 0) % 6  # 8..13; others' tests use 15
    # Engineers running tests side by side on one machine each set their own number (HUB_TEST_REDIS_DB).
    db = int(os.environ.get("HUB_TEST_REDIS_DB", db))
    url = f"{REDIS_URL}/{db}"
    try:
        redis.Redis.from_url(url, socket_timeout=2).flushdb()
    except redis.RedisError as exc:
        require(f"Redis not usable at {url}: {exc}")
    return url


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url, socket_timeout=2).flushdb()


def api_key(hub: Hub, role: str) -> str:
    name = f"{role}-{uuid.uuid4().hex[:6]}"
    clients.create_client(hub.store, name, role=role)
    return clients.issue_key(hub.store, name).token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def hub_env(**settings: object) -> dict[str, str]:
    """The environment of a `hub` process with these settings (HUB_* names), nothing inherited from ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "PROMETHEUS_"))}
    env["HUB_CATALOG_PATH"] = str(PROJECT_ROOT / "catalog.yaml")
    env.update({f"HUB_{k.upper()}": str(v) for k, v in settings.items() if v is not None})
    return env


def run_hub(*args: str, env: dict[str, str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HUB, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


class PostgresDatabase:
    """A database of its own on the running server (CREATE DATABASE + PostGIS), dropped afterwards."""

    def __init__(self) -> None:
        self.name = "hub_ops_" + uuid.uuid4().hex[:10]
        base = sa.engine.make_url(POSTGRES_URL)
        url = base.set(database=self.name).render_as_string(hide_password=False)
        self.url = f"{url}{'&' if '?' in url else '?'}options={PG_URL_OPTIONS}"  # tests.conftest.PG_TEST_OPTIONS
        self._admin = base

    def create(self) -> PostgresDatabase:
        engine = sa.create_engine(self._admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        engine.dispose()
        engine = sa.create_engine(self.url)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
        engine.dispose()
        return self

    def drop(self) -> None:
        engine = sa.create_engine(self._admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture
def postgres_database() -> Iterator[PostgresDatabase]:
    require_postgres()
    db = PostgresDatabase().create()
    yield db
    db.drop()


@pytest.fixture(scope="session", params=["spatialite", "postgis"])
def communes_hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                 templates: Templates) -> Iterator[Hub]:
    """A hub with only the communes (admin-units) loaded, shared by the operations tests on one backend:
    every other dataset points at the communes, and loading them takes seconds, so once. Each test module
    writes to datasets of its own: uploads → heritage-sites, licences, sports-venues; jobs → accommodation,
    travel-agencies (and reads admin-units)."""
    copy = communes_copy(templates, request.param, tmp_path_factory.mktemp(f"communes-{request.param}"))
    yield copy.hub
    copy.close()
