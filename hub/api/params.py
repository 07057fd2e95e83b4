"""The records endpoint's query string: parsed into a `publish.query.Query`, and documented, from one set of rules.

Each parameter's rule is written once here and serves both sides, so the OpenAPI document says exactly what
the parser takes: `near` and `bbox` are checked against the patterns the document gives, `limit` and `offset`
against the bounds it gives, enum filters against the schema's values. Filters (`field=value`,
`field__op=value`) are read by publish.filters, as for the web preview; their documented types and enums come
from the dataset's Table Schema (`record_parameters`). Rules one parameter cannot state about another (a
cursor is only what an answer gave; `sort=distance_m` needs `near`) are said in words in the descriptions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.catalog import Dataset, Field
from core.text import CONTROL_CHARACTERS
from publish.filters import OPERATORS_TEXT, parse_filters
from publish.query import DISTANCE, MAX_INTEGER, MAX_OFFSET, Query, QueryError, decode_cursor

__all__ = ["BBOX_PATTERN", "FORMATS", "LABELS", "MAX_CSV_ROWS", "NEAR_PATTERN", "RESERVED", "TEXT_PATTERN",
           "MAX_VERSION", "parse_flag", "parse_labels", "parse_query", "parse_version", "record_parameters"]

RESERVED = {"q", "bbox", "near", "commune", "sort", "fields", "limit", "cursor", "as_of", "format", "offset", "bom",
            "labels"}
FORMATS = ("json", "geojson", "csv")
MAX_CSV_ROWS = 100_000  # the largest `limit` of a CSV answer (without `limit`, a CSV answer holds every record)
# labels=on (or vi, true, 1): labels in Vietnamese; en: in English; off (false, 0): none
LABELS = {"on": "vi", "vi": "vi", "true": "vi", "1": "vi", "en": "en", "off": None, "false": None, "0": None}

# Text of any parameter: the edge refuses control characters in a URI (hub/security.py), so the document says so
TEXT_PATTERN = f"^[^{CONTROL_CHARACTERS}]*$"
_LAT = r"-?(?:[1-8]?\d(?:\.\d+)?|90(?:\.0+)?)"
_LON = r"-?(?:(?:1[0-7]\d|[1-9]?\d)(?:\.\d+)?|180(?:\.0+)?)"
_RADIUS = r"\d{1,7}(?:\.\d+)?"  # metres, under 10,000 km
_SEP = ", ?"
NEAR_PATTERN = f"^(?:{_LAT}{_SEP}{_LON}{_SEP}{_RADIUS})?$"  # empty: no `near`
BBOX_PATTERN = f"^(?:{_LON}{_SEP}{_LAT}{_SEP}{_LON}{_SEP}{_LAT})?$"
MAX_VERSION = 2**31 - 2  # versions are the databases' 32-bit integers
_INT64 = {"type": "integer", "format": "int64", "minimum": -MAX_INTEGER, "maximum": MAX_INTEGER}


def _floats(args: Mapping[str, str], name: str, pattern: str, shape: str) -> tuple[float, ...] | None:
    raw = args.get(name)
    if not raw:
        return None
    if not re.fullmatch(pattern, raw):
        raise QueryError(f"«{name}» cần dạng {shape} (số thập phân, độ WGS84)",
                         f"«{name}» must be {shape} (decimal numbers, WGS84 degrees)", field=name)
    return tuple(float(v) for v in raw.split(","))


def _integer(args: Mapping[str, str], name: str, default: int | None, low: int, high: int) -> int | None:
    """`name` as an integer in [low, high]; absent: `default`; present but empty or not an integer: refused."""
    if name not in args:
        return default
    raw = args[name].strip()
    if not re.fullmatch(r"[+-]?\d{1,20}", raw) or not low <= int(raw) <= high:
        raise QueryError(f"«{name}» phải là số nguyên từ {low} đến {high}",
                         f"«{name}» must be an integer from {low} to {high}", field=name)
    return int(raw)


FLAGS = {"true": True, "1": True, "false": False, "0": False}  # a boolean parameter's spellings


def parse_flag(args: Mapping[str, str], name: str) -> bool:
    """A true/false parameter (true or 1, false or 0); absent: false."""
    if name not in args:
        return False
    raw = args[name].strip().lower()
    if raw not in FLAGS:
        raise QueryError(f"«{name}» nhận true hoặc false", f"«{name}» takes true or false", field=name)
    return FLAGS[raw]


def parse_labels(args: Mapping[str, str]) -> str | None:
    """`labels=on` (or vi, true, 1): labels in Vietnamese; `labels=en`: in English; absent or off: none."""
    if "labels" not in args:
        return None
    raw = args["labels"].strip().lower()
    if raw not in LABELS:
        raise QueryError(f"«labels» phải là on, en hoặc off, không phải «{raw}»",
                         f"«labels» must be on, en or off, not «{raw}»", field="labels")
    return LABELS[raw]


def parse_version(args: Mapping[str, str]) -> int | None:
    """`as_of`: a version number (1 and up), or None for the current version."""
    return _integer(args, "as_of", None, 1, MAX_VERSION)


def parse_query(args: Mapping[str, str], dataset: Dataset, *, max_page_size: int, fmt: str = "json") -> Query:
    """The Query of a records request. `limit` is at most MAX_CSV_ROWS; a page of JSON or GeoJSON holds at most
    `max_page_size` records (a larger `limit` gives that many: the answer's `limit` says what was used)."""
    query = Query()
    query.filters = parse_filters(args.items(), dataset, reserved=RESERVED)
    _refuse_values_outside_enums(dataset, query)
    for key, value in args.items():  # `__null` is documented as a boolean: its spellings only (not empty)
        if key.endswith("__null") and key not in RESERVED and value.strip().lower() not in FLAGS:
            raise QueryError(f"«{key}» nhận true hoặc false", f"«{key}» takes true or false", field=key)
    query.q = args.get("q") or None
    query.bbox = _floats(args, "bbox", BBOX_PATTERN, "min_lon,min_lat,max_lon,max_lat")  # type: ignore[assignment]  # the pattern: 4 numbers
    query.near = _floats(args, "near", NEAR_PATTERN, "lat,lon,radius_m")  # type: ignore[assignment]  # 3 numbers
    query.commune = args.get("commune") or None
    if args.get("sort"):
        for part in args["sort"].split(","):
            part = part.strip()
            if part:
                query.sort.append((part.lstrip("-"), part.startswith("-")))
    if args.get("fields"):
        query.fields = [f.strip() for f in args["fields"].split(",") if f.strip()]
    limit = _integer(args, "limit", 100, 1, max(MAX_CSV_ROWS, max_page_size)) or 100
    query.limit = limit if fmt == "csv" else min(limit, max_page_size)
    query.offset = _integer(args, "offset", 0, 0, MAX_OFFSET) or 0
    query.version = parse_version(args)
    if args.get("cursor"):  # its version, and where its page starts: after its row (keyset) or at its offset
        decode_cursor(args["cursor"], dataset, query)
    return query


def _refuse_values_outside_enums(dataset: Dataset, query: Query) -> None:
    """A value an enum field never holds is a mistake (a label or a misspelt slug), not a question with no answer."""
    for flt in query.filters:
        allowed = dataset.schema.field(flt.field).enum
        if not allowed or flt.op not in ("eq", "ne", "in"):
            continue
        values = flt.value if isinstance(flt.value, list) else [flt.value]
        wrong = [v for v in values if v not in allowed]
        if wrong:
            raise QueryError(f"«{wrong[0]}» không phải giá trị của «{flt.field}» (dùng một trong: {', '.join(allowed)})",
                             f"«{wrong[0]}» is not a value of «{flt.field}» (use one of: {', '.join(allowed)})",
                             field=flt.field)


# -- the OpenAPI side ---------------------------------------------------------------------------------------------

def _value_schema(f: Field, *, fk: bool) -> dict[str, Any]:
    """What a filter on `f` takes, as an OpenAPI parameter's type (the field's own range is not a filter's:
    star_rank__gte=0 is a fair question)."""
    if f.enum:
        return {"type": "string", "enum": list(f.enum)}
    if f.type == "integer":
        return dict(_INT64)
    if f.type == "number":
        return {"type": "number"}
    if f.type in ("date", "datetime"):
        return {"type": "string", "format": "date" if f.type == "date" else "date-time"}
    if fk and f.constraints.get("pattern"):  # a key; the referenced record's name is taken too (see description)
        return {"type": "string", "pattern": f"^(?:{f.constraints['pattern']})$"}
    return {"type": "string", "pattern": TEXT_PATTERN}


def _filter_parameters(dataset: Dataset) -> dict[str, dict[str, Any]]:
    fk_fields = {name for fk in dataset.schema.foreign_keys
                 for name in ([fk["fields"]] if isinstance(fk["fields"], str) else fk["fields"])}
    out: dict[str, dict[str, Any]] = {}
    for f in dataset.schema.fields:
        if f.type in ("geojson", "object", "array", "geopoint"):
            continue  # geometry is asked with bbox, near and commune
        fk = f.name in fk_fields
        value = _value_schema(f, fk=fk)
        title = f"{f.title('vi')} / {f.title('en')}"
        also = (" Cũng nhận tên bản ghi được tham chiếu / also takes the referenced record's name, accents optional "
                "(commune_code=Tran Bien).") if fk else ""
        out[f.name] = {**value, "description": f"{title}: bằng / equals.{also}"}
        out[f"{f.name}__ne"] = {**value, "description": f"{title}: khác / not equal"}
        out[f"{f.name}__in"] = {"type": "array", "items": value, "collectionFormat": "csv", "minItems": 1,
                                "description": f"{title}: một trong / one of (a,b)"}
        out[f"{f.name}__null"] = {"type": "boolean", "description": f"{title}: trống / empty (true) or not (false)"}
        if f.type in ("integer", "number", "date", "datetime"):
            for op, words in (("gt", "lớn hơn / greater than"), ("gte", "từ / at least"), ("lt", "nhỏ hơn / less than"),
                              ("lte", "đến / at most")):
                out[f"{f.name}__{op}"] = {**value, "description": f"{title}: {words}"}
        elif f.type == "string" and not f.enum and not fk:
            out[f"{f.name}__contains"] = {"type": "string", "pattern": TEXT_PATTERN,
                                          "description": f"{title}: chứa, không phân biệt hoa thường / contains, any case"}
    return out


def record_parameters(dataset: Dataset, *, max_page_size: int) -> dict[str, dict[str, Any]]:
    """The records operation's query parameters for `dataset`, typed from its Table Schema, for flask-restx's
    `doc(params=...)` (OpenAPI 2: `collectionFormat: csv` for comma-separated lists)."""
    names = [f.name for f in dataset.schema.fields if f.type not in ("geojson", "object", "array", "geopoint")]
    params: dict[str, dict[str, Any]] = {
        "q": {"type": "string", "pattern": TEXT_PATTERN,
              "description": "Tìm kiếm không dấu / full-text search, ignores case and diacritics ('khach san' finds "
                             "'Khách sạn')"},
    }
    if dataset.schema.geometry_kind:
        params.update({
            "bbox": {"type": "string", "pattern": BBOX_PATTERN,
                     "description": "Trong khung / inside min_lon,min_lat,max_lon,max_lat (WGS84 degrees)"},
            "near": {"type": "string", "pattern": NEAR_PATTERN,
                     "description": f"Gần / lat,lon,radius_m: records within radius_m metres; each gets {DISTANCE} "
                                    f"(metres, WGS84 ellipsoid), and sort={DISTANCE} (or -{DISTANCE}) orders by it"},
            "commune": {"type": "string", "pattern": TEXT_PATTERN,
                        "description": "Mã xã/phường / code of a commune or ward whose boundary contains the record"},
        })
    params.update({
        "sort": {"type": "array", "collectionFormat": "csv",
                 "items": {"type": "string", "enum": [s for n in names for s in (n, f"-{n}")]},
                 "description": f"Sắp xếp / sort by field, -field for descending, comma-separated; with near, also "
                                f"{DISTANCE} or -{DISTANCE}"},
        "fields": {"type": "array", "collectionFormat": "csv", "items": {"type": "string", "enum": names},
                   "description": "Các trường cần lấy / fields to return, comma-separated"},
        "limit": {"type": "integer", "minimum": 1, "maximum": max(MAX_CSV_ROWS, max_page_size), "default": 100,
                  "description": f"Số bản ghi mỗi trang / page size: JSON and GeoJSON pages hold at most "
                                 f"{max_page_size} (the answer's limit says how many); CSV up to {MAX_CSV_ROWS:,}, "
                                 "or every record without limit"},
        "offset": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0,
                   "description": "Bỏ qua / records to skip (prefer cursor: the database reads every skipped record)"},
        "cursor": {"type": "string", "pattern": TEXT_PATTERN,
                   "description": "Con trỏ trang tiếp / next_cursor of the previous answer, as given, with the same "
                                  "sort: the page after its last record, pinned to one version (any other value is "
                                  "refused)"},
        "as_of": {"type": "integer", "minimum": 1, "maximum": MAX_VERSION,
                  "description": "Đọc theo phiên bản / read as of this version (404 if it does not exist)"},
        "format": {"type": "string", "enum": list(FORMATS), "default": "json",
                   "description": "json, geojson (application/geo+json) or csv (text/csv)"},
        "labels": {"type": "string", "enum": list(LABELS),
                   "description": "Nhãn / on (or vi): add `<field>_label` after each enum field and the referenced "
                                  "record's name after each foreign key (commune_code -> commune_name); en: in "
                                  "English; off: none"},
        "bom": {"type": "boolean", "description": "CSV: bắt đầu bằng BOM UTF-8 cho Excel / start with a UTF-8 BOM"},
    })
    filters = _filter_parameters(dataset)
    for spec in params.values():
        spec["in"] = "query"
    for spec in filters.values():
        spec["in"] = "query"
        spec["description"] += f" (filters: <field>{OPERATORS_TEXT}; any other parameter is refused, 400)"
    return {**params, **filters}
