"""Findings 3, 7 and 9: the steward workspace.

3: an upload is its uploader's (an admin gets 404 too); every steward-session read is in the audit log.
7: signing out, revoking the key, disabling the client or changing its role ends the session at once.
9: wrong keys at the sign-in page are slowed down per address and per key, audited; the right key then waits.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from publish import clients, tables
from publish.context import Hub
from tests.security.conftest import MESSY_LICENCES, PERSONAL, csrf_of, leaked, sign_in


def new_client(hub: Hub, role: str = "steward") -> tuple[str, str]:
    name = f"{role}-{uuid.uuid4().hex[:6]}"
    clients.create_client(hub.store, name, role, actor="tests")
    return name, clients.issue_key(hub.store, name, days=30, actor="tests").token


def signed_in(attacked, token: str):  # noqa: ANN001, ANN201
    browser = attacked.app().test_client()
    assert sign_in(browser, token).status_code == 303
    assert browser.get("/steward/").status_code == 200
    return browser


def test_logout_ends_the_session_even_for_a_copied_cookie(attacked) -> None:
    _, token = new_client(attacked.hub)
    browser = signed_in(attacked, token)
    copied = browser.get_cookie("session").value
    thief = attacked.app().test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/steward/").status_code == 200
    csrf = csrf_of(browser.get("/steward/").get_data(as_text=True))
    assert browser.post("/steward/logout", data={"csrf_token": csrf}).status_code == 303
    assert thief.get("/steward/").status_code == 303  # the old cookie opens nothing any more


def test_revoking_the_key_disabling_or_changing_the_role_ends_sessions(attacked) -> None:
    hub = attacked.hub
    name, token = new_client(hub)
    browser = signed_in(attacked, token)
    clients.revoke_keys(hub.store, name, actor="tests")
    assert browser.get("/steward/").status_code == 303

    name, token = new_client(hub)
    browser = signed_in(attacked, token)
    clients.set_disabled(hub.store, name, actor="tests")
    assert browser.get("/steward/").status_code == 303

    name, token = new_client(hub, "admin")
    browser = signed_in(attacked, token)
    with hub.store.engine.begin() as conn:
        conn.execute(tables.clients.update().where(tables.clients.c.name == name).values(role="steward"))
    assert browser.get("/steward/").status_code == 303  # a new role needs a new sign-in


def test_an_admin_cannot_open_a_stewards_upload_and_reads_are_audited(attacked) -> None:
    hub = attacked.hub
    uploader, token = new_client(hub)
    browser = signed_in(attacked, token)
    page = browser.get("/steward/")
    with MESSY_LICENCES.open("rb") as handle:
        sent = browser.post("/steward/uploads", data={"dataset": PERSONAL, "file": (handle, "licences.csv"),
                                                      "csrf_token": csrf_of(page.get_data(as_text=True))},
                            content_type="multipart/form-data")
    assert sent.status_code == 303
    upload_url = sent.headers["Location"]
    token_part = upload_url.rstrip("/").rsplit("/", 1)[1]
    import time

    from publish import workspace
    deadline = time.monotonic() + 120
    while workspace.get(hub, token_part).running and time.monotonic() < deadline:
        time.sleep(0.2)
    # the uploader (no personal grant) reads its report blanked, in every file
    for name in ("report.json", "report.html", "rows-to-fix.xlsx"):
        got = browser.get(f"{upload_url}/{name}")
        assert got.status_code == 200, name
        if name != "rows-to-fix.xlsx":
            assert leaked(got.get_data(as_text=True)) == [], name
    _, admin_token = new_client(hub, "admin")
    admin = signed_in(attacked, admin_token)
    for suffix in ("", "/report.json", "/rows-to-fix.xlsx"):
        assert admin.get(f"{upload_url}{suffix}").status_code == 404, suffix
    with hub.store.audit_engine.connect() as conn:
        seen = conn.execute(sa.select(tables.audit_log.c.path, tables.audit_log.c.dataset).where(
            tables.audit_log.c.client == uploader)).all()
    paths = {p for p, _ in seen}
    assert f"/steward/uploads/{token_part}/report.json" in paths
    assert any(d == PERSONAL for _, d in seen)


def test_sign_in_backs_off_after_wrong_keys_and_the_right_key_then_waits(attacked) -> None:
    hub = attacked.hub
    _, token = new_client(hub)
    prefix = token.split("_")[1]
    browser = attacked.app().test_client()
    page = browser.get("/steward/login")
    csrf = csrf_of(page.get_data(as_text=True))
    statuses = []
    for i in range(12):
        wrong = f"hub_{prefix}_wrong{i:02d}{'x' * 30}"
        answer = browser.post("/steward/login", data={"key": wrong, "csrf_token": csrf},
                              environ_base={"REMOTE_ADDR": f"10.9.{i}.1"})  # other addresses: the key counts
        statuses.append(answer.status_code)
    assert statuses[:5] == [401] * 5 and 429 in statuses[5:]
    right = browser.post("/steward/login", data={"key": token, "csrf_token": csrf},
                         environ_base={"REMOTE_ADDR": "10.9.99.1"})
    assert right.status_code == 429 and int(right.headers["Retry-After"]) >= 1
    # from one address, whatever key it tries
    other = attacked.app().test_client()
    csrf = csrf_of(other.get("/steward/login").get_data(as_text=True))
    for i in range(8):
        last = other.post("/steward/login", data={"key": f"hub_r{i}x_{'y' * 40}", "csrf_token": csrf},
                          environ_base={"REMOTE_ADDR": "10.8.0.1"})
    assert last.status_code == 429
    with hub.store.audit_engine.connect() as conn:
        refused = conn.execute(sa.select(sa.func.count()).select_from(tables.audit_log).where(
            tables.audit_log.c.path == "/steward/login", tables.audit_log.c.status.in_((401, 429)))).scalar()
    assert refused >= 20  # every try is audited
