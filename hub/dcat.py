"""DCAT-AP documents of the open catalogue: /catalog.ttl, /catalog.jsonld, /catalog.rdf and, per dataset,
/dcat/datasets/<id>.ttl (.jsonld, .rdf). The URIs the graphs use, /dcat/catalog and /dcat/datasets/<id>,
answer too (Turtle, or JSON-LD / RDF-XML when the Accept header asks), so every URI dereferences.

ckanext-dcat's addresses answer as well, since status_show names the `dcat` extension: /catalog.xml (and
.n3), pages of 100 datasets with `?page=N` and `?modified_since=<ISO 8601>` (hydra:PagedCollection links,
409 for a bad page or date, as ckanext-dcat), /dataset/<id or package id>.ttl|.rdf|.xml|.jsonld|.n3, and
/dcat.json (its DCAT JSON list of packages, paged the same way).

Only open datasets are described, whoever asks (publish/dcat.py builds the graphs). /datasets/<id> is the
web site's page for people; these addresses stay out of its way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, abort, jsonify, redirect, request
from rdflib import Graph
from werkzeug.wrappers import Response as BaseResponse

from core.errors import DatasetNotFound
from hub.ckan.api import public_base
from hub.context import current_hub
from publish import dcat
from publish import dcat_json as dcat_dictionary
from publish.access import ANONYMOUS
from publish.metadata import hub_id
from publish.packages import our_packages

__all__ = ["register"]

blueprint = Blueprint("dcat", __name__)
_BY_TYPE = {mimetype: fmt for fmt, (_, mimetype) in dcat.FORMATS.items()}
# (document, base URL, format) -> (catalogue state, serialized text): serializing is most of the work, and
# the text only changes with a load or a catalogue edit (publish.dcat.catalog_state)
_CACHE: dict[tuple[str, str, str], tuple[tuple[Any, ...], str]] = {}


def _federated() -> list[dict[str, Any]]:
    """The public packages peers federated, as an anonymous caller sees them."""
    from hub.ckan import federation

    return [p for p in federation.list_packages(current_hub(), ANONYMOUS, public_base()) if not p.get("private")]


def _answer(key: str, build: Callable[[], Graph], fmt: str, packages: list[dict[str, Any]] | None = None) -> Response:
    hub = current_hub()
    packages = _federated() if packages is None else packages
    state = (dcat.catalog_state(hub.store), tuple((p["id"], p["metadata_modified"]) for p in packages))
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


class BadPaging(ValueError):
    pass


def _paging() -> dcat.Paging:
    """`page` and `modified_since` as ckanext-dcat reads them (its messages too)."""
    try:
        page = int(request.args.get("page") or 1)
    except ValueError:
        page = 0
    if page < 1:
        raise BadPaging("Page param must be a positive integer starting in 1")
    since = None
    if request.args.get("modified_since"):
        try:
            since = datetime.fromisoformat(request.args["modified_since"].replace("Z", "+00:00"))
        except ValueError:
            raise BadPaging("Wrong modified date format. Use ISO-8601 format") from None
        if since.tzinfo is not None:
            since = since.astimezone(UTC).replace(tzinfo=None)
    kept = {k: v for k, v in request.args.items() if k == "modified_since"}
    base = f"{public_base()}{request.path}"

    def url(number: int) -> str:
        return f"{base}?{urlencode({**kept, 'page': number})}"

    return dcat.Paging(page=page, modified_since=since, url=url)


def _catalog(fmt: str) -> Response:
    hub = current_hub()
    try:
        paging = _paging()
    except BadPaging as exc:
        return Response(str(exc), status=409, mimetype="text/plain")
    key = f"catalog:{request.path}:{paging.page}:{paging.modified_since}"
    packages = _federated()
    return _answer(key, lambda: dcat.catalog_graph(hub.store, public_base(), hub.settings.language, paging,
                                                   packages=packages),
                   fmt, packages)


def _dataset(dataset_id: str, fmt: str) -> Response:
    hub = current_hub()
    try:
        dataset = hub.catalog.dataset(dataset_id)
    except DatasetNotFound:
        # the package id CKAN clients know works too
        found = next((ds for ds in hub.catalog if hub_id("dataset", ds.id) == dataset_id), None)
        if found is None:
            return _package(dataset_id, fmt)
        dataset = found
    if dataset not in dcat.open_datasets(hub.catalog):
        abort(404)  # not open: not described, and not said to exist
    return _answer(f"dataset:{dataset.id}",
                   lambda: dcat.dataset_graph(hub.store, dataset, public_base(), hub.settings.language), fmt)


def _package(key: str, fmt: str) -> Response:
    """A package a peer federated, by name or id, when it is public."""
    from hub.ckan import federation

    hub = current_hub()
    package = federation.find_package(hub, key, ANONYMOUS, public_base())
    if package is None or package.get("private"):
        abort(404)
    return _answer(f"package:{package['id']}", lambda: dcat.package_graph(hub.catalog, package, public_base()), fmt)


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


@blueprint.get("/dataset/<dataset_id>.<fmt>")
def ckan_dataset_file(dataset_id: str, fmt: str) -> Response:
    """ckanext-dcat's address of a dataset's RDF (by name or package id)."""
    if fmt not in dcat.FORMATS:
        abort(404)
    return _dataset(dataset_id, fmt)


@blueprint.get("/dataset/<dataset_id>")
def ckan_dataset(dataset_id: str) -> BaseResponse:  # a redirect is werkzeug's Response
    """The URI a federated package has in DCAT (`/dataset/<id>`), dereferenced as ckanext-dcat does with
    content negotiation: RDF when the Accept header asks for it; a browser is sent to our dataset's page."""
    best = request.accept_mimetypes.best_match([*_BY_TYPE, "text/html"], default="text/html")
    if best == "text/html":
        hub = current_hub()
        ours = next((ds for ds in dcat.open_datasets(hub.catalog) if dataset_id in (ds.id, hub_id("dataset", ds.id))),
                    None)
        if ours is not None:  # an open dataset only: another is not said to exist (404 below, as for RDF)
            return redirect(f"{public_base()}/datasets/{ours.id}")
        return _dataset(dataset_id, "ttl")
    return _dataset(dataset_id, _BY_TYPE[best])


@blueprint.get("/dcat.json")
def dcat_json() -> Response:
    """ckanext-dcat's DCAT JSON: the open packages (ours and federated), most recently modified first."""
    hub = current_hub()
    try:
        paging = _paging()
    except BadPaging as exc:
        return Response(str(exc), status=409, mimetype="text/plain")
    base = public_base()
    packages = [p for p in our_packages(hub, ANONYMOUS, base) if not p.get("private")] + _federated()
    since = paging.modified_since.isoformat() if paging.modified_since else None
    packages = sorted((p for p in packages if since is None or (p.get("metadata_modified") or "") >= since),
                      key=lambda p: (p.get("metadata_modified") or "", p["name"]), reverse=True)
    start = (paging.page - 1) * paging.per_page
    response = jsonify([dcat_dictionary.dcat_json(p) for p in packages[start:start + paging.per_page]])
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def register(app: Flask) -> None:
    app.register_blueprint(blueprint)
