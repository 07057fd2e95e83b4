"""The access matrix: every GET route the app registers (from its URL map, not a list typed by hand) × every
kind of caller; no personal value reaches a caller without the personal-data grant of `licences`.

Callers: anonymous, a bad key, a revoked key, an expired key, a disabled client, a department, a department
with the personal grant, a steward, a steward with it, an admin, an admin with it, and the signed-in workspace
sessions of a steward, a granted steward and an admin. The granted steward has uploaded the messy licences
(through the API: a job; through the workspace: an upload with its report files), so its own answers hold
personal values that must stay its own.
"""

from __future__ import annotations

import csv
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from publish import clients, tables, workspace
from publish.store import utcnow
from tests.security.conftest import MESSY_LICENCES, PERSONAL, SAMPLES, leaked, sign_in

GRANTED = {"department-personal", "steward-personal", "admin-personal", "session:steward-personal"}
CKAN_CALLS = [
    f"datastore_search?resource_id={PERSONAL}&limit=1000",
    f"datastore_search?resource_id={PERSONAL}&limit=1000&records_format=csv",
    f"package_show?id={PERSONAL}", "package_search?q=ca_nhan&include_private=true&rows=100",
    f"datastore_info?id={PERSONAL}", "package_list", "current_package_list_with_resources",
    f"resource_show?id={PERSONAL}",
]


def _individual_key() -> str:
    with (SAMPLES / "licences.csv").open(encoding="utf-8", newline="") as handle:
        return next(r["number"] for r in csv.DictReader(handle) if r["holder_kind"] == "ca_nhan")


def _values(attacked, extra: dict[str, str]) -> dict[str, list[str]]:  # noqa: ANN001
    hub = attacked.hub
    return {
        "dataset_id": [PERSONAL], "key": [_individual_key()], "load_id": [str(attacked.rejected_load)],
        "job_id": [extra["job"]], "token": [extra["token"]], "name": ["report.json", "report.html"],
        "fmt": ["csv", "geojson", "json", "ttl", "jsonld"], "ver": ["3"], "logic_function": CKAN_CALLS,
        "publisher_id": list(hub.catalog.publishers)[:1], "report_id": list(hub.catalog.reports)[:1],
        "filename": ["x.csv"], "package_id": [extra["package"]], "resource_id": [extra["resource"]],
    }


def urls(app, values: dict[str, list[str]]) -> list[str]:  # noqa: ANN001
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/static", "/vendor", "/swaggerui")):
            continue
        built = [rule.rule]
        for arg in sorted(rule.arguments):
            options = values.get(arg) or ["x"]
            built = [u.replace(part, option) for u in built for option in options
                     for part in [p for p in _placeholders(rule.rule, arg)][:1]]
        out += built
    return sorted(set(out))


def _placeholders(rule: str, arg: str) -> list[str]:
    import re

    return re.findall(r"<(?:[^:<>]+(?:\([^)]*\))?:)?" + arg + ">", rule)


@pytest.fixture(scope="module")
def matrix(attacked):  # noqa: ANN001, ANN201
    hub = attacked.hub
    headers: dict[str, dict[str, str]] = {name: attacked.headers(name) for name in attacked.tokens}
    headers["anonymous"] = {}
    headers["bad-key"] = {"Authorization": "Bearer hub_deadbeef_" + "x" * 40}
    for state in ("revoked", "expired", "disabled"):
        name = f"{state}-{uuid.uuid4().hex[:4]}"
        clients.create_client(hub.store, name, "admin", actor="tests")
        clients.grant(hub.store, name, PERSONAL, personal=True, purpose="kiểm thử / test", granted_by="tests")
        token = clients.issue_key(hub.store, name, days=30, actor="tests").token
        if state == "revoked":
            clients.revoke_keys(hub.store, name, actor="tests")
        elif state == "expired":
            with hub.store.engine.begin() as conn:
                conn.execute(tables.api_keys.update().where(tables.api_keys.c.prefix == token.split("_")[1])
                             .values(expires_at=utcnow() - timedelta(days=1)))
        else:
            clients.set_disabled(hub.store, name, actor="tests")
        headers[state] = {"Authorization": f"Bearer {token}"}
    clients.forget_keys()
    app = attacked.app()
    client = app.test_client()
    with MESSY_LICENCES.open("rb") as handle:  # a job of the granted steward
        job = client.post(f"/api/v1/datasets/{PERSONAL}/uploads", headers=headers["steward-personal"],
                          data={"file": (handle, "licences.csv")}, content_type="multipart/form-data").json["job"]["id"]
    with MESSY_LICENCES.open("rb") as handle:  # and an upload in its workspace, checked
        upload = workspace.create(hub, PERSONAL, handle, "licences.csv", "steward-personal")
    workspace.validate(hub, upload)
    package = client.get(f"/api/3/action/package_show?id={PERSONAL}", headers=headers["admin"]).json["result"]
    extra = {"job": job, "token": upload.token, "package": package["id"], "resource": package["resources"][0]["id"]}
    sessions = {}
    for name in ("steward", "steward-personal", "admin"):
        browser = app.test_client()
        assert sign_in(browser, attacked.tokens[name]).status_code == 303
        sessions[f"session:{name}"] = browser
    return app, headers, sessions, urls(app, _values(attacked, extra))


def test_no_personal_value_reaches_a_caller_without_the_grant(matrix) -> None:  # noqa: ANN001
    app, headers, sessions, found = matrix
    assert len(found) > 60
    client = app.test_client()
    leaks: list[tuple[str, str, list[str]]] = []
    seen_by_granted: set[str] = set()
    server_errors = []
    callers = [(name, client, h) for name, h in headers.items()] + [(name, b, {}) for name, b in sessions.items()]
    for name, who, h in callers:
        for url in found:
            answer = who.get(url, headers=h)
            if answer.status_code >= 500:
                server_errors.append((name, url, answer.status_code))
            text = answer.get_data().decode("utf-8", "replace")
            shown = leaked(text)
            if name in GRANTED:
                if shown:
                    seen_by_granted.add(url)
            elif shown:
                leaks.append((name, url, shown[:3]))
    assert not leaks, leaks[:20]
    assert not server_errors, server_errors[:20]
    assert len(seen_by_granted) >= 5, "the granted callers do read personal values (the check can fail)"


def test_denied_states_read_nothing_but_open_data(matrix, attacked) -> None:  # noqa: ANN001
    app, headers, _, _ = matrix
    client = app.test_client()
    for state in ("bad-key", "revoked", "expired", "disabled"):
        assert client.get(f"/api/v1/datasets/{PERSONAL}/records", headers=headers[state]).status_code == 401
        assert client.get("/api/v1/datasets/heritage-sites/records", headers=headers[state]).status_code == 401
    with attacked.hub.store.audit_engine.connect() as conn:
        refused = conn.execute(sa.select(sa.func.count()).select_from(tables.audit_log)
                               .where(tables.audit_log.c.status == 401)).scalar()
    assert refused >= 8
