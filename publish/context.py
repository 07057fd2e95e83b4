"""What a running hub holds: settings, the catalogue and the store, built once per process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from core.catalog import Catalog, load_catalog
from core.config import Settings
from publish.store import Store


@dataclass
class Hub:
    settings: Settings
    catalog: Catalog
    store: Store

    @classmethod
    def open(cls, settings: Settings, *, init: bool = False) -> Hub:
        catalog = load_catalog(settings.catalog_path)
        store = Store.connect(settings.database_url, catalog, replica_url=settings.replica_url,
                              lock_timeout=settings.lock_timeout)
        store.audit_key = settings.audit_secret
        store.storage_dir = Path(settings.storage_dir)
        store.heartbeat_seconds = settings.heartbeat_seconds
        store.stale_after = timedelta(seconds=settings.lease_seconds)
        if init:
            store.init()
        return cls(settings, catalog, store)
