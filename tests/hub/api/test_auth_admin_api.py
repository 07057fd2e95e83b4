"""/api/v1/admin: an admin manages clients, keys and grants over HTTP, and reads the audit log."""

from __future__ import annotations

import uuid

from tests.hub.api.conftest import PERSONAL, Secured


def test_admin_creates_a_client_issues_a_key_grants_and_revokes(secured: Secured, secured_client) -> None:  # noqa: ANN001
    admin = secured.headers("admin")
    name = f"so-ke-hoach-{uuid.uuid4().hex[:6]}"
    created = secured_client.post("/api/v1/admin/clients", json={"name": name, "title": "Sở Kế hoạch"}, headers=admin)
    assert created.status_code == 201 and created.get_json()["role"] == "department"
    issued = secured_client.post(f"/api/v1/admin/clients/{name}/keys", json={"days": 7}, headers=admin).get_json()
    token = issued["token"]
    key = {"Authorization": f"Bearer {token}"}
    records = f"/api/v1/datasets/{PERSONAL}/records?limit=100"
    assert "holder_id_number" not in secured_client.get(records, headers=key).get_json()["fields"]

    refused = secured_client.put(f"/api/v1/admin/clients/{name}/grants/{PERSONAL}", json={"personal": True},
                                 headers=admin)
    assert refused.status_code == 400 and refused.get_json()["context"]["field"] == "purpose"
    granted = secured_client.put(f"/api/v1/admin/clients/{name}/grants/{PERSONAL}",
                                 json={"personal": True, "purpose": "Quy hoạch / planning"}, headers=admin)
    assert granted.status_code == 200 and granted.get_json()["grants"][0]["personal"] is True
    assert "holder_id_number" in secured_client.get(records, headers=key).get_json()["fields"]

    listed = secured_client.get("/api/v1/admin/clients", headers=admin).get_json()
    assert token not in str(listed) and any(c["name"] == name for c in listed)
    revoked = secured_client.delete(f"/api/v1/admin/clients/{name}/keys", headers=admin).get_json()
    assert revoked == {"count": 1}
    assert secured_client.get(records, headers=key).status_code == 401

    trail = secured_client.get(f"/api/v1/admin/audit?client={name}&limit=50", headers=admin).get_json()["entries"]
    assert {e["status"] for e in trail} >= {200, 401}  # its reads, and the refused key afterwards
    actions = secured_client.get("/api/v1/admin/audit?limit=200", headers=admin).get_json()["entries"]
    assert any(e["method"] == "ADMIN" and e["path"] == f"keys grant {name}" and e["client"] == "admin"
               for e in actions)
    verified = secured_client.get("/api/v1/admin/audit/verify", headers=admin).get_json()
    assert verified["ok"] and verified["append_only"] and len(verified["head"]) == 64


def test_admin_endpoints_refuse_everyone_else(secured: Secured, secured_client) -> None:  # noqa: ANN001
    for caller, status in (("anonymous", 401), ("department", 403), ("steward", 403)):
        answer = secured_client.post("/api/v1/admin/clients", json={"name": "intruder"}, headers=secured.headers(caller))
        assert answer.status_code == status, caller
    bad = secured_client.post("/api/v1/admin/clients", data="not json", headers={
        **secured.headers("admin"), "Content-Type": "application/json"})
    assert bad.status_code == 400
    bad_time = secured_client.get("/api/v1/admin/audit?since=yesterday", headers=secured.headers("admin"))
    assert bad_time.status_code == 400 and bad_time.get_json()["context"]["field"] == "since"
