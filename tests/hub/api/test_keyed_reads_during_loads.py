"""A request with an API key answers while a load holds the database's write lock (issue 16).

SQLite only, by nature: it has one write lock per database file, which a load holds for as long as it writes
(minutes for a large one); PostgreSQL has no such lock, and its audit appends take an advisory lock of their
own. Every write a keyed GET does (the audit entry, the key's last-used date) must not wait for that lock.

No timing is asserted: the lock is released when the answer has come back, or after a generous bound; the test
asserts the answer came back while the lock was still held.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlean

from core.config import Settings
from publish import audit, pipeline
from publish.context import Hub
from tests.conftest import database_url
from tests.ops.conftest import api_key, bearer

BOUND = 30.0  # seconds the lock is held at most: far longer than a keyed answer takes on a busy machine


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    tmp = tmp_path_factory.mktemp("keyed-reads")
    url, _ = database_url("spatialite", tmp)
    # a writer waits longer than BOUND for the lock, so a request that waits is still waiting at the release
    settings = Settings(database_url=url, storage_dir=tmp / "storage", secret_key="test-secret",
                        lock_timeout=int(BOUND * 3))
    opened = Hub.open(settings, init=True)
    for dataset in ("admin-units", "heritage-sites"):
        outcome = pipeline.run(opened.store, dataset, opened.catalog.resolve(opened.catalog.dataset(dataset).source),
                               user="tests")
        assert outcome.status == "committed", outcome.report.get("errors")
    yield opened
    opened.store.dispose()


class HeldWriteLock:
    """Another process's write transaction on the main database file (what a load in progress holds), released
    by `release()` or after BOUND seconds, whichever comes first."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlean.connect(str(path), isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("UPDATE hub_loads SET note = 'a load in progress' WHERE id = (SELECT max(id) FROM hub_loads)")
        self.answered = threading.Event()
        self.timed_out = False
        self.thread = threading.Thread(target=self._hold, daemon=True)
        self.thread.start()

    def _hold(self) -> None:
        if not self.answered.wait(BOUND):
            self.timed_out = True  # the request was still waiting: let it go, and the test fail
        self.conn.rollback()

    def release(self) -> bool:
        """Release the lock; True when it was still held (the answer came while the lock was held)."""
        self.answered.set()
        self.thread.join()
        self.conn.close()
        return not self.timed_out


def test_a_keyed_read_answers_while_a_load_holds_the_write_lock(hub: Hub) -> None:
    from hub.app import create_app

    app = create_app(hub.settings, hub=hub)
    app.config["TESTING"] = True
    client = app.test_client()
    token = api_key(hub, "department")  # never used yet: its first use also records a last-used date
    main_file = Path(hub.store.engine.url.database or "")
    before = len(audit.entries(hub.store, limit=1000))

    lock = HeldWriteLock(main_file)
    try:
        answer = client.get("/api/v1/datasets/heritage-sites/records?limit=5", headers=bearer(token))
        again = client.get("/api/v1/datasets/heritage-sites", headers=bearer(token))
    finally:
        held = lock.release()
    assert held, f"the keyed request waited for the load's write lock (released after {BOUND:.0f} s)"
    assert answer.status_code == 200, answer.json
    assert len(answer.json["records"]) == 5
    assert again.status_code == 200, again.json
    # both requests were audited, in the chain, while the lock was held
    entries = audit.entries(hub.store, limit=1000)
    assert len(entries) == before + 2
    assert [e["path"] for e in entries[:2]] == ["/api/v1/datasets/heritage-sites",
                                               "/api/v1/datasets/heritage-sites/records"]
    assert audit.verify(hub.store).ok
