"""CORS for open data: another department's or a citizen developer's browser app may read what anyone may read.

`Access-Control-Allow-Origin: *` goes on answers to anonymous GET and HEAD requests of the open-data addresses
(the sharing API, the CKAN API, downloads, maps' GeoJSON, feeds, DCAT and the sitemap) and on nothing else:
- never on an answer to a request that carries a key (Authorization, X-CKAN-API-Key): a keyed answer may hold
  shared or personal data, and a browser on another origin must not read it. Such a request from another
  origin needs a preflight (it sends a non-simple header), and no preflight is ever granted here, so the
  browser refuses it before it is sent;
- never with `Access-Control-Allow-Credentials`: `*` tells browsers to send no cookies, and the site's
  session cookies (steward pages) are not used by these addresses anyway;
- an anonymous caller only ever gets open data (publish.access), so every answer marked here is open data.
"""

from __future__ import annotations

from flask import Flask, Response, request

from hub.auth import bearer_token
from hub.headers import add_vary, present

OPEN_PREFIXES = ("/api/", "/feeds/", "/catalog", "/dataset/", "/dcat")
OPEN_SUFFIXES = (".atom", ".geojson", ".csv", ".xlsx", ".zip", ".ttl", ".rdf", ".jsonld", ".n3", "/sitemap.xml")

__all__ = ["register", "shareable"]


def shareable() -> bool:
    """Whether this request's answer may be read by a page of any origin (see the module's docstring)."""
    if request.method not in ("GET", "HEAD"):
        return False
    if bearer_token() or request.environ.get("HTTP_X_CKAN_API_KEY"):
        return False
    path = request.path
    if path.startswith("/steward") or path.startswith("/api/v1/admin"):
        return False
    return path.startswith(OPEN_PREFIXES) or path.endswith(OPEN_SUFFIXES) or "/download." in path


def register(app: Flask) -> None:
    @app.after_request
    def cors(response: Response) -> Response:
        h = response.headers
        if shareable():
            h["Access-Control-Allow-Origin"] = "*"
            add_vary(h, "Authorization")
        else:
            have = present(h)
            if "access-control-allow-origin" in have or "access-control-allow-credentials" in have:
                h.remove("Access-Control-Allow-Origin")
                h.remove("Access-Control-Allow-Credentials")
        return response
