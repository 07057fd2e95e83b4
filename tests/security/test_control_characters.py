"""Finding 11: NUL and other control characters are refused at the edge (400), and a backup of a SQLite hub
whose audit log holds a NUL (written before this refusal) restores into PostgreSQL, chain intact."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.config import Settings
from publish import audit, backup, restore, tables
from publish.context import Hub
from tests.conftest import database_url, drop_schema


@pytest.mark.parametrize("url", [
    "/api/v1/datasets/heritage-sites/records?q=a%00b",
    "/api/v1/datasets/heritage-sites/records?name=%01x",
    "/api/3/action/package_search?q=%00",
    "/datasets?q=x%1b",
    "/api/v1/datasets/heritage%00sites",
])
def test_control_characters_in_the_uri_are_400(attacked_client, url: str) -> None:
    answer = attacked_client.get(url)
    assert answer.status_code == 400, (url, answer.status_code)
    assert answer.json["code"] == "control-characters" and answer.json["message"]["vi"]


def test_a_nul_written_on_sqlite_restores_into_postgresql(tmp_path) -> None:
    source = Hub.open(Settings(database_url=f"sqlite:///{tmp_path / 'a.db'}", storage_dir=tmp_path / "s1",
                               secret_key="test-secret"), init=True)
    audit.append(source.store, client="c", method="GET", path="/p", query="q=ok", status=200)
    # a row as an older hub wrote it: NUL in the query, chained as the log chains it
    t = tables.audit_log
    with source.store.audit_engine.begin() as conn:
        prev = conn.execute(sa.select(t.c.hash).order_by(t.c.id.desc()).limit(1)).scalar()
        entry = {k: None for k in audit.FIELDS} | {"at": audit.utcnow(), "client": "c", "method": "GET",
                                                   "path": "/p", "query": "q=a\x00b", "status": 400}
        digest = audit.entry_hash(prev, entry, audit.key_of(source.store))
        conn.execute(t.insert().values(**entry, prev_hash=prev, hash=digest))
    assert audit.verify(source.store).ok
    archive = backup.backup(source.store, tmp_path / "b.zip")
    source.store.dispose()
    url, schema = database_url("postgis", tmp_path)
    try:
        target = Hub.open(Settings(database_url=url, storage_dir=tmp_path / "s2", secret_key="test-secret"), init=True)
        restore.restore(target.store, archive["path"], force=True)
        result = audit.verify(target.store)
        assert result.ok and result.checked == 2, result
        assert audit.entries(target.store)[0]["query"] == "q=a\ufffdb"
        target.store.dispose()
    finally:
        drop_schema(schema)
