"""The catalogue's blueprint, shared by the page modules (pages, dataset, records, downloads)."""

from __future__ import annotations

from flask import Blueprint, render_template, send_from_directory

from core.errors import HubError
from hub.web.i18n import current_lang

bp = Blueprint("web", __name__, static_folder="../static", static_url_path="/static")


def error_page(exc: HubError, template: str = "error.html", lang: str | None = None) -> tuple[str, int]:
    """A bilingual HubError as a page in the visitor's language, with the HTTP status its class carries: the one
    place the web pages (the catalogue's and the steward workspace's) map errors."""
    return render_template(template, status=exc.http_status, message=exc.message(lang or current_lang())), \
        exc.http_status


@bp.errorhandler(HubError)
def hub_error(exc: HubError) -> tuple[str, int]:
    return error_page(exc)


@bp.get("/vendor/leaflet/<path:filename>")
def leaflet(filename: str):  # noqa: ANN201
    """Leaflet's files straight from the xstatic-leaflet package: no CDN, nothing fetched at run time."""
    from xstatic.pkg import leaflet as package

    return send_from_directory(package.BASE_DIR, filename, max_age=7 * 24 * 3600)


@bp.get("/vendor/markercluster/<path:filename>")
def markercluster(filename: str):  # noqa: ANN201
    """Leaflet.markercluster's files from the xstatic-leaflet-markercluster package (offline, like Leaflet)."""
    from xstatic.pkg import leaflet_markercluster as package

    return send_from_directory(package.BASE_DIR, filename, max_age=7 * 24 * 3600)
