"""A client becomes a Viewer in one place (publish.clients.viewer_for_client): a disabled client gets nothing on
every path that acts for a client: an API key, a steward's signed-in session, `hub export --client`."""

from __future__ import annotations

import re

from hub.app import create_app
from publish import clients
from publish.context import Hub
from tests.publish.conftest import hub_command

NAME = "so-vhttdl"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_a_disabled_client_gets_no_access_on_any_path(hub: Hub) -> None:
    clients.create_client(hub.store, NAME, "steward")
    clients.grant(hub.store, NAME, "licences", personal=True, purpose="Kiểm tra / checking")
    token = clients.issue_key(hub.store, NAME).token
    app = create_app(hub.settings, hub=hub)
    app.config["TESTING"] = True
    api, steward = app.test_client(), app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}

    # enabled: the builder gives its role and grants, and every path lets it in
    viewer = clients.viewer_for_client(hub.store, NAME)
    assert viewer is not None and viewer.role == "steward" and viewer.personal == frozenset({"licences"})
    assert api.get("/api/v1/datasets", headers=bearer).status_code == 200
    signed_in = steward.post("/steward/login", data={"key": token, "csrf_token": _csrf(steward.get("/steward/login").text)})
    assert signed_in.status_code == 303
    assert steward.get("/steward/").status_code == 200
    exported = hub_command(hub, "export", "heritage-sites", "--client", NAME, "-o", "-")
    assert exported.stdout.startswith("code,name,")  # the CSV header of what the client may see

    clients.set_disabled(hub.store, NAME)

    assert clients.viewer_for_client(hub.store, NAME) is None
    assert api.get("/api/v1/datasets", headers=bearer).status_code == 401
    assert steward.get("/steward/").status_code == 303  # the session signed in before no longer counts
    again = steward.post("/steward/login", data={"key": token, "csrf_token": _csrf(steward.get("/steward/login").text)})
    assert again.status_code == 401
    refused = hub_command(hub, "export", "heritage-sites", "--client", NAME, "-o", "-", check=False)
    assert refused.returncode != 0 and refused.stdout == ""
    assert "tạm khoá" in refused.stderr and "disabled" in refused.stderr
