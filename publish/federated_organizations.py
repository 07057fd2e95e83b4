"""The organizations federated peers create (hub_ckan_organizations): their rows, behind hub/ckan/organizations.py.

Our own publishers come from catalog.yaml and are never stored here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from publish import tables
from publish.store import Store, utcnow

__all__ = ["find", "insert", "list_all", "update"]

ORGS = tables.ckan_organizations


def find(store: Store, key: str) -> sa.Row[Any] | None:
    """The row of the federated organization whose id or name is `key`."""
    with store.read_engine.connect() as conn:
        return conn.execute(sa.select(ORGS).where(sa.or_(ORGS.c.id == key, ORGS.c.name == key))).first()


def list_all(store: Store) -> list[sa.Row[Any]]:
    with store.read_engine.connect() as conn:
        return list(conn.execute(sa.select(ORGS)))


def insert(store: Store, org_id: str, name: str, data: str, now: datetime) -> None:
    """A new organization; `data` is its JSON body (title, description, image, extras)."""
    with store.engine.begin() as conn:
        conn.execute(ORGS.insert().values(id=org_id, name=name, data=data, created=now, modified=now))


def update(store: Store, org_id: str, name: str, data: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(ORGS.update().where(ORGS.c.id == org_id).values(name=name, data=data, modified=utcnow()))
