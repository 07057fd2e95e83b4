"""Federated packages: what trusted peers (a district's hub, another province's) create in ours through the CKAN
Action API, stored in the hub_ckan_* tables beside our schema-driven datasets.

They are plain CKAN dictionaries: we keep CKAN's core package fields, tags, extras and groups (a group is kept
when it names one of our themes, and silently dropped otherwise, as CKAN drops unknown groups), and the
resources with their uploaded files. Names share one namespace with our datasets, so a peer can never shadow
one of ours. Organizations are our publishers plus the ones peers create (hub/ckan/organizations.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from hub.ckan import organizations as orgs
from hub.ckan.errors import NotFoundError
from hub.ckan.uploads import delete_upload, guess_format, save_upload
from hub.ckan.validation import (
    PACKAGE_TEXT_FIELDS,
    Errors,
    add,
    as_bool,
    check_email,
    check_name,
    clean_extras,
    clean_tags,
    raise_if,
    valid_uuid,
)
from publish import tables
from publish.access import Viewer
from publish.context import Hub
from publish.metadata import ckan_time, hub_id
from publish.packages import group_dict, tag_dict
from publish.store import utcnow

__all__ = ["create_package", "delete_package", "delete_resource", "find_package", "find_resource", "list_packages",
           "save_resource", "update_package"]

P, R = tables.ckan_packages, tables.ckan_resources
# CKAN's licence register marks these open (ckan/model/license.py)
OPEN_LICENCES = {"cc-by", "cc-by-sa", "cc-zero", "odc-by", "odc-odbl", "odc-pddl", "other-open", "other-pd",
                 "other-at", "gfdl", "uk-ogl"}
# resource keys the server manages; whatever else a client sends is kept as a resource extra
SERVER_RESOURCE_KEYS = {"id", "package_id", "position", "created", "metadata_modified", "state", "datastore_active",
                        "upload", "clear_upload", "url_type", "cache_url", "cache_last_updated"}


# -- reading -------------------------------------------------------------------------------------------------
def _resource_out(row: Any, package_id: str, base: str) -> dict[str, Any]:
    data = json.loads(row.data)
    url = data.get("url") or ""
    if data.get("url_type") == "upload":
        url = f"{base}/dataset/{package_id}/resource/{row.id}/download/{url.rsplit('/', 1)[-1]}"
    return {"cache_last_updated": None, "cache_url": None, "description": "", "format": "", "hash": "",
            "last_modified": None, "mimetype": None, "mimetype_inner": None, "name": "", "resource_type": None,
            "size": None, "url_type": None,
            **data,
            "id": row.id, "package_id": package_id, "position": row.position, "state": "active", "url": url,
            "datastore_active": False}


def _package_out(hub: Hub, row: Any, resource_rows: Sequence[Any], base: str,
                 known_orgs: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    lang = hub.settings.language
    data = json.loads(row.data)
    if known_orgs is not None:
        org = known_orgs.get(row.owner_org)
    else:
        org = orgs.core(hub, row.owner_org) if row.owner_org else None
    licence_id = data.get("license_id") or ""
    ours = hub.catalog.licences.get(licence_id) or {}
    tags = [tag_dict(n) for n in data.get("tags", [])]
    resources = [_resource_out(r, row.id, base) for r in sorted(resource_rows, key=lambda r: r.position)]
    out = {key: data.get(key) for key in PACKAGE_TEXT_FIELDS}
    out.update({
        "id": row.id,
        "name": row.name,
        "title": data.get("title") or row.name,
        "type": data.get("type") or "dataset",
        "license_title": ours.get("title") or licence_id or None,
        "license_url": ours.get("url"),
        "isopen": bool(ours.get("open")) or licence_id in OPEN_LICENCES,
        "state": "active",
        "private": bool(row.private),
        "creator_user_id": row.created_by,
        "owner_org": row.owner_org,
        "organization": org,
        "metadata_created": ckan_time(row.metadata_created),
        "metadata_modified": ckan_time(row.metadata_modified),
        "num_resources": len(resources),
        "num_tags": len(tags),
        "tags": tags,
        "groups": [group_dict(hub, g, lang) for g in data.get("groups", []) if g in hub.catalog.themes],
        "extras": data.get("extras", []),
        "resources": resources,
        "relationships_as_object": [],
        "relationships_as_subject": [],
    })
    return out


def _visible(row: Any, viewer: Viewer) -> bool:
    return not row.private or viewer.role in ("steward", "admin")


def find_package(hub: Hub, key: str, viewer: Viewer, base: str) -> dict[str, Any] | None:
    """A federated package by id or name, or None (also when it is private and the viewer is not a steward)."""
    with hub.store.read_engine.connect() as conn:
        row = conn.execute(sa.select(P).where(sa.or_(P.c.id == key, P.c.name == key))).first()
        if row is None or not _visible(row, viewer):
            return None
        resources = conn.execute(sa.select(R).where(R.c.package_id == row.id)).all()
    return _package_out(hub, row, resources, base)


def list_packages(hub: Hub, viewer: Viewer, base: str) -> list[dict[str, Any]]:
    with hub.store.read_engine.connect() as conn:
        rows = [r for r in conn.execute(sa.select(P).order_by(P.c.name)) if _visible(r, viewer)]
        resources: dict[str, list[Any]] = {}
        for res in conn.execute(sa.select(R)):
            resources.setdefault(res.package_id, []).append(res)
    known = {o["id"]: {k: v for k, v in o.items() if k not in ("extras", "ours")} for o in orgs.list_all(hub)}
    return [_package_out(hub, r, resources.get(r.id, []), base, known) for r in rows]


def find_resource(hub: Hub, resource_id: str, viewer: Viewer) -> tuple[Any, Any] | None:
    """(package row, resource row) of a federated resource the viewer may see, or None."""
    with hub.store.read_engine.connect() as conn:
        res = conn.execute(sa.select(R).where(R.c.id == resource_id)).first()
        if res is None:
            return None
        pkg = conn.execute(sa.select(P).where(P.c.id == res.package_id)).first()
    if pkg is None or not _visible(pkg, viewer):
        return None
    return pkg, res


# -- writing -------------------------------------------------------------------------------------------------
def _clean(hub: Hub, data: dict[str, Any], viewer: Viewer, own_id: str | None) -> tuple[dict[str, Any], Errors]:
    """The stored form of a package dictionary, and every problem found in it."""
    errors: Errors = {}
    name = check_name(data.get("name"), "name", errors)
    if name and (name in hub.catalog.datasets or _name_taken(hub, name, own_id)):
        add(errors, "name", "That URL is already in use.")
    stored: dict[str, Any] = {"name": name}
    for key in PACKAGE_TEXT_FIELDS:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            value = str(value)
        stored[key] = value or None
    stored["title"] = stored["title"] or name
    check_email(stored["author_email"], "author_email", errors)
    check_email(stored["maintainer_email"], "maintainer_email", errors)
    stored["private"] = as_bool(data.get("private"), "private", errors)
    stored["tags"] = clean_tags(data, errors)
    stored["extras"] = clean_extras(data.get("extras"), errors)
    groups = data.get("groups") or []
    stored["groups"] = [g.get("name") for g in groups if isinstance(g, dict) and g.get("name")] if isinstance(groups, list) else []
    stored["owner_org"] = orgs.resolve_owner(hub, data.get("owner_org"), data.get("organization"), viewer, errors)
    return stored, errors


def _name_taken(hub: Hub, name: str, own_id: str | None) -> bool:
    with hub.store.engine.connect() as conn:
        other = conn.execute(sa.select(P.c.id).where(P.c.name == name)).scalar()
    return other is not None and other != own_id


def _new_id(hub: Hub, wanted: Any, viewer: Viewer, table: sa.Table) -> str:
    """CKAN keeps a client's id only for sysadmins (here: admin keys), and only when it is free."""
    if viewer.is_admin and wanted and valid_uuid(wanted):
        with hub.store.engine.connect() as conn:
            if conn.execute(sa.select(table.c.id).where(table.c.id == str(wanted))).scalar() is None:
                return str(wanted)
    return str(uuid.uuid4())


def _row_values(stored: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in stored.items() if k not in ("name", "owner_org", "private")}
    return {"name": stored["name"], "owner_org": stored["owner_org"], "private": stored["private"],
            "data": json.dumps(body, ensure_ascii=False)}


def create_package(hub: Hub, data: dict[str, Any], viewer: Viewer, base: str) -> dict[str, Any]:
    stored, errors = _clean(hub, data, viewer, None)
    resources = data.get("resources") or []
    if not isinstance(resources, list) or not all(isinstance(r, dict) for r in resources):
        add(errors, "resources", "Not a list of resource dictionaries")
    raise_if(errors)
    package_id = _new_id(hub, data.get("id"), viewer, P)
    now = utcnow()
    with hub.store.engine.begin() as conn:
        conn.execute(P.insert().values(id=package_id, created_by=viewer.name, metadata_created=now,
                                       metadata_modified=now, **_row_values(stored)))
        _replace_resources(hub, conn, package_id, resources, now)
    return find_package(hub, package_id, viewer, base) or {}


def update_package(hub: Hub, package_id: str, data: dict[str, Any], viewer: Viewer, base: str) -> dict[str, Any]:
    """package_update: every field replaced; resources and groups replaced only when the list is given (as
    CKAN's package_dict_save: a missing `groups` keeps the memberships, missing `tags` removes the tags)."""
    if "groups" not in data:
        with hub.store.engine.connect() as conn:
            old = json.loads(conn.execute(sa.select(P.c.data).where(P.c.id == package_id)).scalar() or "{}")
        data = {**data, "groups": [{"name": g} for g in old.get("groups", [])]}
    stored, errors = _clean(hub, data, viewer, package_id)
    resources = data.get("resources")
    if resources is not None and (not isinstance(resources, list) or not all(isinstance(r, dict) for r in resources)):
        add(errors, "resources", "Not a list of resource dictionaries")
    raise_if(errors)
    now = utcnow()
    with hub.store.engine.begin() as conn:
        conn.execute(P.update().where(P.c.id == package_id).values(metadata_modified=now, **_row_values(stored)))
        if resources is not None:
            _replace_resources(hub, conn, package_id, resources, now)
    return find_package(hub, package_id, viewer, base) or {}


def _resource_body(data: dict[str, Any], now: Any, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key, value in data.items():
        if key in SERVER_RESOURCE_KEYS or key.startswith("__"):
            continue
        body[key] = value  # dictionaries and lists stay JSON, as CKAN keeps resource extras
    if previous and previous.get("url_type") == "upload":
        # the client sent back the file's download URL (or nothing): the uploaded file stays
        if not body.get("url") or str(body["url"]).rsplit("/", 1)[-1] == str(previous.get("url")):
            body["url"], body["url_type"] = previous["url"], "upload"
            for key in ("size", "mimetype"):
                body.setdefault(key, previous.get(key))
    body["format"] = body.get("format") or guess_format(body.get("url"))
    body["metadata_modified"] = ckan_time(now)
    body.setdefault("created", previous.get("created") if previous else ckan_time(now))
    return body


def _replace_resources(hub: Hub, conn: sa.Connection, package_id: str, resources: list[dict[str, Any]],
                       now: Any) -> None:
    existing = {r.id: r for r in conn.execute(sa.select(R).where(R.c.package_id == package_id))}
    kept: set[str] = set()
    for position, data in enumerate(resources):
        rid = str(data.get("id") or "")
        old = existing.get(rid)
        if old is None:
            taken = rid and conn.execute(sa.select(R.c.id).where(R.c.id == rid)).scalar()
            rid = rid if rid and valid_uuid(rid) and not taken else str(uuid.uuid4())
            body = _resource_body(data, now)
            conn.execute(R.insert().values(id=rid, package_id=package_id, position=position,
                                           data=json.dumps(body, ensure_ascii=False)))
        else:
            body = _resource_body(data, now, json.loads(old.data))
            upload = old.upload_path if body.get("url_type") == "upload" else None
            conn.execute(R.update().where(R.c.id == rid).values(position=position, upload_path=upload,
                                                                data=json.dumps(body, ensure_ascii=False)))
        kept.add(rid)
    for rid in set(existing) - kept:
        conn.execute(R.delete().where(R.c.id == rid))
        delete_upload(hub.settings.storage_dir, rid)


def save_resource(hub: Hub, package_id: str, data: dict[str, Any], upload: Any, viewer: Viewer, base: str,
                  resource_id: str | None = None) -> dict[str, Any]:
    """resource_create (no resource_id) or resource_update: the resource dictionary replaced by `data`, its
    file by `upload` when one is sent."""
    now = utcnow()
    with hub.store.engine.begin() as conn:
        old = conn.execute(sa.select(R).where(R.c.id == resource_id)).first() if resource_id else None
        if resource_id and old is None:
            raise NotFoundError("Không có tài nguyên này", "Resource was not found.", resource=resource_id)
        rid = resource_id or _new_id(hub, data.get("id"), viewer, R)
        body = _resource_body(data, now, json.loads(old.data) if old else None)
        upload_path = old.upload_path if old is not None and body.get("url_type") == "upload" else None
        if upload is not None and getattr(upload, "filename", None) is not None:
            stored = save_upload(hub.settings.storage_dir, rid, upload)
            upload_path = stored.relative
            body.update(url=stored.filename, url_type="upload", size=stored.size, last_modified=ckan_time(now),
                        mimetype=body.get("mimetype") or stored.mimetype)
            body["format"] = data.get("format") or guess_format(stored.filename)
        if old is None:
            position = conn.execute(sa.select(sa.func.count()).select_from(R).where(R.c.package_id == package_id)).scalar()
            conn.execute(R.insert().values(id=rid, package_id=package_id, position=position, upload_path=upload_path,
                                           data=json.dumps(body, ensure_ascii=False)))
        else:
            conn.execute(R.update().where(R.c.id == rid).values(upload_path=upload_path,
                                                                data=json.dumps(body, ensure_ascii=False)))
        conn.execute(P.update().where(P.c.id == package_id).values(metadata_modified=now))
    package = find_package(hub, package_id, viewer, base) or {}
    return next(r for r in package.get("resources", []) if r["id"] == rid)


def delete_package(hub: Hub, package_id: str) -> None:
    """package_delete: the package, its resources and their uploaded files go (as CKAN's dataset_purge: the
    name is free again, and harvesters stop finding it)."""
    with hub.store.engine.begin() as conn:
        rids = [r.id for r in conn.execute(sa.select(R.c.id).where(R.c.package_id == package_id))]
        conn.execute(R.delete().where(R.c.package_id == package_id))
        conn.execute(P.delete().where(P.c.id == package_id))
    for rid in rids:
        delete_upload(hub.settings.storage_dir, rid)


def delete_resource(hub: Hub, package_id: str, resource_id: str) -> None:
    """resource_delete: the resource and its file go, the others close up, the package is modified now."""
    with hub.store.engine.begin() as conn:
        conn.execute(R.delete().where(R.c.id == resource_id))
        rest = conn.execute(sa.select(R.c.id).where(R.c.package_id == package_id).order_by(R.c.position)).all()
        for position, row in enumerate(rest):
            conn.execute(R.update().where(R.c.id == row.id).values(position=position))
        conn.execute(P.update().where(P.c.id == package_id).values(metadata_modified=utcnow()))
    delete_upload(hub.settings.storage_dir, resource_id)


def package_id_of(name: str) -> str:
    """The id our own dataset has as a package (to tell peers' packages from ours)."""
    return hub_id("dataset", name)
