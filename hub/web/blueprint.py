"""The catalogue's blueprint, shared by the page modules (pages, dataset, records, downloads)."""

from __future__ import annotations

from flask import Blueprint, render_template, request, send_from_directory

from hub.config import Settings
from hub.context import current_hub
from hub.errors import HubError
from hub.web.i18n import current_lang

bp = Blueprint("web", __name__, static_folder="../static", static_url_path="/static")


@bp.errorhandler(HubError)
def hub_error(exc: HubError):  # noqa: ANN201 - a Flask response tuple
    """A bilingual HubError as a page in the visitor's language, with the API's status for the same error."""
    from hub.api.errors import status_for

    status = status_for(exc)
    return render_template("error.html", status=status, message=exc.message(current_lang())), status


@bp.get("/vendor/leaflet/<path:filename>")
def leaflet(filename: str):  # noqa: ANN201
    """Leaflet's files straight from the xstatic-leaflet package: no CDN, nothing fetched at run time."""
    from xstatic.pkg import leaflet as package

    return send_from_directory(package.BASE_DIR, filename, max_age=7 * 24 * 3600)


def public_base() -> str:
    """Start of absolute links (share links, the curl example): HUB_BASE_URL when it was set, else the address
    the request came to — the same rule as the CKAN API's links."""
    configured = current_hub().settings.base_url.rstrip("/")
    if configured != Settings.base_url.rstrip("/"):
        return configured
    return request.host_url.rstrip("/")
