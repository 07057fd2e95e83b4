"""Where the audit log lives (publish/audit_store.py): its own file beside a SQLite store, moved there from the
main file of an older hub with its chain intact. SQLite only: on PostgreSQL the log stays in the main database."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from core.catalog import load_catalog
from core.config import Settings
from publish import audit, audit_store, backup, restore
from publish.context import Hub
from publish.db import create_engine
from publish.store import Store


def _entries(store: Store, n: int) -> None:
    for i in range(n):
        audit.append(store, client="so-xay-dung", method="GET", path=f"/api/v1/datasets/licences/records?i={i}",
                     dataset="licences", status=200, rows=i)


def test_the_log_of_an_older_hub_moves_to_its_own_file_and_still_verifies(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'hub.db'}", storage_dir=tmp_path / "storage",
                        secret_key="test-secret")
    # an older hub: the log in the main file
    engine = create_engine(settings.database_url)
    older = Store(engine, load_catalog(settings.catalog_path), audit_engine=engine)
    older.audit_key = settings.audit_secret
    older.init()
    _entries(older, 4)
    kept = audit.anchor(older)
    older.dispose()

    hub = Hub.open(settings, init=True)  # this version's first start
    try:
        assert audit_store.audit_file(hub.store.engine) == tmp_path / "hub-audit.db"
        assert not sa.inspect(hub.store.engine).has_table("hub_audit")  # gone from the main file
        result = audit.verify(hub.store, [kept])
        assert result.ok and result.checked == 4 and result.append_only and result.anchors_checked == 1
        _entries(hub.store, 1)  # the chain goes on where it was
        assert audit.verify(hub.store, [kept]).checked == 5

        # a backup holds the log; a restore into a fresh SQLite store puts it in that store's own audit file
        archive = backup.backup(hub.store, tmp_path / "b.zip")
        assert {t["name"]: t["rows"] for t in archive["tables"]}["hub_audit"] == 5
        target = Hub.open(Settings(database_url=f"sqlite:///{tmp_path / 'other.db'}", storage_dir=tmp_path / "s2",
                                   secret_key="test-secret"), init=True)
        try:
            restore.restore(target.store, tmp_path / "b.zip")
            assert audit.verify(target.store, [kept]).ok and audit.verify(target.store).checked == 5
            assert (tmp_path / "other-audit.db").is_file()
        finally:
            target.store.dispose()
    finally:
        hub.store.dispose()
