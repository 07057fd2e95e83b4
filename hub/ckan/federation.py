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
from typing import Any, Literal

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
from publish import federation as federated
from publish.access import Viewer
from publish.context import Hub
from publish.metadata import ckan_time, hub_id
from publish.packages import group_dict, tag_dict
from publish.store import utcnow

__all__ = ["create_package", "delete_package", "delete_resource", "find_package", "find_resource", "list_packages",
           "save_resource", "update_package"]

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
    found = federated.package_with_resources(hub.store, key)
    if found is None or not _visible(found[0], viewer):
        return None
    row, resources = found
    return _package_out(hub, row, resources, base)


def list_packages(hub: Hub, viewer: Viewer, base: str) -> list[dict[str, Any]]:
    every, resources = federated.all_packages(hub.store)
    rows = [r for r in every if _visible(r, viewer)]
    known = {o["id"]: {k: v for k, v in o.items() if k not in ("extras", "ours")} for o in orgs.list_all(hub)}
    return [_package_out(hub, r, resources.get(r.id, []), base, known) for r in rows]


def find_resource(hub: Hub, resource_id: str, viewer: Viewer) -> tuple[Any, Any] | None:
    """(package row, resource row) of a federated resource the viewer may see, or None."""
    found = federated.resource_with_package(hub.store, resource_id)
    if found is None:
        return None
    pkg, res = found
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
    other = federated.name_owner(hub.store, name)
    return other is not None and other != own_id


def _new_id(hub: Hub, wanted: Any, viewer: Viewer, kind: Literal["package", "resource"]) -> str:
    """CKAN keeps a client's id only for sysadmins (here: admin keys), and only when it is free."""
    if viewer.is_admin and wanted and valid_uuid(wanted) and federated.id_free(hub.store, kind, str(wanted)):
        return str(wanted)
    return str(uuid.uuid4())


def _row_values(stored: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in stored.items() if k not in ("name", "owner_org", "private")}
    return {"name": stored["name"], "owner_org": stored["owner_org"], "private": stored["private"],
            "data": json.dumps(body, ensure_ascii=False)}


def create_package(hub: Hub, data: dict[str, Any], viewer: Viewer, base: str) -> dict[str, Any]:
    cleaned, errors = _clean(hub, data, viewer, None)
    resources = data.get("resources") or []
    if not isinstance(resources, list) or not all(isinstance(r, dict) for r in resources):
        add(errors, "resources", "Not a list of resource dictionaries")
    raise_if(errors)
    package_id = _new_id(hub, data.get("id"), viewer, "package")
    now = utcnow()
    federated.create_package(hub.store, package_id, viewer.name, now, _row_values(cleaned), resources,
                             lambda body, previous: _resource_body(body, now, previous))
    return find_package(hub, package_id, viewer, base) or {}


def update_package(hub: Hub, package_id: str, data: dict[str, Any], viewer: Viewer, base: str) -> dict[str, Any]:
    """package_update: every field replaced; resources and groups replaced only when the list is given (as
    CKAN's package_dict_save: a missing `groups` keeps the memberships, missing `tags` removes the tags)."""
    if "groups" not in data:
        old = json.loads(federated.package_data(hub.store, package_id) or "{}")
        data = {**data, "groups": [{"name": g} for g in old.get("groups", [])]}
    cleaned, errors = _clean(hub, data, viewer, package_id)
    resources = data.get("resources")
    if resources is not None and (not isinstance(resources, list) or not all(isinstance(r, dict) for r in resources)):
        add(errors, "resources", "Not a list of resource dictionaries")
    raise_if(errors)
    now = utcnow()
    dropped = federated.update_package(hub.store, package_id, now, _row_values(cleaned), resources,
                                       lambda body, previous: _resource_body(body, now, previous))
    for rid in dropped:
        delete_upload(hub.settings.storage_dir, rid)
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


def save_resource(hub: Hub, package_id: str, data: dict[str, Any], upload: Any, viewer: Viewer, base: str,
                  resource_id: str | None = None) -> dict[str, Any]:
    """resource_create (no resource_id) or resource_update: the resource dictionary replaced by `data`, its
    file by `upload` when one is sent."""
    now = utcnow()

    def prepare(old: Any) -> tuple[str, dict[str, Any], str | None]:
        if resource_id and old is None:
            raise NotFoundError("Không có tài nguyên này", "Resource was not found.", resource=resource_id)
        rid = resource_id or _new_id(hub, data.get("id"), viewer, "resource")
        body = _resource_body(data, now, json.loads(old.data) if old else None)
        upload_path = old.upload_path if old is not None and body.get("url_type") == "upload" else None
        if upload is not None and getattr(upload, "filename", None) is not None:
            saved = save_upload(hub.settings.storage_dir, rid, upload)
            upload_path = saved.relative
            body.update(url=saved.filename, url_type="upload", size=saved.size, last_modified=ckan_time(now),
                        mimetype=body.get("mimetype") or saved.mimetype)
            body["format"] = data.get("format") or guess_format(saved.filename)
        return rid, body, upload_path

    rid = federated.save_resource(hub.store, package_id, resource_id, now, prepare)
    package = find_package(hub, package_id, viewer, base) or {}
    return next(r for r in package.get("resources", []) if r["id"] == rid)


def delete_package(hub: Hub, package_id: str) -> None:
    """package_delete: the package, its resources and their uploaded files go (as CKAN's dataset_purge: the
    name is free again, and harvesters stop finding it)."""
    for rid in federated.delete_package(hub.store, package_id):
        delete_upload(hub.settings.storage_dir, rid)


def delete_resource(hub: Hub, package_id: str, resource_id: str) -> None:
    """resource_delete: the resource and its file go, the others close up, the package is modified now."""
    federated.delete_resource(hub.store, package_id, resource_id, utcnow())
    delete_upload(hub.settings.storage_dir, resource_id)


def package_id_of(name: str) -> str:
    """The id our own dataset has as a package (to tell peers' packages from ours)."""
    return hub_id("dataset", name)
