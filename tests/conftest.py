"""Shared fixtures: a real store on both backends (SpatiaLite file, PostGIS schema), a hub, a live server.

PostgreSQL is the machine's own at 127.0.0.1:5432 (override with HUB_TEST_POSTGRES_URL). Each test that
asks for a fresh store gets its own PostgreSQL schema (dropped afterwards) or SQLite file. When CI is set, an
unreachable PostgreSQL fails the run instead of skipping its tests.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from core.catalog import Catalog, load_catalog
from core.config import PROJECT_ROOT, Settings
from publish.context import Hub
from publish.store import Store

if TYPE_CHECKING:
    from tests.hub_copies import HubCopy, Templates

POSTGRES_URL = os.environ.get("HUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["spatialite", "postgis"]
# Every test connection to PostgreSQL (the hubs' URLs, also handed to the `hub` processes tests start, and the
# admin engines): a commit returns without waiting for its WAL to reach the disk. Commits stay atomic and are seen
# by every other session at once; only a crash of the server itself could lose the last few, and no test crashes
# the server. An fsync costs ~4 ms on the project's 2-core VMs, and most statements of the hub are commits (an
# audited request appends in a transaction of its own): 1,000 audit appends took 3.4-4.3 s, 0.2-0.3 s without it.
PG_TEST_OPTIONS = "-c synchronous_commit=off"
PG_URL_OPTIONS = PG_TEST_OPTIONS.replace(" ", "%20").replace("=", "%3D")  # in a URL's options= (after others)


def _postgres_problem() -> str | None:
    try:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
            conn.commit()
        engine.dispose()
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL + PostGIS not usable at {POSTGRES_URL}: {str(exc).splitlines()[0]}"
    return None


_PG_PROBLEM: list[str | None] = []


def require_postgres() -> None:
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(_postgres_problem())
    problem = _PG_PROBLEM[0]
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(PROJECT_ROOT / "catalog.yaml")


def database_url(backend: str, tmp_dir: Path) -> tuple[str, str | None]:
    """A fresh database URL for `backend`, and the PostgreSQL schema to drop afterwards."""
    if backend == "spatialite":
        return f"sqlite:///{tmp_dir / 'hub.db'}", None
    require_postgres()
    schema = "t_" + uuid.uuid4().hex[:12]
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema},public%20{PG_URL_OPTIONS}", schema


def drop_schema(schema: str | None) -> None:
    if schema:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    url, schema = database_url(backend, tmp_path)
    yield url
    drop_schema(schema)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, storage_dir=tmp_path / "storage", secret_key="test-secret")


@pytest.fixture(scope="session")
def templates() -> Iterator[Templates]:
    """Hubs built once per test process and copied for each test or module that needs one of its own
    (tests/hub_copies.py): a copy takes a fraction of a second, building one seconds."""
    from tests.hub_copies import Templates

    made = Templates()
    yield made
    made.remove()


@pytest.fixture
def hub(backend: str, tmp_path: Path, templates: Templates) -> Iterator[Hub]:
    """A fresh, empty, initialised hub on the test's backend (a copy of one initialised once per process;
    its database file and storage/ in the test's tmp_path)."""
    copy = templates.copy("empty", backend, tmp_path)
    yield copy.hub
    copy.close()


@pytest.fixture
def store(hub: Hub) -> Store:
    return hub.store


def load_all_samples(hub: Hub) -> None:
    from publish import pipeline

    for dataset in hub.catalog.load_order():
        if dataset.source is None:  # a report's statistics dataset: filled by the reports produced
            continue
        outcome = pipeline.run(hub.store, dataset.id, hub.catalog.resolve(dataset.source), user="tests")
        assert outcome.status in ("committed", "unchanged"), (dataset.id, outcome.report.get("errors"))


def samples_copy(templates: Templates, backend: str, tmp: Path) -> HubCopy:
    """A hub of its own with every sample loaded (`load_all_samples` on a template, once per process)."""
    return templates.copy("samples", backend, tmp, load_all_samples)


@pytest.fixture(scope="session", params=BACKENDS)
def sample_hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               templates: Templates) -> Iterator[Hub]:
    """A hub with every sample loaded, shared by read-only tests of one backend. Do not change its data."""
    copy = samples_copy(templates, request.param, tmp_path_factory.mktemp(f"sample-{request.param}"))
    yield copy.hub
    copy.close()


@pytest.fixture
def sample_client(sample_hub: Hub):  # noqa: ANN201
    from hub.app import create_app

    app = create_app(sample_hub.settings, hub=sample_hub)
    app.config["TESTING"] = True
    return app.test_client()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """A real HTTP server (werkzeug, threaded) serving a hub in this process."""

    def __init__(self, app, port: int) -> None:  # noqa: ANN001
        from werkzeug.serving import make_server

        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._server = make_server("127.0.0.1", port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_hub(tmp_path_factory: pytest.TempPathFactory, templates: Templates) -> Iterator[LiveServer]:
    """A live hub on SpatiaLite with every sample loaded, for client and browser tests (read-only)."""
    from hub.app import create_app

    copy = samples_copy(templates, "spatialite", tmp_path_factory.mktemp("live"))
    server = LiveServer(create_app(copy.hub.settings, hub=copy.hub), free_port()).start()
    yield server
    server.stop()
    copy.close()


@contextmanager
def statements_reading(store: Store, table: str) -> Iterator[list[tuple[str, Any]]]:
    """The statements (and parameters) the store's readers run on `table` inside the block, counts left out:
    for tests that read a query's plan."""
    seen: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if f"FROM {table}" in statement and "count(" not in statement:
            seen.append((statement, parameters))

    sa.event.listen(store.read_engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        sa.event.remove(store.read_engine, "before_cursor_execute", capture)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """The one Chromium of a test process: Playwright's sync API runs one event loop per thread, so a second
    `sync_playwright()` started while this one lives would fail ("Sync API inside the asyncio loop")."""
    from tests.steward.browser import chromium

    with chromium() as launched:
        yield launched
