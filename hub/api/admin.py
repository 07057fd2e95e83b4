"""/api/v1/admin: clients, keys, grants and the audit log, for admins (the same functions as `hub keys`).

Every change is written to the audit chain by publish/clients.py with the admin's name; a new key is in the answer
once and nowhere else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request
from flask_restx import Namespace, Resource, fields

from core.errors import HubError
from hub.api.errors import responses
from hub.api.models import error, nullable
from hub.auth import require_role
from hub.context import current_hub
from publish import audit, clients

__all__ = ["ns"]


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if data is None and request.content_length:
        raise HubError("Nội dung gửi lên phải là JSON", "The request body must be JSON", code="bad-body")
    if data is not None and not isinstance(data, dict):
        raise HubError("Nội dung gửi lên phải là một đối tượng JSON", "The request body must be a JSON object",
                       code="bad-body")
    return data or {}


TEXT_MAX = 2000  # characters of a text in a body


def _text(data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise HubError(f"Thiếu «{name}»", f"«{name}» is required", code="bad-body", field=name)
        return None
    if not isinstance(value, str) or len(value) > TEXT_MAX:
        raise HubError(f"«{name}» phải là chuỗi (tối đa 2000 ký tự)", f"«{name}» must be a string (at most 2000 characters)",
                       code="bad-body", field=name)
    return value


def _int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise HubError(f"«{name}» phải từ {low} đến {high}", f"«{name}» must be between {low} and {high}",
                       code="bad-query", field=name)
    return value


def _time_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=None)
    except ValueError:
        raise HubError(f"«{name}» phải là thời điểm ISO 8601 (UTC)", f"«{name}» must be an ISO 8601 time (UTC)",
                       code="bad-query", field=name) from None


ns = Namespace("admin", description="Quản trị bên sử dụng, khoá, quyền và nhật ký / clients, keys, grants, audit (admins)")
key = ns.model("KeyInfo", {
    "prefix": fields.String(description="Phần đầu công khai của khoá / the key's public prefix"),
    "state": fields.String(enum=["active", "expired", "revoked"]),
    "created_at": fields.String, "expires_at": nullable(fields.String()), "revoked_at": nullable(fields.String()),
    "last_used_at": nullable(fields.String()),
})
grant = ns.model("GrantInfo", {
    "dataset": fields.String, "personal": fields.Boolean, "purpose": nullable(fields.String()),
    "granted_at": fields.String, "granted_by": nullable(fields.String()),
})
client = ns.model("Client", {
    "name": fields.String, "role": fields.String(enum=list(clients.ROLES)), "title": nullable(fields.String()),
    "contact": nullable(fields.String()), "created_at": fields.String, "disabled": fields.Boolean,
    "keys": fields.List(fields.Nested(key)), "grants": fields.List(fields.Nested(grant)),
})
new_client = ns.model("NewClient", {
    "name": fields.String(required=True, pattern=r"^[\w.-]{1,100}$",
                          description="Tên ngắn: chữ, số, '-', '_', '.' / short name: letters, digits, '-', '_', '.' "
                                      "(e.g. so-xay-dung)"),
    "role": fields.String(enum=list(clients.ROLES), default="department"),
    "title": fields.String(max_length=TEXT_MAX, description="Tên đầy đủ / full name"),
    "contact": fields.String(max_length=TEXT_MAX, description="Liên hệ / contact"),
})
new_key = ns.model("NewKey", {"days": fields.Integer(min=1, max=3650, description="Số ngày hiệu lực / days valid "
                                                                             "(default 365)")})
issued = ns.model("IssuedKey", {
    "client": fields.String, "token": fields.String(description="Khoá, chỉ hiện một lần / the key, shown once"),
    "expires_at": nullable(fields.String()),
})
new_grant = ns.model("NewGrant", {
    "personal": fields.Boolean(description="Cả dữ liệu cá nhân / personal data too"),
    "purpose": fields.String(max_length=TEXT_MAX, description="Mục đích (bắt buộc với dữ liệu cá nhân) / purpose "
                                                              "(required, not blank, when personal is true: 400 "
                                                              "otherwise)"),
})
count = ns.model("Count", {"count": fields.Integer})
entry = ns.model("AuditEntry", {
    "id": fields.Integer, "at": fields.String, "request_id": nullable(fields.String()),
    "client": nullable(fields.String()), "ip": nullable(fields.String()), "method": nullable(fields.String()),
    "path": nullable(fields.String()), "dataset": nullable(fields.String()), "query": nullable(fields.String()),
    "status": nullable(fields.Integer()), "rows": nullable(fields.Integer()), "personal": nullable(fields.Boolean()),
    "detail": nullable(fields.Raw()),
})
entries = ns.model("AuditEntries", {"entries": fields.List(fields.Nested(entry))})
verification = ns.model("AuditVerification", {
    "ok": fields.Boolean, "checked": fields.Integer,
    "head": nullable(fields.String(description="hash of the last entry")),
    "head_id": nullable(fields.Integer(description="id of the last entry")),
    "broken_id": nullable(fields.Integer(description="first entry that does not check")),
    "reason": nullable(fields.String(description="why, when not ok")), "append_only": fields.Boolean,
    "anchors_checked": fields.Integer(description="signed checkpoints compared"),
})

guarded = responses(ns, error, 400, 401, 403, 404, 429)
KEYED: list[dict[str, list[str]]] = [{"bearer": []}]  # every operation here needs an admin's key


def admin() -> str:
    return require_role("admin").name or "admin"


@ns.route("/clients")
class Clients(Resource):
    @ns.doc("list_clients", security=KEYED)
    @ns.response(200, "Các bên sử dụng / clients", [client])
    @guarded
    def get(self) -> list[dict[str, Any]]:
        """Các bên sử dụng, khoá và quyền / clients with their keys and grants"""
        admin()
        return clients.clients(current_hub().store)

    @ns.doc("create_client", security=KEYED)
    @ns.expect((new_client, "Bên sử dụng mới / the new client"), validate=False)
    @ns.response(201, "Đã tạo / created", client)
    @guarded
    def post(self) -> tuple[dict[str, Any], int]:
        """Tạo bên sử dụng / create a client"""
        actor = admin()
        data = _body()
        name = _text(data, "name", required=True) or ""
        clients.create_client(current_hub().store, name, _text(data, "role") or "department",
                           title=_text(data, "title"), contact=_text(data, "contact"), actor=actor)
        return next(c for c in clients.clients(current_hub().store) if c["name"] == name), 201


@ns.route("/clients/<string:name>/keys")
@ns.param("name", "Tên bên sử dụng / client name")
class Keys(Resource):
    @ns.doc("issue_key", security=KEYED)
    @ns.expect((new_key, "Thời hạn của khoá / how long the key is valid"), validate=False)
    @ns.response(201, "Khoá mới, chỉ hiện lần này / the new key, shown this once", issued)
    @guarded
    def post(self, name: str) -> tuple[dict[str, Any], int]:
        """Cấp khoá mới / issue a key"""
        actor = admin()
        days = _body().get("days", 365)
        if days is not None and (not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3650):
            raise HubError("«days» phải từ 1 đến 3650", "«days» must be between 1 and 3650", code="bad-body",
                           field="days")
        key = clients.issue_key(current_hub().store, name, days=days, actor=actor)
        return {"client": key.client, "token": key.token,
                "expires_at": key.expires_at.isoformat(timespec="seconds") if key.expires_at else None}, 201

    @ns.doc("revoke_keys", security=KEYED, params={"prefix": "Chỉ khoá này / only the key with this prefix"})
    @ns.response(200, "Số khoá đã thu hồi / how many keys were revoked", count)
    @guarded
    def delete(self, name: str) -> dict[str, int]:
        """Thu hồi khoá / revoke keys"""
        actor = admin()
        return {"count": clients.revoke_keys(current_hub().store, name, request.args.get("prefix") or None,
                                          actor=actor)}


@ns.route("/clients/<string:name>/grants/<string:dataset_id>")
@ns.param("name", "Tên bên sử dụng / client name")
@ns.param("dataset_id", "Mã bộ dữ liệu / dataset id")
class Grants(Resource):
    @ns.doc("grant", security=KEYED)
    @ns.expect((new_grant, "Quyền cấp / what is granted"), validate=False)
    @ns.response(200, "Đã cấp quyền / granted", client)
    @guarded
    def put(self, name: str, dataset_id: str) -> dict[str, Any]:
        """Cấp quyền đọc (và dữ liệu cá nhân) / grant a dataset (and its personal data)"""
        actor = admin()
        data = _body()
        personal = data.get("personal", False)
        if not isinstance(personal, bool):
            raise HubError("«personal» phải là true/false", "«personal» must be true or false", code="bad-body",
                           field="personal")
        clients.grant(current_hub().store, name, dataset_id, personal=personal, purpose=_text(data, "purpose"),
                   granted_by=actor)
        return next(c for c in clients.clients(current_hub().store) if c["name"] == name)

    @ns.doc("ungrant", security=KEYED)
    @ns.response(200, "Số quyền đã rút / how many grants were withdrawn", count)
    @guarded
    def delete(self, name: str, dataset_id: str) -> dict[str, int]:
        """Rút quyền / withdraw a grant"""
        actor = admin()
        return {"count": clients.ungrant(current_hub().store, name, dataset_id, actor=actor)}


@ns.route("/audit")
class Audit(Resource):
    @ns.doc("list_audit", security=KEYED, params={
        "client": "Bên sử dụng / client", "dataset": "Bộ dữ liệu / dataset",
        "since": {"type": "string", "format": "date-time", "description": "Từ (ISO 8601, UTC) / from"},
        "until": {"type": "string", "format": "date-time", "description": "Đến (ISO 8601, UTC) / until"},
        "status": {"type": "integer", "minimum": 100, "maximum": 599, "description": "Mã HTTP / HTTP status"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 100,
                  "description": "Số mục / how many, newest first"}})
    @ns.response(200, "Nhật ký, mới nhất trước / entries, newest first", entries)
    @guarded
    def get(self) -> dict[str, Any]:
        """Nhật ký kiểm toán / the audit log"""
        admin()
        return {"entries": audit.entries(
            current_hub().store, client=request.args.get("client") or None,
            dataset=request.args.get("dataset") or None, since=_time_arg("since"), until=_time_arg("until"),
            status=_int_arg("status", None, 100, 599), limit=_int_arg("limit", 100, 1, 10_000) or 100)}


@ns.route("/audit/verify")
class AuditVerify(Resource):
    @ns.doc("verify_audit", security=KEYED)
    @ns.response(200, "Kết quả kiểm tra chuỗi băm / the hash chain check", verification)
    @guarded
    def get(self) -> dict[str, Any]:
        """Kiểm tra chuỗi băm của nhật ký / verify the audit log's hash chain"""
        admin()
        hub = current_hub()
        anchors = audit.read_anchors(audit.anchors_path(hub.settings.storage_dir))
        return audit.verify(hub.store, anchors).to_dict()
