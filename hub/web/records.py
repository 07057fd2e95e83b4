"""A page per record (a shareable URL with a small map) and the GeoJSON the maps draw.

The map GeoJSON is our own rather than the API's `?format=geojson`: it carries only what a marker needs
(the record's key, its label and its page), follows the dataset page's filters, and answers in one request.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from flask import Response, abort, render_template, request, url_for

from core.catalog import Dataset, Schema
from hub.api.datasets import visible_dataset
from hub.context import current_hub, public_base
from hub.web.blueprint import bp
from hub.web.dictionary import foreign_targets
from hub.web.formatting import cell
from hub.web.i18n import current_lang
from hub.web.preview import columns, parse_preview, reference_fields
from publish.access import ANONYMOUS, can_see_dataset
from publish.labels import kind_field, reference_names, summary, summary_fields
from publish.lru import LruCache
from publish.query import DISTANCE, Page, get_record, records

MAP_LIMIT = 5000  # markers drawn at most; the page says when there are more
# Polygons are simplified for the overview maps: the province's 95 commune boundaries go from ~500 kB to ~200 kB
# (~47 kB gzipped), which a phone can afford on every map page. 0.001° is about 110 m.
SIMPLIFY_DEGREES = 0.001
_CACHE: LruCache[bytes] = LruCache(32)  # map layers by version (thread-safe: gthread serves several at once)

__all__ = ["MAP_LIMIT", "label_field", "record_key", "record_url"]


def label_field(schema: Schema) -> str:
    """The field that names a record: `name` when there is one, else the first search field, else the key."""
    if "name" in schema.field_names:
        return "name"
    return (schema.search_fields or schema.primary_key)[0]


def record_key(dataset: Dataset, row: dict[str, Any]) -> str | None:
    """The record's primary key as the API spells it (parts joined with ','), None if a part is hidden."""
    parts = [row.get(f) for f in dataset.schema.primary_key]
    if any(p is None for p in parts):
        return None
    return ",".join(str(p) for p in parts)


def record_url(dataset: Dataset, row: dict[str, Any]) -> str | None:
    key = record_key(dataset, row)
    return url_for("web.record_page", dataset_id=dataset.id, key=key) if key else None


@bp.get("/datasets/<dataset_id>/records/<path:key>")
def record_page(dataset_id: str, key: str):  # noqa: ANN201
    hub = current_hub()
    dataset = visible_dataset(hub, dataset_id, ANONYMOUS)
    row = get_record(hub.store, dataset, key, ANONYMOUS, with_geometry=bool(dataset.schema.geometry_kind))
    refs = foreign_targets(dataset, hub.catalog, ANONYMOUS)
    names = reference_names(hub.store, dataset, ANONYMOUS)
    shown = [(f, row.get(f.name), cell(row.get(f.name), f, names.get(f.name)), refs.get(f.name))
             for f in columns(dataset)]
    geometry = row.get("_geometry")
    return render_template(
        "record.html", dataset=dataset, key=key, label=row.get(label_field(dataset.schema)) or key, fields=shown,
        geometry=json.dumps(geometry, separators=(",", ":")) if geometry else None,
        base_map=base_map_url(dataset), nearby=nearby_links(geometry),
        api_url=f"/api/v1/datasets/{dataset.id}/records/{quote(key, safe=',')}",
        page_url=public_base() + request.path,
    )


NEARBY_RADIUS = 5000  # metres, "near this place"


def nearby_links(geometry: dict[str, Any] | None) -> list[tuple[Dataset, str]]:
    """(dataset, link) to each open dataset of points, filtered to NEARBY_RADIUS around a point record and sorted
    by distance ("near this place")."""
    if not geometry or geometry.get("type") != "Point":
        return []
    lon, lat = geometry["coordinates"][:2]
    return [(ds, url_for("web.dataset_page", dataset_id=ds.id, near=f"{lat:.6f},{lon:.6f},{NEARBY_RADIUS}",
                         sort=DISTANCE) + "#preview")
            for ds in current_hub().catalog if ds.schema.geometry_kind == "point" and can_see_dataset(ds, ANONYMOUS)]


def base_map_url(dataset: Dataset) -> str | None:
    """Commune boundaries drawn under the data (the site loads no tiles from the internet)."""
    units = current_hub().catalog.datasets.get("admin-units")
    if units is None or units.id == dataset.id or not units.schema.geometry_kind:
        return None
    if not can_see_dataset(units, ANONYMOUS):
        return None
    return url_for("web.map_geojson", dataset_id=units.id)


@bp.get("/datasets/<dataset_id>/map.geojson")
def map_geojson(dataset_id: str) -> Response:
    hub = current_hub()
    dataset = visible_dataset(hub, dataset_id, ANONYMOUS)
    if not dataset.schema.geometry_kind:
        abort(404)
    preview = parse_preview(dataset, request.args, references=reference_fields(hub, dataset))
    query = preview.resolved_query(hub.store)
    label = label_field(dataset.schema)
    shown = summary_fields(dataset, hub.catalog)
    query.fields = list(dict.fromkeys([*dataset.schema.primary_key, label, *shown]))
    query.limit, query.offset, query.sort, query.with_geometry = MAP_LIMIT, 0, [], True
    lang = current_lang()
    # the answer only changes with a new version: keep the last few (the base map is asked for on every map page)
    cache_key = (str(hub.store.engine.url), dataset.id, hub.store.current_version(dataset.id), lang,
                 tuple(sorted(preview.args().items())))
    body = _CACHE.get(cache_key)
    if body is None:
        page = records(hub.store, dataset, query, ANONYMOUS)
        body = _feature_collection(dataset, page, label, shown, reference_names(hub.store, dataset), lang)
        _CACHE.put(cache_key, body)
    response = Response(body, mimetype="application/geo+json")
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


PALETTE = 8  # marker colours (site.css .hub-marker.c0 … c7), by the kind's place in its enum


def _feature_collection(dataset: Dataset, page: Page, label: str, shown: list[str], names: dict[str, Any],
                        lang: str) -> bytes:
    """Features with what a popup shows (name, labelled summary lines, the record's page) and the colour of
    their kind; the legend lists the kinds drawn, with their colours and counts."""
    kind = kind_field(dataset)
    legend: dict[str, dict[str, Any]] = {}
    features = []
    for row in page.rows:
        if not row.get("_geometry"):
            continue
        props: dict[str, Any] = {"key": record_key(dataset, row), "label": row.get(label),
                                 "url": record_url(dataset, row),
                                 "lines": summary(dataset, row, [n for n in shown if n != label], names, lang)}
        if kind is not None and row.get(kind.name) not in (None, ""):
            value = row[kind.name]
            colour = (kind.enum or []).index(value) % PALETTE if value in (kind.enum or []) else PALETTE - 1
            props["color"] = colour
            entry = legend.setdefault(str(value), {"label": kind.enum_label(value, lang), "color": colour, "count": 0})
            entry["count"] += 1
        features.append({"type": "Feature", "geometry": lighten(row["_geometry"]), "properties": props})
    body: dict[str, Any] = {"type": "FeatureCollection", "version": page.version, "total": page.total,
                            "truncated": page.next_cursor is not None, "features": features,
                            "legend": {"title": kind.title(lang), "items": sorted(legend.values(), key=lambda e: -e["count"])}
                            if kind is not None and legend else None}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _round(coords: Any, digits: int) -> Any:
    if isinstance(coords, (int, float)):
        return round(coords, digits)
    return [_round(c, digits) for c in coords]


def lighten(geometry: dict[str, Any]) -> dict[str, Any]:
    """A geometry for an overview map: points to 6 decimals (~0.1 m), polygons simplified, 4 decimals (~11 m)."""
    if geometry.get("type") == "Point":
        return {"type": "Point", "coordinates": _round(geometry["coordinates"], 6)}
    from shapely.geometry import mapping, shape

    simple = mapping(shape(geometry).simplify(SIMPLIFY_DEGREES, preserve_topology=True))
    return {"type": simple["type"], "coordinates": _round(simple["coordinates"], 4)}
