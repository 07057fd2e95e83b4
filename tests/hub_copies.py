"""Hubs copied from templates built once per test process, so a test (or a module) gets a hub of its own in a
fraction of a second instead of running the migrations and loading samples again.

Opening an empty hub runs every migration (2-3 s); loading the communes validates their boundaries (5-25 s);
every sample, 15-30 s. A template is built once, the first time a name is asked for on a backend, and each
copy is then:
- SpatiaLite: the template's database files (hub.db, hub-audit.db) copied page by page (sqlite3's backup
  API), its storage folder too;
- PostGIS: a database of its own made by `CREATE DATABASE … TEMPLATE` (PostgreSQL 15 copies it through the
  WAL: about 0.3 s for a hub with samples) and dropped afterwards.
A copy is a real hub on the real backend: same tables, rows, load history and audit chain as if built anew.
"""

from __future__ import annotations

import queue
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from core.config import Settings
from publish.context import Hub
from tests.conftest import PG_TEST_OPTIONS, PG_URL_OPTIONS, POSTGRES_URL, require_postgres

Populate = Callable[[Hub], Any]  # fills a template's hub; what it returns is handed to every copy (e.g. keys)


def _admin_engine() -> sa.Engine:
    return sa.create_engine(sa.engine.make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT",
                            connect_args={"options": PG_TEST_OPTIONS})


SCHEMA = "hub"  # the hub's tables, as in tests.conftest.database_url: a schema of their own, PostGIS in public


def _database_url(name: str) -> str:
    url = sa.engine.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{SCHEMA},public%20{PG_URL_OPTIONS}"


def create_database(name: str, template: str | None = None) -> None:
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            if template:
                # nobody may be connected to a template while it is copied (a disposed pool may linger a moment)
                conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE datname = :t AND pid <> pg_backend_pid()"), {"t": template})
                conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
            else:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    if not template:
        engine = sa.create_engine(_database_url(name))
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public"))
            conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
        engine.dispose()


def drop_database(name: str) -> None:
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


class _Dropper:
    """Drops databases from a thread of its own: DROP DATABASE waits for a checkpoint (seconds on a busy
    machine), which no test needs to wait for. At the end of the session what is left goes to a process of
    its own, so the run does not wait for those checkpoints either."""

    def __init__(self) -> None:
        self.names: queue.Queue[str | None] = queue.Queue()
        self.thread: threading.Thread | None = None

    def later(self, name: str) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="drop-databases", daemon=True)
            self.thread.start()
        self.names.put(name)

    def _run(self) -> None:
        while (name := self.names.get()) is not None:
            try:
                drop_database(name)
            except Exception:  # noqa: BLE001 - a database left behind is not a test failure
                pass

    def finish(self, *more: str) -> None:
        """Hand the databases not dropped yet, and `more`, to a process that drops them after the run."""
        left = list(more)
        while True:
            try:
                name = self.names.get_nowait()
            except queue.Empty:
                break
            if name is not None:
                left.append(name)
        if self.thread is not None:
            self.names.put(None)  # the thread ends after the drop it may be doing
            self.thread = None
        if left:
            url = sa.engine.make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)
            subprocess.Popen([sys.executable, "-c", _DROP_SCRIPT, url, *left], start_new_session=True,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


_DROP_SCRIPT = """
import sys
import psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    for name in sys.argv[2:]:
        try:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.Error:
            pass
"""


DROPPER = _Dropper()


@dataclass
class Template:
    backend: str
    folder: Path  # hub.db (SpatiaLite) and storage/
    settings: Settings
    database: str | None = None  # PostgreSQL template database
    extra: Any = None  # what the template's `populate` returned


@dataclass
class HubCopy:
    """A hub copied from a template; `close()` disposes it and drops its database."""

    hub: Hub
    database: str | None = None
    extra: Any = None  # what the template's `populate` returned
    closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.hub.store.dispose()
        if self.database:
            DROPPER.later(self.database)


class Templates:
    """Templates of this test process by (name, backend); removed at the end of the session."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="hub-templates-"))
        self.made: dict[tuple[str, str], Template] = {}

    def template(self, name: str, backend: str, populate: Populate, *, base: str | None = None,
                 settings: dict[str, Any] | None = None) -> Template:
        """The template `name` on `backend`, built on first use: an empty initialised hub (or a copy of the
        template `base`, already built) with `settings`, then `populate`d."""
        key = (name, backend)
        if key not in self.made:
            self.made[key] = self._build(name, backend, populate, base, settings or {})
        made = self.made[key]
        changed = [k for k, v in (settings or {}).items() if getattr(made.settings, k) != v]
        assert not changed, f"template {name!r} was built with other settings: {changed}"
        return made

    def _build(self, name: str, backend: str, populate: Populate, base: str | None,
               settings: dict[str, Any]) -> Template:
        folder = self.root / f"{name}-{backend}"
        if base is not None:
            source = self.made[(base, backend)]
            url, database = self._duplicate(source, folder, prefix="hub_tpl_")
            made = source.settings.replace(database_url=url, storage_dir=folder / "storage", **settings)
            hub = Hub.open(made)
        else:
            folder.mkdir(parents=True)
            database = None
            if backend == "spatialite":
                url = f"sqlite:///{folder / 'hub.db'}"
            else:
                require_postgres()
                database = f"hub_tpl_{uuid.uuid4().hex[:10]}"
                create_database(database)
                url = _database_url(database)
            made = Settings(database_url=url, storage_dir=folder / "storage", secret_key="test-secret", **settings)
            hub = Hub.open(made, init=True)
        try:
            extra = populate(hub)
        finally:
            hub.store.dispose()
        return Template(backend, folder, made, database, extra)

    @staticmethod
    def _duplicate(made: Template, folder: Path, *, prefix: str) -> tuple[str, str | None]:
        """Copy `made`'s database and storage into `folder` (and a new PostgreSQL database): its URL, database."""
        folder.mkdir(parents=True, exist_ok=True)
        if (made.folder / "storage").is_dir():
            shutil.copytree(made.folder / "storage", folder / "storage", dirs_exist_ok=True)
        if made.backend == "spatialite":
            for path in made.folder.glob("*.db"):  # hub.db, and the audit log's own hub-audit.db beside it
                source, copied = sqlite3.connect(path), sqlite3.connect(folder / path.name)
                try:
                    source.backup(copied)
                finally:
                    source.close()
                    copied.close()
            return f"sqlite:///{folder / 'hub.db'}", None
        database = f"{prefix}{uuid.uuid4().hex[:10]}"
        assert made.database
        create_database(database, template=made.database)
        return _database_url(database), database

    def copy(self, name: str, backend: str, tmp: Path, populate: Populate = lambda hub: None, *,
             base: str | None = None, settings: dict[str, Any] | None = None,
             changes: dict[str, Any] | None = None) -> HubCopy:
        """A hub of its own in `tmp` (database file or database, storage/) as `populate` left the template
        `name`; `changes` are settings of this copy only (e.g. another catalogue naming the same datasets)."""
        made = self.template(name, backend, populate, base=base, settings=settings)
        url, database = self._duplicate(made, tmp, prefix="hub_copy_")
        hub = Hub.open(made.settings.replace(database_url=url, storage_dir=tmp / "storage", **(changes or {})))
        return HubCopy(hub, database, made.extra)

    def remove(self) -> None:
        DROPPER.finish(*(made.database for made in self.made.values() if made.database))
        shutil.rmtree(self.root, ignore_errors=True)


def load_communes(hub: Hub) -> None:
    """The communes and wards (admin-units, with their boundaries), through the pipeline as `hub ingest` does:
    every other dataset's foreign keys point at them."""
    from core.config import PROJECT_ROOT
    from publish import pipeline

    outcome = pipeline.run(hub.store, "admin-units", PROJECT_ROOT / "samples" / "admin-units.geojson", user="tests")
    assert outcome.status == "committed", outcome.report.get("errors")


def communes_copy(templates: Templates, backend: str, tmp: Path, *, changes: dict[str, Any] | None = None) -> HubCopy:
    """A hub of its own with only the communes loaded (`load_communes` on a template, once per process)."""
    return templates.copy("communes", backend, tmp, load_communes, changes=changes)
