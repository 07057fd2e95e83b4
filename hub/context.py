"""What a running hub holds: settings, the catalogue and the store, built once per process."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request

from hub.catalog import Catalog, load_catalog
from hub.config import Settings
from publish.store import Store


@dataclass
class Hub:
    settings: Settings
    catalog: Catalog
    store: Store

    @classmethod
    def open(cls, settings: Settings, *, init: bool = False) -> Hub:
        catalog = load_catalog(settings.catalog_path)
        store = Store.connect(settings.database_url, catalog, replica_url=settings.replica_url)
        if init:
            store.init()
        return cls(settings, catalog, store)


def current_hub() -> Hub:
    return current_app.extensions["hub"]


def public_base() -> str:
    """Where absolute links start (CKAN and DCAT answers, share links, the curl example): HUB_BASE_URL when
    it was set, else the address the request came to, so that a hub run without it links to itself."""
    configured = current_hub().settings.base_url.rstrip("/")
    if configured != Settings.base_url.rstrip("/"):
        return configured
    return request.host_url.rstrip("/")
