"""The write side of the CKAN Action API, for trusted peers holding a steward or admin key.

A district's hub or another province's can federate into ours (`ckanapi load datasets`, or a hub's own
`hub publish-ckan`): packages, their resources (with uploaded files) and organizations are kept in the
hub_ckan_* tables. Our own, schema-driven datasets and our publishers are read-only here: the catalogue and
the ingest pipeline are their only source, so changing one answers CKAN's Authorization Error.
"""

from __future__ import annotations

from typing import Any

from hub.ckan import federation
from hub.ckan import organizations as orgs
from hub.ckan.errors import AuthorizationError, NotFoundError, ValidationError
from hub.ckan.read import find_package
from hub.ckan.registry import Ctx, action, get_or_bust, not_found
from publish import ckan_revise
from publish.packages import our_packages

__all__: list[str] = []

WRITERS = ("steward", "admin")


def _require_writer(ctx: Ctx, what: str) -> None:
    if ctx.viewer.role not in WRITERS:
        who = ctx.viewer.name or "anonymous"
        raise AuthorizationError(f"Người dùng {who} không được {what} (cần khoá của cán bộ quản lý dữ liệu)",
                                 f"User {who} not authorized to {what} (needs a steward or admin key)")


def _ours(ctx: Ctx, package: dict[str, Any]) -> bool:
    return package["name"] in ctx.hub.catalog.datasets


def _read_only(name: str) -> AuthorizationError:
    return AuthorizationError(
        f"Bộ dữ liệu «{name}» do Sở quản lý theo lược đồ, chỉ đọc qua giao diện này",
        f"Dataset «{name}» is managed by the hub from its schema and is read-only through this API")


def _federated(ctx: Ctx, key: Any) -> dict[str, Any]:
    package = find_package(ctx, key)
    if _ours(ctx, package):
        raise _read_only(package["name"])
    return package


@action(read=False)
def package_create(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Tạo bộ dữ liệu liên thông / Create a federated dataset: name, title, owner_org, notes, tags, extras,
    resources... (CKAN's package fields)."""
    _require_writer(ctx, "create packages")
    return federation.create_package(ctx.hub, data, ctx.viewer, ctx.base)


@action(read=False)
def package_update(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Sửa toàn bộ bộ dữ liệu liên thông / Replace a federated dataset: id or name, and every field (resources
    are kept when the list is left out)."""
    _require_writer(ctx, "update packages")
    key = data.get("id") or get_or_bust(data, "name")
    package = _federated(ctx, key)
    return federation.update_package(ctx.hub, package["id"], data, ctx.viewer, ctx.base)


@action(read=False)
def package_patch(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Sửa một số trường / Change some fields of a federated dataset, keeping the others: id."""
    _require_writer(ctx, "update packages")
    package = _federated(ctx, get_or_bust(data, "id"))
    patched = {**package, **data, "id": package["id"]}
    return federation.update_package(ctx.hub, package["id"], patched, ctx.viewer, ctx.base)


@action(read=False)
def package_revise(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Sửa có điều kiện / Revise a federated dataset: match (the values it must still have, with its id or
    name), filter (fields to remove: "-notes", "+resources", "-*"), update (values merged in), include (what
    to answer); flattened keys too: match__name, update__resources__0__name, update__resources__extend."""
    _require_writer(ctx, "update packages")
    key = ckan_revise.revision_target(data)
    if key is None:
        raise ValidationError({"match__id": ["Missing value"]}, "Thiếu «match» với id hoặc name của bộ dữ liệu",
                              "Missing «match» with the id or name of the dataset")
    package = _federated(ctx, key)
    try:
        revised = ckan_revise.revise(package, data)
    except ckan_revise.ReviseError as exc:
        raise ValidationError({exc.field: [exc.message]}, f"Không sửa được bộ dữ liệu: {exc.message}",
                              f"Cannot revise the dataset: {exc.message}") from None
    saved = federation.update_package(ctx.hub, package["id"], revised, ctx.viewer, ctx.base)
    return ckan_revise.include({"package": saved}, data)


@action(read=False)
def package_delete(ctx: Ctx, data: dict[str, Any]) -> None:
    """Xoá bộ dữ liệu liên thông / Delete a federated dataset: id (id or name). The hub's own datasets are
    read-only."""
    _require_writer(ctx, "delete packages")
    package = _federated(ctx, get_or_bust(data, "id"))
    federation.delete_package(ctx.hub, package["id"])


def _save_resource(ctx: Ctx, data: dict[str, Any], resource_id: str | None) -> dict[str, Any]:
    package = _federated(ctx, get_or_bust(data, "package_id"))
    upload = ctx.files.get("upload") or (data.get("upload") if hasattr(data.get("upload"), "read") else None)
    fields = {k: v for k, v in data.items() if k not in ("upload", "package_id")}
    return federation.save_resource(ctx.hub, package["id"], fields, upload, ctx.viewer, ctx.base, resource_id)


@action(read=False)
def resource_create(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Thêm tài nguyên / Add a resource to a federated dataset: package_id, url or a file in `upload`
    (multipart), name, format, description."""
    _require_writer(ctx, "create resources")
    return _save_resource(ctx, data, None)


def _existing_resource(ctx: Ctx, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    rid = get_or_bust(data, "id")
    found = federation.find_resource(ctx.hub, rid, ctx.viewer)
    if found is None:
        for package in our_packages(ctx.hub, ctx.viewer, ctx.base):  # one of ours: read-only, not "not found"
            if any(r["id"] == rid for r in package["resources"]):
                raise _read_only(package["name"])
        raise NotFoundError("Không tìm thấy tài nguyên", "Resource was not found.", id=str(rid))
    package = find_package(ctx, found[0].id)
    resource = next(r for r in package["resources"] if r["id"] == rid)
    return package, resource


@action(read=False)
def resource_update(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Thay tài nguyên / Replace a resource of a federated dataset: id, and its fields or a new `upload`."""
    _require_writer(ctx, "update resources")
    package, _ = _existing_resource(ctx, data)
    return _save_resource(ctx, {**data, "package_id": package["id"]}, data["id"])


@action(read=False)
def resource_patch(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Sửa một số trường của tài nguyên / Change some fields of a resource, keeping the others: id."""
    _require_writer(ctx, "update resources")
    package, resource = _existing_resource(ctx, data)
    return _save_resource(ctx, {**resource, **data, "package_id": package["id"]}, data["id"])


@action(read=False)
def resource_delete(ctx: Ctx, data: dict[str, Any]) -> None:
    """Xoá tài nguyên / Delete a resource of a federated dataset: id."""
    _require_writer(ctx, "delete resources")
    package, resource = _existing_resource(ctx, data)
    federation.delete_resource(ctx.hub, package["id"], resource["id"])


@action(read=False)
def organization_create(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Tạo đơn vị liên thông / Create an organization for federated datasets: name, title, description."""
    _require_writer(ctx, "create organizations")
    created = orgs.create(ctx.hub, data, ctx.viewer)
    return {**{k: v for k, v in created.items() if k != "ours"}, "package_count": 0, "users": [],
            "display_name": created["title"], "image_display_url": created.get("image_url") or ""}


def _federated_org(ctx: Ctx, key: Any) -> dict[str, Any]:
    found = orgs.find(ctx.hub, key)
    if found is None:
        raise not_found("đơn vị", "organization", key)
    if found["ours"]:
        raise AuthorizationError(f"Đơn vị «{found['name']}» lấy từ danh mục của Sở, chỉ đọc",
                                 f"Organization «{found['name']}» comes from the hub's catalogue and is read-only")
    return found


@action(read=False)
def organization_update(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Sửa đơn vị liên thông / Replace a federated organization: id or name, and its fields."""
    _require_writer(ctx, "update organizations")
    found = _federated_org(ctx, data.get("id") or get_or_bust(data, "name"))
    return orgs.update(ctx.hub, found["id"], data)


@action(read=False)
def organization_patch(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Sửa một số trường của đơn vị / Change some fields of a federated organization: id."""
    _require_writer(ctx, "update organizations")
    found = _federated_org(ctx, get_or_bust(data, "id"))
    return orgs.update(ctx.hub, found["id"], {**found, **data})
