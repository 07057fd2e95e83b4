"""Finding 6: the audit chain is keyed (HMAC, key outside the database) and anchored (signed checkpoints kept
outside it: storage/audit-anchors.jsonl, every backup's manifest, the JSON log); `hub audit --verify` reports
missing triggers (exit 9) instead of recreating them first."""

from __future__ import annotations

import hashlib
import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from publish import audit, backup, tables
from publish.context import Hub


def fill(hub: Hub, n: int = 6) -> None:
    for i in range(n):
        audit.append(hub.store, client=f"client-{i}", method="GET", path=f"/api/v1/datasets/licences/records?i={i}",
                     dataset="licences", status=200, rows=i, personal=bool(i % 2))


def drop_triggers(hub: Hub) -> None:
    with hub.store.audit_engine.begin() as conn:
        on = " ON hub_audit" if hub.store.dialect == "postgresql" else ""
        conn.exec_driver_sql(f"DROP TRIGGER hub_audit_no_update{on}")
        conn.exec_driver_sql(f"DROP TRIGGER hub_audit_no_delete{on}")


def rewrite_with_plain_sha256(hub: Hub) -> None:
    """The attack of the finding: delete an entry, then recompute every hash as the old chain did."""
    t = tables.audit_log
    with hub.store.audit_engine.begin() as conn:
        ids = [r.id for r in conn.execute(sa.select(t.c.id).order_by(t.c.id))]
        conn.execute(t.delete().where(t.c.id == ids[2]))
        prev = audit.GENESIS
        for row in conn.execute(sa.select(t).order_by(t.c.id)).all():
            entry = {k: getattr(row, k) for k in audit.FIELDS}
            digest = hashlib.sha256((prev + audit.canonical(entry)).encode("utf-8")).hexdigest()
            conn.execute(t.update().where(t.c.id == row.id).values(prev_hash=prev, hash=digest))
            prev = digest


@pytest.fixture
def cli_env(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("HUB_DATABASE_URL", hub.settings.database_url)
    monkeypatch.setenv("HUB_SECRET_KEY", hub.settings.secret_key)
    monkeypatch.setenv("HUB_STORAGE_DIR", str(hub.settings.storage_dir))
    return CliRunner()


def test_a_chain_recomputed_without_the_key_does_not_verify(hub: Hub, cli_env: CliRunner) -> None:
    from hub.cli import cli

    fill(hub)
    assert audit.verify(hub.store).ok
    drop_triggers(hub)
    rewrite_with_plain_sha256(hub)
    result = audit.verify(hub.store)
    assert not result.ok and not result.append_only
    assert cli_env.invoke(cli, ["audit", "--verify"]).exit_code == 9


def test_missing_triggers_exit_9_and_stay_missing(hub: Hub, cli_env: CliRunner) -> None:
    from hub.cli import cli

    fill(hub, 2)
    drop_triggers(hub)
    answer = cli_env.invoke(cli, ["audit", "--verify", "--json"])
    assert answer.exit_code == 9, answer.output
    assert json.loads(answer.output.splitlines()[0])["append_only"] is False
    assert not audit.append_only_in_place(hub.store.audit_engine)  # verify did not put them back to hide it


def test_a_cut_tail_shows_against_the_kept_checkpoint_and_the_backup(hub: Hub, cli_env: CliRunner, tmp_path) -> None:
    from hub.cli import cli

    fill(hub)
    first = cli_env.invoke(cli, ["audit", "--verify", "--json"])
    assert first.exit_code == 0, first.output  # the head's signed checkpoint is kept in storage
    kept = audit.read_anchors(audit.anchors_path(hub.settings.storage_dir))
    assert kept and kept[-1]["id"] == max(e["id"] for e in audit.entries(hub.store))
    archive = backup.backup(hub.store, tmp_path / "b.zip")
    assert archive["audit_anchor"]["id"] == kept[-1]["id"]
    drop_triggers(hub)
    with hub.store.audit_engine.begin() as conn:  # cut the last two entries off the end
        t = tables.audit_log
        last = conn.execute(sa.select(sa.func.max(t.c.id))).scalar()
        conn.execute(t.delete().where(t.c.id > last - 2))
    result = audit.verify(hub.store, kept)
    assert not result.ok and "cut off the end" in (result.reason or "")
    (audit.anchors_path(hub.settings.storage_dir)).unlink()  # the attacker removed the server's copy too
    answer = cli_env.invoke(cli, ["audit", "--verify", "--anchors", str(tmp_path / "b.zip")])
    assert answer.exit_code == 9


def test_a_forged_checkpoint_is_refused(hub: Hub) -> None:
    fill(hub, 2)
    good = audit.anchor(hub.store)
    assert audit.verify(hub.store, [good]).ok
    forged = {**good, "id": good["id"] + 5}
    assert not audit.verify(hub.store, [forged]).ok
