"""The store: one database (SpatiaLite or PostGIS) holding the hub's tables and a table per dataset.

`Store` is what every stage gets to talk to the database: the engine, the catalogue, and the tables derived
from the catalogue's schemas. It does no loading or querying itself (see loads.py, query.py, versions.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.catalog import Catalog, Dataset
from core.config import DEFAULT_LOCK_TIMEOUT
from publish import tables
from publish.db import check_connection, create_engine, reading
from publish.leases import HEARTBEAT_SECONDS, STALE_AFTER


def utcnow() -> datetime:
    """Naive UTC, as stored in every timestamp column (CKAN and DCAT want naive UTC too)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Store:
    def __init__(self, engine: Engine, catalog: Catalog, *, read_engine: Engine | None = None,
                 lock_timeout: int = DEFAULT_LOCK_TIMEOUT, audit_engine: Engine | None = None) -> None:
        from publish import audit_store

        self.engine = engine
        # the audit log's database: its own file beside a SQLite main file, so that appending never waits for a
        # load's write lock; the main database on PostgreSQL (publish/audit_store.py)
        self.audit_engine = audit_engine or audit_store.engine_for(engine, lock_timeout)
        self.lock_timeout = lock_timeout  # seconds a writer waits for another (publish/locks.py)
        self.read_engine = read_engine or engine
        self.catalog = catalog
        self.metadata = sa.MetaData()
        # the audit chain's HMAC key (HUB_AUDIT_KEY, set by Hub.open; never stored in the database)
        self.audit_key: bytes | None = None
        # the storage folder (HUB_STORAGE_DIR, set by Hub.open): where files that rows refer to live, e.g. uploads
        self.storage_dir: Path | None = None
        # how often running loads, jobs and harvests beat, and how long a silent one elsewhere is presumed alive
        # (HUB_HEARTBEAT_SECONDS, HUB_LEASE_SECONDS, set by Hub.open; publish/leases.py)
        self.heartbeat_seconds = HEARTBEAT_SECONDS
        self.stale_after = STALE_AFTER

    @classmethod
    def connect(cls, url: str, catalog: Catalog, *, replica_url: str | None = None,
                lock_timeout: int = DEFAULT_LOCK_TIMEOUT) -> Store:
        engine = create_engine(url, lock_timeout=lock_timeout)
        check_connection(engine)
        read_engine = None
        if replica_url:
            read_engine = create_engine(replica_url)
            check_connection(read_engine)
        return cls(engine, catalog, read_engine=read_engine, lock_timeout=lock_timeout)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def table(self, dataset: Dataset | str) -> sa.Table:
        ds = self.catalog.dataset(dataset) if isinstance(dataset, str) else dataset
        return tables.table_for(ds, self.metadata)

    @cached_property
    def all_tables(self) -> dict[str, sa.Table]:
        return {ds.id: self.table(ds) for ds in self.catalog}

    def init(self) -> None:
        """Create or upgrade everything: the hub's tables (Alembic) and one table per dataset."""
        from publish import audit_store, migrate

        migrate.upgrade(self.engine)
        # the audit log's table in its own file on SQLite, and the triggers refusing UPDATE and DELETE of it
        audit_store.settle(self.engine, self.audit_engine)
        with self.engine.begin() as conn:
            for ds in self.catalog.load_order():
                self.table(ds).create(conn, checkfirst=True)
        self.recover_interrupted_loads()

    def is_initialised(self) -> bool:
        return sa.inspect(self.engine).has_table("hub_loads")

    def recover_interrupted_loads(self, stale_after: timedelta | None = None) -> int:
        """Mark loads left 'running' by a process that no longer exists as failed (e.g. after kill -9).

        A load is known by its host, boot, PID namespace and PID, and by its heartbeat (publish/leases.py):
        one on another host or in another PID namespace is failed only once its heartbeat is older than
        `stale_after` (the store's, HUB_LEASE_SECONDS), so a live load elsewhere is never touched. Their data never
        committed (a load is one transaction), so readers still see the previous version; this only makes the
        history say what happened.
        """
        from publish import leases

        loads = tables.loads
        me, now = leases.Identity.current(), utcnow()
        with self.engine.begin() as conn:
            running = conn.execute(
                sa.select(loads.c.id, loads.c.pid, loads.c.host, loads.c.boot_id, loads.c.pid_ns, loads.c.heartbeat_at,
                          loads.c.started_at).where(loads.c.status == "running")
            ).all()
            dead = [row.id for row in running if leases.is_dead(row, me, now, stale_after or self.stale_after)]
            if dead:
                conn.execute(
                    loads.update()
                    .where(loads.c.id.in_(dead), loads.c.status == "running")
                    .values(status="failed", finished_at=utcnow(),
                            error="Tiến trình nạp bị dừng giữa chừng / The load process stopped before it finished")
                )
        return len(dead)

    def current_version(self, dataset: str, conn: sa.Connection | None = None) -> int | None:
        query = sa.select(sa.func.max(tables.loads.c.version)).where(
            tables.loads.c.dataset == dataset, tables.loads.c.status == "committed"
        )
        if conn is not None:
            return conn.execute(query).scalar()
        with reading(self.read_engine) as c:  # one statement: no transaction around it
            return c.execute(query).scalar()

    def key_set(self, dataset: str, fields: list[str]) -> set[tuple[str, ...]]:
        """The keys currently published in `dataset`, as text tuples, for foreign-key checks."""
        table = self.table(dataset)
        cols = [table.c[f] for f in fields]
        with self.read_engine.connect() as conn:
            rows = conn.execute(sa.select(*cols).where(table.c._to.is_(None)))
            return {tuple("" if v is None else str(v) for v in row) for row in rows}

    def forget_connections(self) -> None:
        """In a forked process: drop the pooled connections inherited from the parent without closing them (they
        are the parent's), so this process opens its own."""
        for engine in {id(e): e for e in (self.engine, self.read_engine, self.audit_engine)}.values():
            engine.dispose(close=False)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.audit_engine is not self.engine:
            self.audit_engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
