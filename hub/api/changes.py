"""/api/v1/datasets/<id>/versions and /changes: a dataset's history and its change feed.

A department keeping a copy stores the `until` of its last sync and asks `/changes?since=<that>`: `added`
and `changed` records are upserted by `key`, `removed` keys deleted, and `next_cursor` is followed until it
is null. Pages are pinned to the same two versions, so a load landing mid-sync changes nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import request
from flask_restx import Resource, fields

from hub import audit
from hub.api.answers import Built, answer, known_version
from hub.api.datasets import ns, visible_dataset
from hub.api.models import error, nullable
from hub.api.params import MAX_VERSION
from hub.auth import current_viewer
from hub.context import current_hub
from publish import changes, versions
from publish.access import sees_personal
from publish.query import QueryError

CHANGE_PARAMS = {
    "since": {"type": "integer", "minimum": 0, "maximum": MAX_VERSION, "required": True,
              "description": "Phiên bản bản sao đang có (0 = chưa có gì) / the version the caller's copy holds (0 = "
                             "nothing yet; with cursor, ignored); at most until"},
    "until": {"type": "integer", "minimum": 1, "maximum": MAX_VERSION,
              "description": "Đến phiên bản / up to this version (default: the current one; 404 if it does not exist)"},
    "limit": {"type": "integer", "minimum": 1, "format": "int64", "default": 1000,
              "description": "Số thay đổi mỗi trang / changes per page (default 1000; at most the server's page "
                             "maximum, HUB_MAX_PAGE_SIZE: a larger limit gives that many)"},
    "cursor": {"type": "string", "description": "Con trỏ trang tiếp / next_cursor of the previous page, as given "
                                                "(keeps since and until; any other value is refused)"},
}
VERSION_FIELDS = ["version", "finished_at", "source_name", "source_sha256", "source_size", "format", "rows_loaded",
                  "rows_added", "rows_changed", "rows_removed", "rows_unchanged", "quality_score", "note"]


def _int(name: str, default: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise QueryError(f"«{name}» phải là số nguyên", f"«{name}» must be an integer", field=name) from None


change = ns.model("Change", {
    "op": fields.String(enum=["added", "changed", "removed"], description="thêm / added, đổi / changed, xoá / removed"),
    "key": fields.String(description="Khoá chính / primary key (parts joined with ','), as in /records/<key>"),
    "version": fields.Integer(description="Phiên bản tạo thay đổi / the version that made the change"),
    "record": fields.Raw(description="Bản ghi ở phiên bản «until»; với removed: bản ghi trước khi xoá / the record "
                                     "as of «until»; for removed, as it was before"),
    "fields": nullable(fields.List(fields.String, description="Với changed: các trường đã đổi / for changed: the fields "
                                                     "whose value changed; null otherwise")),
})
feed = ns.model("ChangeFeed", {
    "dataset": fields.String,
    "since": fields.Integer,
    "until": fields.Integer(description="Lưu lại để lần sau hỏi since=until / keep it: ask since=until next time"),
    "changes": fields.List(fields.Nested(change)),
    "next_cursor": nullable(fields.String(description="null on the last page")),
    "next": nullable(fields.String(description="URL of the next page; null on the last page")),
})
version = ns.model("Version", {
    "version": fields.Integer,
    "finished_at": nullable(fields.String(description="Thời điểm công bố (UTC) / published at (UTC)")),
    "source_name": nullable(fields.String(description="Tệp nguồn / source file")),
    "source_sha256": nullable(fields.String()),
    "source_size": nullable(fields.Integer()),
    "format": nullable(fields.String()),
    "rows_loaded": fields.Integer,
    "rows_added": fields.Integer,
    "rows_changed": fields.Integer,
    "rows_removed": fields.Integer,
    "rows_unchanged": fields.Integer,
    "quality_score": nullable(fields.Float()),
    "note": nullable(fields.String(description="e.g. «rollback to 3»")),
    "changes": fields.String(description="URL of this version's changes"),
})
listing = ns.model("VersionList", {"dataset": fields.String, "current": nullable(fields.Integer()),
                                    "versions": fields.List(fields.Nested(version))})


@ns.route("/<string:dataset_id>/changes")
@ns.param("dataset_id", "Mã bộ dữ liệu / dataset id")
class Changes(Resource):
    optimistic = True  # a keyed GET may be answered from what the process last saw (hub/optimistic.py)

    @ns.doc("list_changes", params=CHANGE_PARAMS)
    @ns.response(200, "Các thay đổi giữa hai phiên bản / changes between two versions", feed)
    @ns.response(400, "Tham số sai / bad parameter", error)
    @ns.response(404, "Không có / not found", error)
    def get(self, dataset_id: str) -> Any:
        """Bản ghi thêm, đổi, xoá từ phiên bản «since» / records added, changed and removed since a version"""
        hub = current_hub()
        viewer = current_viewer()
        dataset = visible_dataset(hub, dataset_id, viewer)
        cursor = request.args.get("cursor") or None
        since = _int("since")
        if since is None and cursor is None:
            raise QueryError("Cần «since» (phiên bản bản sao đang có, 0 nếu chưa có)",
                             "«since» is required (the version your copy holds, 0 for none)", field="since")
        maximum = hub.settings.max_page_size
        limit = _int("limit", 1000)
        if limit is None or limit < 1:
            raise QueryError("«limit» phải từ 1 trở lên", "«limit» must be 1 or more", field="limit")
        limit = min(limit, maximum, changes.MAX_LIMIT)  # a page holds at most the server's maximum
        until = _int("until")
        if cursor:
            since, until, _ = changes.decode_cursor(cursor)  # a cursor pins both versions
        personal = sees_personal(dataset, viewer) and bool(dataset.schema.personal_fields)

        def build(pinned: int) -> Built:
            # the current version as answer() read it (for `until`'s check): no second round trip for it
            page = changes.changes(hub.store, dataset, since or 0, pinned, viewer, limit=limit, cursor=cursor,
                                   current=known_version(dataset.id))
            audit.note(dataset=dataset.id, rows=len(page.changes), personal=personal)
            body = page.to_dict()
            body["next"] = None
            if page.next_cursor:
                body["next"] = request.base_url + "?" + urlencode({"cursor": page.next_cursor, "limit": limit})
            return Built(body, page.until, len(page.changes), personal)

        parts = {"what": "changes", "since": since or 0, "cursor": cursor, "limit": limit}
        return answer(dataset, viewer, parts, build, version=until)


@ns.route("/<string:dataset_id>/versions")
@ns.param("dataset_id", "Mã bộ dữ liệu / dataset id")
class Versions(Resource):
    @ns.doc("list_versions")
    @ns.response(200, "Các phiên bản, mới nhất trước / versions, newest first", listing)
    @ns.response(404, "Không có / not found", error)
    def get(self, dataset_id: str) -> dict[str, Any]:
        """Các phiên bản đã công bố và nguồn gốc / published versions and their provenance"""
        hub = current_hub()
        dataset = visible_dataset(hub, dataset_id, current_viewer())
        rows = []
        committed = versions.versions(hub.store, dataset.id)
        for row in committed:
            out = {name: row.get(name) for name in VERSION_FIELDS}
            out["changes"] = f"/api/v1/datasets/{dataset.id}/changes?since={row['version'] - 1}&until={row['version']}"
            rows.append(out)
        # the newest committed version is the current one (Store.current_version's max): no second statement
        return {"dataset": dataset.id, "current": committed[0]["version"] if committed else None, "versions": rows}


__all__ = ["Changes", "Versions"]
