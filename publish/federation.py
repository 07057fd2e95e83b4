"""Federated packages and their resources (hub_ckan_packages, hub_ckan_resources): the rows behind
hub/ckan/federation.py, which checks what trusted peers send through the CKAN Action API and renders the CKAN
dictionaries.

Package and resource bodies are stored as JSON text; the caller builds them (`body_of`) and keeps the uploaded
files: the functions that drop resources return their ids, so the caller can delete the files."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from publish import tables
from publish.store import Store

__all__ = ["all_packages", "create_package", "delete_package", "delete_resource", "id_free", "name_owner",
           "package_data", "package_with_resources", "resource_with_package", "save_resource", "update_package"]

P, R = tables.ckan_packages, tables.ckan_resources

#: builds a resource's stored body from what the client sent and the body stored before (None when new)
BodyOf = Callable[[dict[str, Any], "dict[str, Any] | None"], dict[str, Any]]


def _valid_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# -- reading -------------------------------------------------------------------------------------------------
def package_with_resources(store: Store, key: str) -> tuple[sa.Row[Any], Sequence[sa.Row[Any]]] | None:
    """The package whose id or name is `key`, and its resources."""
    with store.read_engine.connect() as conn:
        row = conn.execute(sa.select(P).where(sa.or_(P.c.id == key, P.c.name == key))).first()
        if row is None:
            return None
        return row, conn.execute(sa.select(R).where(R.c.package_id == row.id)).all()


def all_packages(store: Store) -> tuple[list[sa.Row[Any]], dict[str, list[sa.Row[Any]]]]:
    """Every package by name, and the resources of each by package id."""
    with store.read_engine.connect() as conn:
        rows = list(conn.execute(sa.select(P).order_by(P.c.name)))
        resources: dict[str, list[sa.Row[Any]]] = {}
        for res in conn.execute(sa.select(R)):
            resources.setdefault(res.package_id, []).append(res)
    return rows, resources


def resource_with_package(store: Store, resource_id: str) -> tuple[sa.Row[Any] | None, sa.Row[Any]] | None:
    """(package row or None, resource row) of a resource, or None."""
    with store.read_engine.connect() as conn:
        res = conn.execute(sa.select(R).where(R.c.id == resource_id)).first()
        if res is None:
            return None
        return conn.execute(sa.select(P).where(P.c.id == res.package_id)).first(), res


def name_owner(store: Store, name: str) -> str | None:
    """The id of the package named `name`, if any."""
    with store.engine.connect() as conn:
        found: str | None = conn.execute(sa.select(P.c.id).where(P.c.name == name)).scalar()
    return found


def id_free(store: Store, kind: Literal["package", "resource"], wanted: str) -> bool:
    table = P if kind == "package" else R
    with store.engine.connect() as conn:
        return conn.execute(sa.select(table.c.id).where(table.c.id == wanted)).scalar() is None


def package_data(store: Store, package_id: str) -> str | None:
    """The stored JSON body of a package."""
    with store.engine.connect() as conn:
        data: str | None = conn.execute(sa.select(P.c.data).where(P.c.id == package_id)).scalar()
    return data


# -- writing -------------------------------------------------------------------------------------------------
def _replace_resources(conn: sa.Connection, package_id: str, resources: list[dict[str, Any]],
                       body_of: BodyOf) -> list[str]:
    """The package's resources become `resources`, in that order; returns the ids of the resources dropped."""
    existing = {r.id: r for r in conn.execute(sa.select(R).where(R.c.package_id == package_id))}
    kept: set[str] = set()
    for position, data in enumerate(resources):
        rid = str(data.get("id") or "")
        old = existing.get(rid)
        if old is None:
            taken = rid and conn.execute(sa.select(R.c.id).where(R.c.id == rid)).scalar()
            rid = rid if rid and _valid_uuid(rid) and not taken else str(uuid.uuid4())
            body = body_of(data, None)
            conn.execute(R.insert().values(id=rid, package_id=package_id, position=position,
                                           data=json.dumps(body, ensure_ascii=False)))
        else:
            body = body_of(data, json.loads(old.data))
            upload = old.upload_path if body.get("url_type") == "upload" else None
            conn.execute(R.update().where(R.c.id == rid).values(position=position, upload_path=upload,
                                                                data=json.dumps(body, ensure_ascii=False)))
        kept.add(rid)
    dropped = sorted(set(existing) - kept)
    for rid in dropped:
        conn.execute(R.delete().where(R.c.id == rid))
    return dropped


def create_package(store: Store, package_id: str, created_by: str | None, now: datetime, values: dict[str, Any],
                   resources: list[dict[str, Any]], body_of: BodyOf) -> None:
    """A new package (`values`: name, owner_org, private, data) with its resources, in one transaction."""
    with store.engine.begin() as conn:
        conn.execute(P.insert().values(id=package_id, created_by=created_by, metadata_created=now,
                                       metadata_modified=now, **values))
        _replace_resources(conn, package_id, resources, body_of)


def update_package(store: Store, package_id: str, now: datetime, values: dict[str, Any],
                   resources: list[dict[str, Any]] | None, body_of: BodyOf) -> list[str]:
    """The package's row replaced, and its resources when `resources` is given; returns the ids dropped."""
    with store.engine.begin() as conn:
        conn.execute(P.update().where(P.c.id == package_id).values(metadata_modified=now, **values))
        if resources is not None:
            return _replace_resources(conn, package_id, resources, body_of)
    return []


def save_resource(store: Store, package_id: str, resource_id: str | None, now: datetime,
                  prepare: Callable[[sa.Row[Any] | None], tuple[str, dict[str, Any], str | None]]) -> str:
    """resource_create (no resource_id) or resource_update, in one transaction: `prepare` gets the stored row
    (None when there is none) and answers (resource id, body, upload path); the resource goes last in its package
    when new, and the package is modified `now`. Returns the resource id."""
    with store.engine.begin() as conn:
        old = conn.execute(sa.select(R).where(R.c.id == resource_id)).first() if resource_id else None
        rid, body, upload_path = prepare(old)
        if old is None:
            position = conn.execute(sa.select(sa.func.count()).select_from(R).where(R.c.package_id == package_id)).scalar()
            conn.execute(R.insert().values(id=rid, package_id=package_id, position=position, upload_path=upload_path,
                                           data=json.dumps(body, ensure_ascii=False)))
        else:
            conn.execute(R.update().where(R.c.id == rid).values(upload_path=upload_path,
                                                                data=json.dumps(body, ensure_ascii=False)))
        conn.execute(P.update().where(P.c.id == package_id).values(metadata_modified=now))
    return rid


def delete_package(store: Store, package_id: str) -> list[str]:
    """The package and its resources go; returns the resources' ids."""
    with store.engine.begin() as conn:
        rids = [r.id for r in conn.execute(sa.select(R.c.id).where(R.c.package_id == package_id))]
        conn.execute(R.delete().where(R.c.package_id == package_id))
        conn.execute(P.delete().where(P.c.id == package_id))
    return rids


def delete_resource(store: Store, package_id: str, resource_id: str, now: datetime) -> None:
    """The resource goes, the others close up, the package is modified `now`."""
    with store.engine.begin() as conn:
        conn.execute(R.delete().where(R.c.id == resource_id))
        rest = conn.execute(sa.select(R.c.id).where(R.c.package_id == package_id).order_by(R.c.position)).all()
        for position, row in enumerate(rest):
            conn.execute(R.update().where(R.c.id == row.id).values(position=position))
        conn.execute(P.update().where(P.c.id == package_id).values(metadata_modified=now))
