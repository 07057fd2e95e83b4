"""Finding 4: no serving with the default (or a short) secret beyond loopback; Secure cookies behind TLS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from itsdangerous import URLSafeTimedSerializer

from core.config import DEFAULT_SECRET_KEY, Settings
from core.errors import ConfigError
from hub.app import create_app
from publish import clients
from publish.context import Hub
from tests.ops.conftest import hub_env, run_hub
from tests.security.conftest import sign_in

LONG = "x" * 16 + "0123456789abcdef0123"


class Plain:
    """An empty hub on SpatiaLite with a steward key: what these tests need of `Secured`."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        clients.create_client(hub.store, "steward", "steward", actor="tests")
        self.tokens = {"steward": clients.issue_key(hub.store, "steward", actor="tests").token}

    def app(self, **changes: object):  # noqa: ANN201
        hub = Hub(self.hub.settings.replace(**changes), self.hub.catalog, self.hub.store)
        return create_app(hub.settings, hub=hub)


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plain]:
    tmp = tmp_path_factory.mktemp("secrets")
    hub = Hub.open(Settings(database_url=f"sqlite:///{tmp / 'hub.db'}", storage_dir=tmp / "storage",
                            secret_key="test-secret"), init=True)
    yield Plain(hub)
    hub.store.dispose()


@pytest.mark.parametrize("changes", [
    {"bind": "0.0.0.0:8080"},
    {"bind": "unix:/run/hub/web.sock"},
    {"base_url": "https://dulieu.dongnai.gov.vn"},
    {"proxies": 1},
    {"bind": "0.0.0.0:8080", "secret_key": "short-but-not-default"},
])
def test_weak_secret_beyond_loopback_is_refused(secured, changes) -> None:
    with pytest.raises(ConfigError) as refused:
        secured.app(**{"secret_key": DEFAULT_SECRET_KEY, **changes})
    assert "HUB_SECRET_KEY" in refused.value.message("en") and "HUB_SECRET_KEY" in refused.value.message("vi")


def test_weak_secret_on_loopback_and_a_long_secret_anywhere_serve(secured) -> None:
    assert secured.app(secret_key=DEFAULT_SECRET_KEY, bind="127.0.0.1:9555")
    assert secured.app(secret_key=LONG, bind="0.0.0.0:8080", base_url="https://dulieu.dongnai.gov.vn", proxies=1)


def test_forged_cookie_of_the_default_secret_does_not_open_the_workspace(secured) -> None:
    """The attack of the finding: a cookie signed with the public default secret. A hub that serves beyond
    loopback has a secret of its own, so the forged cookie is not a session."""
    app = secured.app(secret_key=LONG, bind="0.0.0.0:8080")
    serializer = URLSafeTimedSerializer(DEFAULT_SECRET_KEY, salt="cookie-session", signer_kwargs={
        "key_derivation": "hmac", "digest_method": __import__("hashlib").sha1})
    forged = serializer.dumps({"steward": "steward"})
    client = app.test_client()
    client.set_cookie("session", forged)
    answer = client.get("/steward/")
    assert answer.status_code in (302, 303) and "/steward/login" in answer.headers["Location"]


def test_serve_on_a_public_address_with_the_default_secret_exits_3(tmp_path) -> None:
    env = hub_env(database_url=f"sqlite:///{tmp_path / 'hub.db'}", storage_dir=tmp_path / "storage")
    result = run_hub("serve", "--host", "0.0.0.0", "--port", "9551", env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 3, result.stderr
    assert "HUB_SECRET_KEY" in result.stderr


def test_session_cookie_is_secure_behind_a_tls_proxy(secured) -> None:
    app = secured.app(secret_key=LONG, proxies=1, base_url="http://127.0.0.1:8080")
    client = app.test_client()
    answer = sign_in(client, secured.tokens["steward"])
    cookie = answer.headers.get("Set-Cookie", "")
    assert "session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie


def test_settings_know_loopback() -> None:
    assert Settings().secret_refusal() is None
    assert Settings(bind="[::1]:8080").secret_refusal() is None
    assert Settings(bind="10.0.0.5:8080").secret_refusal() is not None


def test_check_config_reports_the_weak_secret_beyond_loopback(tmp_path) -> None:
    env = hub_env(database_url=f"sqlite:///{tmp_path / 'hub.db'}", storage_dir=tmp_path / "storage",
                  bind="0.0.0.0:8080")
    result = run_hub("check-config", env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 3 and "HUB_SECRET_KEY" in result.stdout + result.stderr
