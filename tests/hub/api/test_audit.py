"""The audit log: what gets written, that the database refuses changes, and that the hash chain shows tampering."""

from __future__ import annotations

import multiprocessing
import threading

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from publish import audit, clients
from publish.context import Hub
from tests.hub.api.conftest import PERSONAL, RESTRICTED, Secured


def _fill(hub: Hub, n: int = 5) -> None:
    for i in range(n):
        audit.append(hub.store, client=f"client-{i}", method="GET", path=f"/api/v1/datasets/x/records?i={i}",
                     dataset="licences", query="q=Đồng Nai", status=200, rows=i, personal=bool(i % 2))


def _attacker(hub: Hub, sql: str) -> None:
    """What someone with database access does: drop the triggers, then change the table."""
    with hub.store.audit_engine.begin() as conn:
        if hub.store.dialect == "postgresql":
            conn.exec_driver_sql("DROP TRIGGER hub_audit_no_update ON hub_audit")
            conn.exec_driver_sql("DROP TRIGGER hub_audit_no_delete ON hub_audit")
        else:
            conn.exec_driver_sql("DROP TRIGGER hub_audit_no_update")
            conn.exec_driver_sql("DROP TRIGGER hub_audit_no_delete")
        conn.exec_driver_sql(sql)


def test_audit_chain_verifies_and_detects_an_edited_entry(hub: Hub) -> None:
    _fill(hub)
    result = audit.verify(hub.store)
    assert result.ok and result.checked == 5 and result.append_only
    ids = [e["id"] for e in reversed(audit.entries(hub.store))]
    _attacker(hub, f"UPDATE hub_audit SET rows = 999, client = 'someone-else' WHERE id = {ids[2]}")
    result = audit.verify(hub.store)
    assert not result.ok
    assert result.broken_id == ids[2] and "edited" in result.reason
    assert not result.append_only  # and it says the triggers are gone


def test_removed_entry_breaks_the_chain_at_the_next_one(hub: Hub) -> None:
    _fill(hub)
    ids = [e["id"] for e in reversed(audit.entries(hub.store))]
    _attacker(hub, f"DELETE FROM hub_audit WHERE id = {ids[1]}")
    result = audit.verify(hub.store)
    assert not result.ok and result.broken_id == ids[2] and "removed" in result.reason


def test_audit_log_refuses_update_and_delete(hub: Hub) -> None:
    _fill(hub, 2)
    for sql in ("UPDATE hub_audit SET status = 200", "DELETE FROM hub_audit"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), hub.store.audit_engine.begin() as conn:
            conn.exec_driver_sql(sql)
    if hub.store.dialect == "postgresql":
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), hub.store.audit_engine.begin() as conn:
            conn.exec_driver_sql("TRUNCATE hub_audit")
    assert audit.verify(hub.store).checked == 2


def test_restart_puts_back_dropped_triggers(hub: Hub) -> None:
    _attacker(hub, "SELECT 1")
    assert not audit.append_only_in_place(hub.store.audit_engine)
    hub.store.init()
    assert audit.append_only_in_place(hub.store.audit_engine)


def test_concurrent_appends_keep_one_chain(hub: Hub) -> None:
    """Several workers appending at once must not fork the chain (each reads the last hash under a lock)."""
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(15):
                audit.append(hub.store, client=f"worker-{n}", method="GET", path=f"/p/{i}", status=200)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = audit.verify(hub.store)
    assert result.ok and result.checked == 60


def _worker_process(url: str, n: int, key: bytes) -> None:
    from core.catalog import load_catalog
    from core.config import PROJECT_ROOT
    from publish.store import Store

    store = Store.connect(url, load_catalog(PROJECT_ROOT / "catalog.yaml"))  # its own engine, as a gunicorn worker
    store.audit_key = key  # the chain's HMAC key, from the settings as Hub.open sets it
    for i in range(15):
        audit.append(store, client=f"process-{n}", method="GET", path=f"/p/{i}", status=200)
    store.dispose()


def test_appends_from_several_processes_keep_one_chain(hub: Hub) -> None:
    context = multiprocessing.get_context("fork")
    hub.store.dispose()  # no pooled connection may cross the fork
    workers = [context.Process(target=_worker_process, args=(hub.settings.database_url, n, hub.store.audit_key)) for n in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    result = audit.verify(hub.store)
    assert result.ok and result.checked == 45


def test_key_and_grant_changes_are_in_the_chain(hub: Hub) -> None:
    clients.create_client(hub.store, "so-xay-dung", actor="admin-1")
    clients.issue_key(hub.store, "so-xay-dung", actor="admin-1")
    clients.grant(hub.store, "so-xay-dung", "licences", personal=True, purpose="Kiểm tra giấy phép", granted_by="admin-1")
    clients.revoke_keys(hub.store, "so-xay-dung", actor="admin-1")
    found = list(reversed(audit.entries(hub.store, client="admin-1")))
    assert [e["path"].split()[1] for e in found] == ["create-client", "issue", "grant", "revoke"]
    assert found[2]["dataset"] == "licences" and found[2]["detail"]["purpose"] == "Kiểm tra giấy phép"
    assert "hub_" not in str(found[1]["detail"])  # the prefix only, never the key
    assert audit.verify(hub.store).ok


def _last(secured: Secured) -> dict:
    return audit.entries(secured.hub.store, limit=1)[0]


def test_every_authenticated_request_is_audited_with_what_it_read(secured: Secured, secured_client) -> None:  # noqa: ANN001
    answer = secured_client.get(f"/api/v1/datasets/{PERSONAL}/records?type=the_huong_dan_vien&limit=5",
                                headers=secured.headers("department-personal"))
    assert answer.status_code == 200
    entry = _last(secured)
    assert entry["client"] == "department-personal" and entry["dataset"] == PERSONAL
    assert entry["query"] == "type=the_huong_dan_vien&limit=5" and entry["status"] == 200
    assert entry["rows"] == len(answer.get_json()["records"]) == 5 and entry["personal"] is True
    secured_client.get("/api/v1/datasets/heritage-sites/records?limit=3", headers=secured.headers("department"))
    entry = _last(secured)
    assert (entry["client"], entry["dataset"], entry["rows"], entry["personal"]) == ("department", "heritage-sites",
                                                                                     3, False)


def test_anonymous_reads_of_open_data_are_not_audited(secured: Secured, secured_client) -> None:  # noqa: ANN001
    before = _last(secured)["id"]
    assert secured_client.get("/api/v1/datasets/heritage-sites/records?limit=2").status_code == 200
    assert _last(secured)["id"] == before


def test_streamed_csv_of_restricted_data_is_audited_with_its_row_count(secured: Secured, secured_client) -> None:  # noqa: ANN001
    with secured_client.get(f"/api/v1/datasets/{RESTRICTED}/records?format=csv",
                            headers=secured.headers("department-granted")) as answer:
        lines = answer.get_data(as_text=True).strip().splitlines()
    entry = _last(secured)
    assert entry["dataset"] == RESTRICTED and entry["client"] == "department-granted"
    assert entry["rows"] == len(lines) - 1  # the header line is not a row


def test_refused_key_is_audited_with_its_prefix_only(secured: Secured, secured_client) -> None:  # noqa: ANN001
    answer = secured_client.get("/api/v1/datasets", headers={"Authorization": "Bearer hub_abcd1234_not-a-real-secret"})
    assert answer.status_code == 401
    entry = _last(secured)
    assert entry["status"] == 401 and entry["client"] is None and entry["detail"] == {"refused_key": "abcd1234"}
    assert "not-a-real-secret" not in str(entry)


def test_hub_audit_command_lists_and_verifies(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.cli import cli

    _fill(hub, 3)
    monkeypatch.setenv("HUB_DATABASE_URL", hub.settings.database_url)
    monkeypatch.setenv("HUB_SECRET_KEY", hub.settings.secret_key)  # the chain's key is derived from it
    monkeypatch.setenv("HUB_STORAGE_DIR", str(hub.settings.storage_dir))
    runner = CliRunner()
    listed = runner.invoke(cli, ["audit", "--client", "client-1", "--json"])
    assert listed.exit_code == 0 and '"client": "client-1"' in listed.output
    verified = runner.invoke(cli, ["audit", "--verify", "--json"])
    assert verified.exit_code == 0 and '"ok": true' in verified.output
    ids = [e["id"] for e in reversed(audit.entries(hub.store))]
    _attacker(hub, f"UPDATE hub_audit SET query = 'nothing to see' WHERE id = {ids[0]}")
    broken = runner.invoke(cli, ["audit", "--verify"])
    assert broken.exit_code == 9 and str(ids[0]) in broken.output
