"""The open-data catalogue web site for citizens (`/`): home, search, dataset, record and publisher pages.

`register(app)` adds the blueprint, Flask-Babel (shared with the steward workspace, which extends
hub/templates/base.html), the security headers and the catalogue search index, which is rebuilt from the
catalogue here, once per start. Every page reads as the anonymous viewer through publish.access and
publish.query: only open datasets and never a personal field.
"""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from hub.web import dataset, downloads, feeds, formatting, pages, records, report_pages  # noqa: F401 - routes on bp
from hub.web.blueprint import bp
from hub.web.i18n import setup_babel
from publish.search import build_index

# No inline script or style anywhere: JS and CSS are static files, data travels in data-* attributes.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

__all__ = ["CSP", "register"]


def _security_headers(response: Response) -> Response:
    # HTML pages outside the APIs (the Swagger UI under /api brings its own inline scripts)
    if response.mimetype == "text/html" and not request.path.startswith("/api/"):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def _http_error(exc: HTTPException):  # noqa: ANN202
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return exc  # the APIs answer in their own shape
    return render_template("error.html", status=exc.code, message=None), exc.code or 500


def register(app: Flask) -> None:
    setup_babel(app)
    formatting.install(app)
    app.register_blueprint(bp)
    app.after_request(_security_headers)
    app.register_error_handler(404, _http_error)
    app.register_error_handler(405, _http_error)
    app.context_processor(_site)
    hub = app.extensions["hub"]
    build_index(hub.store, hub.catalog)


def _site() -> dict[str, object]:
    """What every page (ours and the steward workspace's) needs: the site's name and contact."""
    from hub.context import current_hub

    return {"site": current_hub().catalog.site}
