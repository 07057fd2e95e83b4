"""Parsing the records endpoint's query string into a `publish.query.Query`.

Filters (`field=value`, `field__op=value`) are read by publish.filters, as for the web preview.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.catalog import Dataset
from publish.filters import parse_filters
from publish.query import MAX_OFFSET, Query, QueryError, decode_cursor

RESERVED = {"q", "bbox", "near", "commune", "sort", "fields", "limit", "cursor", "as_of", "format", "offset", "bom",
            "labels"}


def _floats(raw: str, count: int, name: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in raw.split(","))
    except ValueError:
        values = ()
    if len(values) != count:
        raise QueryError(f"«{name}» cần {count} số cách nhau bằng dấu phẩy", f"«{name}» needs {count} comma-separated numbers",
                         field=name)
    return values


def parse_query(args: Mapping[str, str], dataset: Dataset, *, max_page_size: int) -> Query:
    query = Query()
    query.filters = parse_filters(args.items(), dataset, reserved=RESERVED)
    query.q = args.get("q") or None
    if args.get("bbox"):
        query.bbox = _floats(args["bbox"], 4, "bbox")  # type: ignore[assignment]  # _floats checked: 4 numbers
    if args.get("near"):
        query.near = _floats(args["near"], 3, "near")  # type: ignore[assignment]  # 3 numbers
    query.commune = args.get("commune") or None
    if args.get("sort"):
        for part in args["sort"].split(","):
            part = part.strip()
            if part:
                query.sort.append((part.lstrip("-"), part.startswith("-")))
    if args.get("fields"):
        query.fields = [f.strip() for f in args["fields"].split(",") if f.strip()]
    try:
        query.limit = int(args.get("limit", 100))
        query.offset = int(args.get("offset", 0))
    except ValueError:
        raise QueryError("«limit» và «offset» phải là số nguyên", "«limit» and «offset» must be integers", field="limit") from None
    if query.limit < 1 or query.limit > max_page_size:
        raise QueryError(f"«limit» phải từ 1 đến {max_page_size}", f"«limit» must be between 1 and {max_page_size}",
                         field="limit")
    if query.offset < 0 or query.offset > MAX_OFFSET:
        raise QueryError(f"«offset» phải từ 0 đến {MAX_OFFSET}", f"«offset» must be between 0 and {MAX_OFFSET}",
                         field="offset")
    if args.get("as_of"):
        try:
            query.version = int(args["as_of"])
        except ValueError:
            raise QueryError("«as_of» phải là số phiên bản", "«as_of» must be a version number", field="as_of") from None
    if args.get("cursor"):
        version, offset = decode_cursor(args["cursor"])
        query.version, query.offset = version, offset
    return query
