"""The running app's hub (publish.context.Hub) and where its absolute links start."""

from __future__ import annotations

from flask import current_app, request

from core.config import Settings
from publish.context import Hub


def current_hub() -> Hub:
    return current_app.extensions["hub"]


def public_base() -> str:
    """Where absolute links start (CKAN and DCAT answers, share links, the curl example): HUB_BASE_URL when
    it was set, else the address the request came to, so that a hub run without it links to itself."""
    configured = current_hub().settings.base_url.rstrip("/")
    if configured != Settings.base_url.rstrip("/"):
        return configured
    return request.host_url.rstrip("/")
