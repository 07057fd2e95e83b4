"""A key changed by another process (`hub keys revoke`, another worker, an operator's SQL) counts on the very next
request in this one, although this process remembers the keys it resolved (publish/clients.py); and a key
many threads find missing at once is looked up once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from core.config import PROJECT_ROOT
from core.errors import Unauthenticated
from hub.app import create_app
from publish import clients, tables
from publish.context import Hub
from publish.store import utcnow
from tests.conftest import statements_reading

PATHS = ["/api/v1/datasets/heritage-sites/records", "/api/v1/datasets", "/api/v1/datasets/heritage-sites"]


@pytest.fixture
def client_app(hub: Hub) -> FlaskClient:
    app = create_app(hub.settings, hub=hub)
    app.config["TESTING"] = True
    return app.test_client()


@pytest.fixture
def elsewhere(hub: Hub) -> Iterator[sa.Engine]:
    """Another process's connection to the same database: nothing it changes passes through this process."""
    engine = sa.create_engine(hub.settings.database_url)
    yield engine
    engine.dispose()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_keys_revoked_by_the_cli_are_refused_on_the_next_request(hub: Hub, client_app: FlaskClient) -> None:
    clients.create_client(hub.store, "so-xay-dung")
    tokens = [clients.issue_key(hub.store, "so-xay-dung").token for _ in PATHS]
    settings = hub.settings
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HUB_DATABASE_URL": settings.database_url,
           "HUB_CATALOG_PATH": str(settings.catalog_path), "HUB_STORAGE_DIR": str(settings.storage_dir),
           "HUB_LOG_LEVEL": "WARNING"}
    # `hub keys revoke` in its own process, started first and told to go once this one remembers the keys (its
    # start takes longer than any time a key could be remembered for)
    cli = subprocess.Popen(
        [sys.executable, "-c", "import sys; from hub.cli import main; print('ready', flush=True); "
         "sys.stdin.readline(); main(['keys', 'revoke', 'so-xay-dung'])"],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert cli.stdout is not None and cli.stdout.readline().strip() == "ready"
        for path, token in zip(PATHS, tokens, strict=True):
            assert client_app.get(path, headers=_bearer(token)).status_code == 200  # each key remembered here
        _, err = cli.communicate("go\n", timeout=120)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert cli.returncode == 0, err
    for path, token in zip(PATHS, tokens, strict=True):
        answer = client_app.get(path, headers=_bearer(token))
        assert answer.status_code == 401, path
        assert answer.get_json()["code"] == "unauthenticated"


def test_a_key_expired_elsewhere_is_refused_on_the_next_request(hub: Hub, client_app: FlaskClient,
                                                                elsewhere: sa.Engine) -> None:
    clients.create_client(hub.store, "so-xay-dung")
    token = clients.issue_key(hub.store, "so-xay-dung").token
    assert client_app.get(PATHS[0], headers=_bearer(token)).status_code == 200
    with elsewhere.begin() as conn:
        conn.execute(tables.api_keys.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    answer = client_app.get(PATHS[0], headers=_bearer(token))
    assert answer.status_code == 401 and "expired" in answer.get_json()["message"]["en"]


def test_a_key_downgraded_or_disabled_elsewhere_counts_on_the_next_request(hub: Hub, client_app: FlaskClient,
                                                                          elsewhere: sa.Engine) -> None:
    clients.create_client(hub.store, "so-cong-an")
    clients.grant(hub.store, "so-cong-an", "licences", personal=True, purpose="Quản lý lưu trú")
    token = clients.issue_key(hub.store, "so-cong-an").token
    assert clients.resolve_key(token, hub.store).personal == frozenset({"licences"})
    with elsewhere.begin() as conn:
        conn.execute(tables.grants.delete())
    assert clients.resolve_key(token, hub.store).personal == frozenset()
    assert client_app.get(PATHS[0], headers=_bearer(token)).status_code == 200
    with elsewhere.begin() as conn:
        conn.execute(tables.clients.update().values(disabled=True))
    assert client_app.get(PATHS[0], headers=_bearer(token)).status_code == 401


def test_a_remembered_key_is_trusted_while_nothing_changed(hub: Hub, client_app: FlaskClient) -> None:
    clients.create_client(hub.store, "so-xay-dung")
    token = clients.issue_key(hub.store, "so-xay-dung").token
    assert client_app.get(PATHS[0], headers=_bearer(token)).status_code == 200
    with statements_reading(hub.store, tables.api_keys.name) as seen:
        for _ in range(3):
            assert client_app.get(PATHS[0], headers=_bearer(token)).status_code == 200
    assert [s for s, _ in seen if "FROM hub_keys " in s] == []  # no lookup: the generation did not move


def test_threads_missing_a_key_at_once_look_it_up_once(hub: Hub) -> None:
    clients.create_client(hub.store, "so-xay-dung")
    token = clients.issue_key(hub.store, "so-xay-dung").token
    clients.forget_keys()
    threads, start = 8, threading.Barrier(8)
    lookups: list[str] = []
    names: list[str] = []
    errors: list[BaseException] = []

    def slow_lookup(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM hub_keys " in statement:  # a database that takes a while, so every thread arrives meanwhile
            lookups.append(statement)
            time.sleep(0.3)

    def resolve() -> None:
        try:
            start.wait()
            names.append(clients.resolve_key(token, hub.store).name)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    sa.event.listen(hub.store.read_engine, "before_cursor_execute", slow_lookup)
    try:
        running = [threading.Thread(target=resolve) for _ in range(threads)]
        for t in running:
            t.start()
        for t in running:
            t.join(60)
    finally:
        sa.event.remove(hub.store.read_engine, "before_cursor_execute", slow_lookup)
    assert errors == [] and names == ["so-xay-dung"] * threads
    assert len(lookups) == 1


def test_threads_missing_a_revoked_key_at_once_are_all_refused(hub: Hub) -> None:
    clients.create_client(hub.store, "so-xay-dung")
    token = clients.issue_key(hub.store, "so-xay-dung").token
    clients.revoke_keys(hub.store, "so-xay-dung")
    start, refused = threading.Barrier(4), list[str]()

    def resolve() -> None:
        start.wait()
        try:
            clients.resolve_key(token, hub.store)
        except Unauthenticated as exc:
            refused.append(exc.en)

    running = [threading.Thread(target=resolve) for _ in range(4)]
    for t in running:
        t.start()
    for t in running:
        t.join(60)
    assert len(refused) == 4
