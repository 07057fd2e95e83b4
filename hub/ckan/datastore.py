"""datastore_search and datastore_info over our datasets, read through publish.query with the caller's rights.

The CSV resource of each dataset is "in the datastore" (CKAN's `datastore_active`); the dataset id works as
an alias of its resource id. Parameters, answers and errors follow ckanext/datastore (logic/schema.py
`datastore_search_schema`, backend/postgres.py `search_data`, `resource_fields`): `_id` comes first in the
fields and is the stored row's id (a record keeps it in every version where it is unchanged; filters and sorts
may name it; distinct rows are numbered), types are PostgreSQL type names, unknown fields and bad sorts are Validation Errors. Personal fields
never appear unless the key was granted them (publish.access decides, publish.query applies).
"""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import urlencode

from core.catalog import Dataset
from hub.ckan.errors import NotFoundError
from hub.ckan.validation import Errors, add, as_bool, as_int, as_json, as_list, natural, raise_if
from publish import query as q
from publish.access import Viewer, can_see_dataset, visible_fields
from publish.context import Hub
from publish.metadata import hub_id

__all__ = ["DATASTORE_TYPES", "datastore_info", "datastore_search", "datastore_dataset"]

ROWS_DEFAULT, ROWS_MAX = 100, 32000
# our Table Schema types as the datastore's PostgreSQL column types
DATASTORE_TYPES = {"string": "text", "integer": "int8", "number": "numeric", "boolean": "bool", "date": "date",
                   "datetime": "timestamp", "time": "time", "year": "int4", "geojson": "text", "object": "json",
                   "array": "json"}
SEARCH_KEYS = {"resource_id", "id", "q", "full_text", "plain", "filters", "language", "limit", "offset", "fields",
               "sort", "distinct", "include_total", "total_estimation_threshold", "records_format",
               "include_next_page"}
OPERATORS = {"eq": "eq", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte", "in": "in"}


def datastore_dataset(hub: Hub, viewer: Viewer, resource_id: Any) -> Dataset:
    """The dataset whose CSV resource (or alias: the dataset id) this is, if the viewer may see it."""
    for ds in hub.catalog:
        if resource_id in (ds.id, hub_id("resource", f"{ds.id}/csv")) and can_see_dataset(ds, viewer):
            return ds
    raise NotFoundError(f'Không có tài nguyên "{resource_id}" trong kho dữ liệu',
                        f'Resource "{resource_id}" was not found.', resource_id=str(resource_id))


def _field_info(dataset: Dataset, name: str) -> dict[str, Any]:
    f = dataset.schema.field(name)
    descriptions = f.descriptor.get("descriptions") or {}
    return {"label": f.title("vi"), "label_en": f.title("en"), "notes": descriptions.get("vi", ""),
            "notes_en": descriptions.get("en", ""), "type_override": ""}


def _fields(dataset: Dataset, names: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"id": "_id", "type": "int"}] if "_id" in names else []
    for name in names:
        if name != "_id":
            ftype = DATASTORE_TYPES.get(dataset.schema.field(name).type, "text")
            out.append({"id": name, "type": ftype, "info": _field_info(dataset, name)})
    return out


def _filters(dataset: Dataset, raw: Any, allowed: list[str], errors: Errors) -> list[q.Filter]:
    value = as_json(raw, "filters", errors)
    if value in (None, {}):
        return []
    if not isinstance(value, dict):
        add(errors, "filters", "Filters must be defined as a dict or a list of dicts")
        return []
    out: list[q.Filter] = []
    for name, wanted in value.items():
        if name == "$and" and isinstance(wanted, list):  # nested AND: the same as listing them side by side
            for part in wanted:
                out += _filters(dataset, part, allowed, errors)
            continue
        if name not in allowed and name != "_id":
            add(errors, "filters", f"Unknown field: {name}")
            continue
        if isinstance(wanted, list):
            out.append(q.Filter(name, "in", [str(v) for v in wanted]))
        elif isinstance(wanted, dict):
            for op, operand in wanted.items():
                if op not in OPERATORS:
                    add(errors, "filters", f"Unknown filter operation: {op}")
                else:
                    out.append(q.Filter(name, OPERATORS[op], operand))
        else:
            out.append(q.Filter(name, "eq", wanted))
    return out


def _sort(value: Any, allowed: list[str], errors: Errors) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for clause in as_list(value):
        parts = clause.replace('"', "").split()
        field = parts[0] if parts else ""
        rest = [p.lower() for p in parts[1:]]
        direction = rest[0] if rest else "asc"
        if (field not in allowed and field != "_id") or direction not in ("asc", "desc") or \
                rest[1:] not in ([], ["nulls", "last"], ["nulls", "first"]):
            add(errors, "sort", f'invalid value "{clause}"')
        else:
            out.append((field, direction == "desc"))
    return out


def datastore_search(hub: Hub, viewer: Viewer, data: dict[str, Any], base: str) -> dict[str, Any]:
    errors: Errors = {}
    resource_id = data.get("resource_id") or data.get("id")
    if not resource_id:
        add(errors, "resource_id", "Missing value")
    for key in sorted(set(data) - SEARCH_KEYS):
        add(errors, key, f"The input field {key} was not expected.")
    limit = min(natural(data.get("limit"), "limit", errors, ROWS_DEFAULT) or 0, ROWS_MAX)
    offset = as_int(data.get("offset"), "offset", errors, 0) or 0
    include_total = as_bool(data.get("include_total"), "include_total", errors, True)
    distinct = as_bool(data.get("distinct"), "distinct", errors, False)
    records_format = data.get("records_format") or "objects"
    if records_format not in ("objects", "lists", "csv", "tsv"):
        add(errors, "records_format", "Value must be one of ['objects', 'lists', 'csv', 'tsv']")
    raise_if(errors)
    dataset = datastore_dataset(hub, viewer, resource_id)
    allowed = visible_fields(dataset, viewer)
    wanted = as_list(data.get("fields"))
    for name in wanted:
        if name not in allowed and name != "_id":
            add(errors, "fields", f'invalid value "{name}"')
    query = q.Query(filters=_filters(dataset, data.get("filters"), allowed, errors),
                    sort=_sort(data.get("sort"), allowed, errors), limit=limit, offset=max(offset, 0),
                    row_ids=True)
    text = as_json(data.get("q"), "q", errors) if str(data.get("q") or "").startswith("{") else data.get("q")
    if isinstance(text, dict):  # {"field": "words"}: words searched in that field only
        for name, words in text.items():
            if name not in allowed:
                add(errors, "q", f'invalid value "{name}"')
            else:
                query.filters.append(q.Filter(name, "contains", str(words)))
    else:
        query.q = text or data.get("full_text") or None
    raise_if(errors)
    query.fields = [n for n in wanted if n != "_id"] or None
    names = ["_id", *(query.fields or allowed)]
    total: int | None
    if distinct:
        rows, total = _distinct(hub, dataset, query, viewer, names)
    else:
        page = q.records(hub.store, dataset, query, viewer, count=include_total)
        rows, total = page.rows, page.total
    if wanted and "_id" not in wanted:
        names.remove("_id")
    ordered = [{n: row.get(n) for n in names} for row in rows]
    result: dict[str, Any] = {
        "include_total": include_total, "resource_id": resource_id, "fields": _fields(dataset, names),
        "records_format": records_format, "records": _format(ordered, names, records_format), "limit": limit,
        "_links": _links(base, data, offset, limit),
    }
    for key in ("filters", "q", "sort", "distinct"):
        if data.get(key) not in (None, ""):
            result[key] = data[key]
    if offset:
        result["offset"] = offset
    if include_total:
        result["total"] = total
        result["total_was_estimated"] = False
    return result


def _distinct(hub: Hub, dataset: Dataset, query: q.Query, viewer: Viewer, names: list[str]) -> tuple[list[dict], int]:
    """Distinct rows of the chosen fields (after personal values were blanked), then paged."""
    seen: dict[tuple, dict[str, Any]] = {}
    offset, limit = query.offset, query.limit
    query.offset, query.limit, query.row_ids = 0, 0, False
    for row in q.iter_records(hub.store, dataset, query, viewer):
        key = tuple(str(row.get(n)) for n in names if n != "_id")
        seen.setdefault(key, row)
    rows = list(seen.values())
    for number, row in enumerate(rows, start=1):
        row["_id"] = number
    return rows[offset:offset + limit], len(rows)


def _format(rows: list[dict[str, Any]], names: list[str], fmt: str) -> Any:
    if fmt == "objects":
        return rows
    if fmt == "lists":
        return [[row.get(n) for n in names] for row in rows]
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n")
    for row in rows:
        writer.writerow(["" if row.get(n) is None else row.get(n) for n in names])
    return out.getvalue()


def _links(base: str, data: dict[str, Any], offset: int, limit: int) -> dict[str, str]:
    """`start` and `next` URLs, as CKAN 2.9-2.11 give them (clients page with `_links.next`)."""
    args = {k: v for k, v in data.items() if k != "offset" and isinstance(v, (str, int, float))}
    path = "/api/3/action/datastore_search"
    return {"start": f"{path}?{urlencode(args)}", "next": f"{path}?{urlencode({**args, 'offset': offset + limit})}"}


def datastore_info(hub: Hub, viewer: Viewer, data: dict[str, Any]) -> dict[str, Any]:
    errors: Errors = {}
    resource_id = data.get("resource_id") or data.get("id")
    if not resource_id:
        add(errors, "resource_id", "Missing value")
    raise_if(errors)
    dataset = datastore_dataset(hub, viewer, resource_id)
    names = visible_fields(dataset, viewer)
    pk = set(dataset.schema.primary_key)
    fields = _fields(dataset, names)
    for f in fields:
        f["schema"] = {"native_type": f["type"], "notnull": bool(dataset.schema.field(f["id"]).constraints.get("required")),
                       "index_name": None, "is_index": f["id"] in pk, "uniquekey": f["id"] in pk and len(pk) == 1}
    count = q.count_current(hub.store, dataset)
    real_id = hub_id("resource", f"{dataset.id}/csv")
    return {"meta": {"id": real_id, "count": count, "table_type": "BASE TABLE", "aliases": [dataset.id],
                     "size": None, "db_size": None, "idx_size": None},
            "fields": fields}
