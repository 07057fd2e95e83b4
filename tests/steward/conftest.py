"""Fixtures of the steward workspace tests: a live hub of their own (they upload and publish, so not the
shared read-only `live_hub`), steward keys, and Debian's Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.config import Settings
from hub.app import create_app
from publish import clients, pipeline
from publish.context import Hub
from tests.conftest import LiveServer, free_port
from tests.steward.reference import SAMPLES


def _workspace_hub(folder: Path) -> Hub:
    settings = Settings(database_url=f"sqlite:///{folder / 'hub.db'}", storage_dir=folder / "storage",
                        secret_key="test-secret")
    hub = Hub.open(settings, init=True)
    # the communes with their boundaries, so uploads get their points checked too
    outcome = pipeline.run(hub.store, "admin-units", SAMPLES / "admin-units.geojson", user="tests")
    assert outcome.status == "committed"
    return hub


def issue(hub: Hub, name: str, role: str) -> str:
    clients.create_client(hub.store, name, role)
    return clients.issue_key(hub.store, name).token


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A hub with the communes published, a live server, and keys: two stewards and a department."""
    hub = _workspace_hub(tmp_path_factory.mktemp("steward"))
    tokens = {"steward": issue(hub, "so-vhttdl-steward", "steward"), "other": issue(hub, "other-steward", "steward"),
              "department": issue(hub, "so-tai-nguyen", "department")}
    app = create_app(hub.settings, hub=hub)
    server = LiveServer(app, free_port()).start()
    yield {"hub": hub, "app": app, "url": server.url, "tokens": tokens}
    server.stop()
    hub.store.dispose()


