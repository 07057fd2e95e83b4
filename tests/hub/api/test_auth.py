"""API keys as departments use them: issued once, stored hashed, expiring, revocable, and a bad key is a 401."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from core.errors import HubError, Unauthenticated
from hub.app import create_app
from publish import clients, tables
from publish.context import Hub


@pytest.fixture
def client_app(hub: Hub):  # noqa: ANN201 - a Flask test client on a fresh hub of each backend
    app = create_app(hub.settings, hub=hub)
    app.config["TESTING"] = True
    return app.test_client()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_key_is_shown_once_and_stored_only_as_its_hash(hub: Hub) -> None:
    clients.create_client(hub.store, "so-tai-nguyen")
    issued = clients.issue_key(hub.store, "so-tai-nguyen", days=30)
    assert issued.token.startswith("hub_")
    with hub.store.engine.connect() as conn:
        stored = conn.execute(sa.select(tables.api_keys)).one()
    assert issued.token not in str(tuple(stored))
    assert stored.hash == hashlib.sha256(issued.token.encode()).hexdigest()
    listed = clients.clients(hub.store)[0]["keys"][0]
    assert listed["prefix"] == issued.token.split("_")[1] and listed["state"] == "active" and "hash" not in listed
    assert clients.resolve_key(issued.token, hub.store).name == "so-tai-nguyen"


def test_bad_revoked_expired_and_disabled_keys_get_401_even_for_open_data(hub: Hub, client_app) -> None:  # noqa: ANN001
    url = "/api/v1/datasets"
    clients.create_client(hub.store, "so-cong-an")
    good = clients.issue_key(hub.store, "so-cong-an").token
    assert client_app.get(url, headers=_bearer(good)).status_code == 200
    assert client_app.get(url, headers=_bearer(good[:-2] + "xx")).status_code == 401
    assert client_app.get(url, headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401

    expiring = clients.issue_key(hub.store, "so-cong-an", days=1).token
    with hub.store.engine.begin() as conn:  # a day later: the key expired when it was created, give or take
        conn.execute(tables.api_keys.update().where(tables.api_keys.c.prefix == expiring.split("_")[1])
                     .values(expires_at=tables.api_keys.c.created_at))
    answer = client_app.get(url, headers=_bearer(expiring))
    assert answer.status_code == 401 and "expired" in answer.get_json()["message"]["en"]
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")

    clients.set_disabled(hub.store, "so-cong-an")
    assert client_app.get(url, headers=_bearer(good)).status_code == 401
    clients.set_disabled(hub.store, "so-cong-an", False)
    assert client_app.get(url, headers=_bearer(good)).status_code == 200
    assert clients.revoke_keys(hub.store, "so-cong-an", good.split("_")[1]) == 1
    answer = client_app.get("/api/v1/datasets/heritage-sites/records", headers=_bearer(good))
    assert answer.status_code == 401 and answer.get_json()["code"] == "unauthenticated"


def test_raw_key_as_ckan_clients_send_it_is_accepted(hub: Hub, client_app) -> None:  # noqa: ANN001
    clients.create_client(hub.store, "so-xay-dung")
    token = clients.issue_key(hub.store, "so-xay-dung").token
    for headers in ({"Authorization": token}, {"X-CKAN-API-Key": token}):
        body = client_app.get("/api/v1/datasets", headers=headers).get_json()
        assert "licences" in {d["id"] for d in body["datasets"]}  # shared: visible to an authenticated client


def test_personal_grant_needs_a_recorded_purpose(hub: Hub) -> None:
    clients.create_client(hub.store, "so-cong-an")
    with pytest.raises(HubError, match="purpose"):
        clients.grant(hub.store, "so-cong-an", "licences", personal=True)
    clients.grant(hub.store, "so-cong-an", "licences", personal=True, purpose="Quản lý lưu trú")
    token = clients.issue_key(hub.store, "so-cong-an").token
    viewer = clients.resolve_key(token, hub.store)
    assert viewer.personal == frozenset({"licences"})
    assert clients.ungrant(hub.store, "so-cong-an", "licences") == 1
    assert clients.resolve_key(token, hub.store).personal == frozenset()


def test_role_and_name_are_checked(hub: Hub) -> None:
    with pytest.raises(HubError, match="Role"):
        clients.create_client(hub.store, "x", "superuser")
    with pytest.raises(HubError):
        clients.create_client(hub.store, "bad name; drop table", "department")
    clients.create_client(hub.store, "so-van-hoa")
    with pytest.raises(HubError, match="already exists"):
        clients.create_client(hub.store, "so-van-hoa")
    with pytest.raises(Unauthenticated):
        clients.resolve_key("not-a-hub-key", hub.store)


def test_hub_keys_commands_create_issue_grant_list_revoke(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.cli import cli

    monkeypatch.setenv("HUB_DATABASE_URL", hub.settings.database_url)
    runner = CliRunner()
    assert runner.invoke(cli, ["keys", "create-client", "so-thong-ke", "--title", "Cục Thống kê"]).exit_code == 0
    issued = runner.invoke(cli, ["keys", "issue", "so-thong-ke", "--days", "10"])
    assert issued.exit_code == 0
    token = issued.stdout.strip().splitlines()[0]
    assert clients.resolve_key(token, hub.store).name == "so-thong-ke"
    refused = runner.invoke(cli, ["keys", "grant", "so-thong-ke", "licences", "--personal"])
    assert refused.exit_code != 0
    granted = runner.invoke(cli, ["keys", "grant", "so-thong-ke", "licences", "--personal", "--purpose", "Thống kê"])
    assert granted.exit_code == 0
    listed = runner.invoke(cli, ["keys", "list", "--json"])
    assert '"purpose": "Thống kê"' in listed.output and token not in listed.output
    assert runner.invoke(cli, ["keys", "revoke", "so-thong-ke"]).exit_code == 0
    with pytest.raises(Unauthenticated):
        clients.resolve_key(token, hub.store)
