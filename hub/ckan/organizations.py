"""Organizations: our publishers (from catalog.yaml, read-only here) and those federated peers create.

Both answer to their name or their id. A peer's package names its organization with `owner_org`; a package
dumped from another hub (`ckanapi dump`) also carries its `organization` dictionary, and when that
organization is not known here yet it is created from it, so `ckanapi load datasets` works without loading
the organizations first.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from hub.ckan.validation import Errors, add, check_name, clean_extras, raise_if, valid_uuid
from publish import federated_organizations as stored_orgs
from publish.access import Viewer
from publish.context import Hub
from publish.metadata import ckan_time, hub_id
from publish.packages import organization_dict, organization_extras
from publish.store import utcnow

__all__ = ["core", "create", "find", "list_all", "resolve_owner", "update"]


def _publisher_for(hub: Hub, key: str) -> str | None:
    if key in hub.catalog.publishers:
        return key
    return next((p for p in hub.catalog.publishers if hub_id("organization", p) == key), None)


def _federated(row: Any) -> dict[str, Any]:
    data = json.loads(row.data)
    return {
        "id": row.id, "name": row.name, "title": data.get("title") or row.name, "type": "organization",
        "description": data.get("description") or "", "image_url": data.get("image_url") or "",
        "created": ckan_time(row.created), "is_organization": True, "approval_status": "approved",
        "state": "active", "extras": data.get("extras", []), "ours": False,
    }


def find(hub: Hub, key: Any) -> dict[str, Any] | None:
    """An organization by name or id: its core fields, `extras`, and `ours` (a publisher of this hub)."""
    if not key or not isinstance(key, str):
        return None
    lang = hub.settings.language
    publisher = _publisher_for(hub, key)
    if publisher:
        return {**organization_dict(hub, publisher, lang), "extras": organization_extras(hub, publisher, lang),
                "ours": True}
    row = stored_orgs.find(hub.store, key)
    return _federated(row) if row else None


def core(hub: Hub, key: str) -> dict[str, Any] | None:
    """The organization as a package embeds it (CKAN drops its extras there)."""
    found = find(hub, key)
    if found is None:
        return None
    return {k: v for k, v in found.items() if k not in ("extras", "ours")}


def list_all(hub: Hub) -> list[dict[str, Any]]:
    lang = hub.settings.language
    ours = [{**organization_dict(hub, p, lang), "extras": organization_extras(hub, p, lang), "ours": True}
            for p in hub.catalog.publishers]
    theirs = [_federated(r) for r in stored_orgs.list_all(hub.store)]
    return ours + theirs


def _clean(hub: Hub, data: dict[str, Any], own_id: str | None, errors: Errors) -> dict[str, Any]:
    name = check_name(data.get("name"), "name", errors)
    if name:
        other = find(hub, name)
        if other is not None and other["id"] != own_id:
            add(errors, "name", "Group name already exists in database")
    return {"name": name, "title": str(data.get("title") or name or ""),
            "description": str(data.get("description") or ""), "image_url": str(data.get("image_url") or ""),
            "extras": clean_extras(data.get("extras"), errors)}


def _store(stored: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in stored.items() if k != "name"}, ensure_ascii=False)


def create(hub: Hub, data: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    errors: Errors = {}
    stored = _clean(hub, data, None, errors)
    raise_if(errors)
    wanted = data.get("id")
    org_id = str(wanted) if viewer.is_admin and wanted and valid_uuid(wanted) and find(hub, str(wanted)) is None \
        else str(uuid.uuid4())
    now = utcnow()
    stored_orgs.insert(hub.store, org_id, stored["name"], _store(stored), now)
    return find(hub, org_id) or {}


def update(hub: Hub, org_id: str, data: dict[str, Any]) -> dict[str, Any]:
    errors: Errors = {}
    stored = _clean(hub, data, org_id, errors)
    raise_if(errors)
    stored_orgs.update(hub.store, org_id, stored["name"], _store(stored))
    return find(hub, org_id) or {}


def resolve_owner(hub: Hub, value: Any, embedded: Any, viewer: Viewer, errors: Errors) -> str | None:
    """The id of the package's organization, from `owner_org` (id or name) or the embedded `organization`."""
    if not value and not embedded:
        add(errors, "owner_org", "An organization must be provided")
        return None
    found = find(hub, value)
    if found is None and isinstance(embedded, dict):
        if embedded.get("id") == value or embedded.get("name") == value or not value:
            found = find(hub, embedded.get("name")) or find(hub, embedded.get("id"))
            if found is None:
                org_errors: Errors = {}
                _clean(hub, embedded, None, org_errors)
                if not org_errors:
                    found = create(hub, embedded, viewer)
    if found is None:
        add(errors, "owner_org", "Organization does not exist")
        return None
    if found["ours"] and not viewer.is_admin:
        # a peer's package must not appear as published by one of our own offices
        add(errors, "owner_org", "You cannot add a dataset to this organization")
        return None
    return found["id"]
