"""Fixtures of the steward workspace tests: a live hub of their own (they upload and publish, so not the
shared read-only `live_hub`), steward keys, and Debian's Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hub.app import create_app
from publish import clients
from publish.context import Hub
from tests.conftest import LiveServer, free_port
from tests.hub_copies import Templates, communes_copy


def issue(hub: Hub, name: str, role: str) -> str:
    clients.create_client(hub.store, name, role)
    return clients.issue_key(hub.store, name).token


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, templates: Templates) -> Iterator[dict[str, Any]]:
    """A hub with the communes published (with their boundaries, so uploads get their points checked too), a
    live server, and keys: two stewards and a department."""
    copy = communes_copy(templates, "spatialite", tmp_path_factory.mktemp("steward"))
    hub = copy.hub
    tokens = {"steward": issue(hub, "so-vhttdl-steward", "steward"), "other": issue(hub, "other-steward", "steward"),
              "department": issue(hub, "so-tai-nguyen", "department")}
    app = create_app(hub.settings, hub=hub)
    server = LiveServer(app, free_port()).start()
    yield {"hub": hub, "app": app, "url": server.url, "tokens": tokens}
    server.stop()
    copy.close()


