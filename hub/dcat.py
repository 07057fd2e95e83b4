"""DCAT-AP documents of the open catalogue: /catalog.ttl, /catalog.jsonld, /catalog.rdf and, per dataset,
/dcat/datasets/<id>.ttl (.jsonld, .rdf). The URIs the graphs use, /dcat/catalog and /dcat/datasets/<id>,
answer too (Turtle, or JSON-LD / RDF-XML when the Accept header asks), so every URI dereferences.

Only open datasets are described, whoever asks (publish/dcat.py builds the graphs). /datasets/<id> is the
web site's page for people; these addresses stay out of its way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, abort, request
from rdflib import Graph

from core.errors import DatasetNotFound
from hub.ckan.api import public_base
from hub.context import current_hub
from publish import dcat

__all__ = ["register"]

blueprint = Blueprint("dcat", __name__)
_BY_TYPE = {mimetype: fmt for fmt, (_, mimetype) in dcat.FORMATS.items()}
# (document, base URL, format) -> (catalogue state, serialized text): serializing is most of the work, and
# the text only changes with a load or a catalogue edit (publish.dcat.catalog_state)
_CACHE: dict[tuple[str, str, str], tuple[tuple[Any, ...], str]] = {}


def _answer(key: str, build: Callable[[], Graph], fmt: str) -> Response:
    hub = current_hub()
    state = dcat.catalog_state(hub.store)
    cache_key = (key, public_base(), fmt)
    cached = _CACHE.get(cache_key)
    if cached is None or cached[0] != state:
        if len(_CACHE) > 1000:
            _CACHE.clear()
        cached = _CACHE[cache_key] = (state, dcat.serialize(build(), fmt))
    response = Response(cached[1], mimetype=dcat.FORMATS[fmt][1])
    response.headers["Access-Control-Allow-Origin"] = "*"  # open metadata, read by other portals' browsers
    return response


def _negotiated() -> str:
    best = request.accept_mimetypes.best_match(list(_BY_TYPE), default="text/turtle")
    return _BY_TYPE.get(best or "text/turtle", "ttl")


def _catalog(fmt: str) -> Response:
    hub = current_hub()
    return _answer("catalog", lambda: dcat.catalog_graph(hub.store, public_base(), hub.settings.language), fmt)


def _dataset(dataset_id: str, fmt: str) -> Response:
    hub = current_hub()
    try:
        dataset = hub.catalog.dataset(dataset_id)
    except DatasetNotFound:
        abort(404)
    if dataset not in dcat.open_datasets(hub.catalog):
        abort(404)  # not open: not described, and not said to exist
    return _answer(f"dataset:{dataset.id}",
                   lambda: dcat.dataset_graph(hub.store, dataset, public_base(), hub.settings.language), fmt)


@blueprint.get("/catalog.<fmt>")
def catalog_file(fmt: str) -> Response:
    if fmt not in dcat.FORMATS:
        abort(404)
    return _catalog(fmt)


@blueprint.get("/dcat/catalog")
def catalog_resource() -> Response:
    return _catalog(_negotiated())


@blueprint.get("/dcat/datasets/<dataset_id>.<fmt>")
def dataset_file(dataset_id: str, fmt: str) -> Response:
    if fmt not in dcat.FORMATS:
        abort(404)
    return _dataset(dataset_id, fmt)


@blueprint.get("/dcat/datasets/<dataset_id>")
def dataset_resource(dataset_id: str) -> Response:
    return _dataset(dataset_id, _negotiated())


def register(app: Flask) -> None:
    app.register_blueprint(blueprint)
