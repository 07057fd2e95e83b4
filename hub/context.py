"""The running app's hub (publish.context.Hub) and where its absolute links start."""

from __future__ import annotations

from flask import current_app, request

from core.config import Settings, is_loopback_bind
from publish.context import Hub


def current_hub() -> Hub:
    return current_app.extensions["hub"]


def public_base() -> str:
    """Where absolute links start (CKAN and DCAT answers, share links, the curl example): HUB_BASE_URL when
    it was set, else, on a developer's hub only (loopback, no proxy), the address the request came to, so
    that it links to itself. A served hub never builds links from the Host header a caller sends."""
    settings = current_hub().settings
    configured = settings.base_url.rstrip("/")
    if configured != Settings.base_url.rstrip("/") or not is_loopback_bind(settings.bind) or settings.proxies:
        return configured
    return request.host_url.rstrip("/")
