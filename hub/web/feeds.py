"""Atom feeds (per dataset and for the catalogue), sitemap.xml and robots.txt; publish.feeds builds them."""

from __future__ import annotations

from flask import Response, url_for

from hub.api.datasets import visible_dataset
from hub.context import current_hub, public_base
from hub.web.blueprint import bp
from hub.web.i18n import current_lang
from publish import feeds
from publish.access import ANONYMOUS

ATOM = "application/atom+xml; charset=utf-8"


def _cached(body: bytes | str, mimetype: str) -> Response:
    response = Response(body, content_type=mimetype)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/datasets/<dataset_id>/feed.atom")
def dataset_feed(dataset_id: str) -> Response:
    hub = current_hub()
    dataset = visible_dataset(hub, dataset_id, ANONYMOUS)
    return _cached(feeds.dataset_feed(hub.store, dataset, public_base(), current_lang()), ATOM)


@bp.get("/feed.atom")
def catalogue_feed() -> Response:
    return _cached(feeds.catalogue_feed(current_hub().store, public_base(), current_lang()), ATOM)


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    pages = [url_for("web.home"), url_for("web.search_page"), url_for("web.publishers")]
    return _cached(feeds.sitemap_xml(current_hub().store, public_base(), pages), "application/xml; charset=utf-8")


@bp.get("/robots.txt")
def robots() -> Response:
    return _cached(feeds.robots_txt(public_base()), "text/plain; charset=utf-8")
