"""The dataset page: metadata, validation status, data dictionary, preview, map, downloads, API, history.

It reads through the same functions as the sharing API (publish.query.records, publish.versions), as the
anonymous viewer, so what a citizen sees here is exactly what the open API and the downloads give.
"""

from __future__ import annotations

import shlex
from typing import Any
from urllib.parse import urlencode

from flask import render_template, request, url_for
from flask_babel import format_decimal

from core.catalog import Dataset
from hub.api.datasets import visible_dataset
from hub.context import current_hub, public_base
from hub.web.blueprint import bp
from hub.web.dictionary import dictionary, foreign_targets
from hub.web.formatting import cell
from hub.web.i18n import current_lang
from hub.web.preview import PAGE_SIZES, RADII, RANGE_TYPES, Preview, columns, parse_preview, protected, reference_fields
from hub.web.records import base_map_url, record_url
from hub.web.report_pages import dataset_charts
from publish import feeds, versions
from publish.access import ANONYMOUS
from publish.catalogue import cards, count_view
from publish.exports.csv import csv_chunks
from publish.labels import reference_names
from publish.query import DISTANCE, Page, Query, QueryError, records

PREVIEW_CELL_CHARS = 90
LONG_CELL_CHARS = 30  # longer texts wrap in a wider column; shorter ones stay on one line


def _rows(dataset: Dataset, page: Page, refs: dict[str, str]) -> list[dict[str, Any]]:
    """Rows ready for the template: display text per column (labels and names instead of slugs and codes),
    the record's page, links along foreign keys."""
    shown = columns(dataset)
    names = reference_names(current_hub().store, dataset, ANONYMOUS)
    out = []
    for row in page.rows:
        cells = []
        for f in shown:
            link = None
            if f.name in refs and row.get(f.name) is not None:
                link = url_for("web.record_page", dataset_id=refs[f.name], key=str(row[f.name]))
            text = cell(row.get(f.name), f, names.get(f.name))
            cells.append((f, _short(text), link, len(text) > LONG_CELL_CHARS))
        out.append({"url": record_url(dataset, row), "cells": cells, "distance": distance_text(row.get(DISTANCE))})
    return out


def distance_text(metres: float | None) -> str | None:
    """850 m, 1,2 km (in the page's language)."""
    if metres is None:
        return None
    if metres < 1000:
        return f"{format_decimal(round(metres))} m"
    return f"{format_decimal(round(metres / 1000, 1))} km"


def _short(text: str, limit: int = PREVIEW_CELL_CHARS) -> str:
    """Long texts (descriptions) are cut in the preview so rows stay readable; the record page has them whole."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def api_example(dataset: Dataset, query: Query | None = None) -> str:
    """The curl command of the API's page of these rows: the preview's filters, search, distance and sort in the
    API's spelling (with labels=on when filtered), else the first 5 records. Shell-quoted, to paste in a terminal."""
    args = api_args(query) if query is not None else {}
    if args:
        args["labels"] = "on"
    return "curl " + shlex.quote(f"{public_base()}/api/v1/datasets/{dataset.id}/records?{urlencode({**args, 'limit': 5})}")


def api_args(query: Query) -> dict[str, str]:
    """The API's query string for the same rows as a (resolved) preview query: `field__op=value`, q, sort."""
    out: dict[str, str] = {}
    for flt in query.filters:
        value = ",".join(map(str, flt.value)) if isinstance(flt.value, list) else str(flt.value)
        out[flt.field if flt.op == "eq" else f"{flt.field}__{flt.op}"] = value
    if query.q:
        out["q"] = query.q
    if query.near:
        out["near"] = ",".join(f"{v:g}" for v in query.near)
    if query.sort:
        out["sort"] = ",".join(("-" if d else "") + n for n, d in query.sort)
    return out


def approx_size(page: Page) -> str:
    """The size of the CSV of every matching row, estimated from the page's rows (the file is not built)."""
    if not page.rows or not page.total:
        return "—"
    sample = "".join(csv_chunks(page.fields, page.rows)).encode("utf-8")
    size = len(sample) / len(page.rows) * page.total
    for unit in ("B", "kB", "MB"):
        if size < 1000 or unit == "MB":
            return f"{format_decimal(round(size, 1 if size < 10 else None))} {unit}"
        size /= 1000
    return "—"


def _map(dataset: Dataset, preview: Preview) -> dict[str, Any] | None:
    if not dataset.schema.geometry_kind:
        return None
    filters: dict[str, Any] = preview.filter_args()
    return {"kind": dataset.schema.geometry_kind,
            "geojson": url_for("web.map_geojson", dataset_id=dataset.id, **filters),
            "base": base_map_url(dataset)}


@bp.get("/datasets/<dataset_id>")
def dataset_page(dataset_id: str):  # noqa: ANN201
    hub = current_hub()
    dataset = visible_dataset(hub, dataset_id, ANONYMOUS)
    card = cards(hub.store, hub.catalog, ANONYMOUS, ids=[dataset.id])[0]
    preview = parse_preview(dataset, request.args, references=reference_fields(hub, dataset))
    error = None
    page = None
    query = None
    try:
        query = preview.resolved_query(hub.store)
        page = records(hub.store, dataset, query, ANONYMOUS)
    except QueryError as exc:  # a filter value of the wrong type: say so next to the table
        error = exc.message(current_lang())
    if "page" not in request.args and error is None:
        count_view(hub.store, dataset.id)
    refs = foreign_targets(dataset, hub.catalog, ANONYMOUS)
    base = url_for("web.dataset_page", dataset_id=dataset.id)
    history = versions.versions(hub.store, dataset.id)
    return render_template(
        "dataset.html",
        dataset=dataset,
        card=card,
        publisher=hub.catalog.publishers.get(dataset.publisher, {}),
        licence=hub.catalog.licences.get(dataset.licence, {}),
        themes=[(t, hub.catalog.themes.get(t, {})) for t in dataset.themes],
        entries=dictionary(dataset, hub.catalog, ANONYMOUS),
        columns=columns(dataset),
        choices={name: names.choices(current_lang()) for name, names in reference_names(hub.store, dataset).items()},
        range_types=RANGE_TYPES,
        radii=RADII,
        distance=DISTANCE,
        protected=protected(dataset),
        preview=preview,
        page=page,
        rows=_rows(dataset, page, refs) if page else [],
        pages=preview.pages(page.total) if page else 1,
        page_sizes=PAGE_SIZES,
        base=base,
        error=error,
        map=_map(dataset, preview),
        api_example=api_example(dataset, query),
        api_url=f"/api/v1/datasets/{dataset.id}/records",
        api_csv=f"/api/v1/datasets/{dataset.id}/records?" + urlencode({**(api_args(query) if query else {}),
                                                                       "format": "csv", "bom": "1"}),
        approx_size=approx_size(page) if page else "—",
        jsonld=feeds.dataset_jsonld(hub.store, dataset, public_base(), current_lang()),
        history=history,
        charts=dataset_charts(dataset, current_lang()),
    ), 400 if error else 200
