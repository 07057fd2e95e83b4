"""Filter parameters of a query string: one spelling for the sharing API and the web preview, parsed here once.

`field=value` is equality; `field__op=value` takes op from `SUFFIX_OPS`: ne, gt, gte, lt, lte, in (a,b),
contains, null (true/false), the spelling of Datasette's table filters. A parameter naming no field of the
dataset, an operator not in that list, or a `__null` that is neither true nor false is refused with a message in
Vietnamese and English naming it, never ignored. Whether the caller may filter on a field is the query's
concern (publish.query.where_clauses), the same for every interface.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from core.catalog import Dataset
from publish.query import OPERATORS, Filter, QueryError

__all__ = ["SUFFIX_OPS", "OPERATORS_TEXT", "filter_param", "parse_filter", "parse_filters"]

# what follows `field__`: the query's operators, equality being the bare field and notnull spelt __null=false
SUFFIX_OPS = tuple(op for op in OPERATORS if op not in ("eq", "notnull"))
OPERATORS_TEXT = ", ".join(f"__{op}" for op in SUFFIX_OPS)  # for messages and the API's documentation
_TRUE, _FALSE = ("true", "1", ""), ("false", "0")


def parse_filter(key: str, value: str, dataset: Dataset) -> Filter:
    """One query-string parameter as a Filter; QueryError (400, vi/en) when it is not one."""
    name, _, op = key.partition("__")
    if name not in dataset.schema.field_names:
        raise QueryError(f"Không có trường «{name}» để lọc", f"No field «{name}» to filter on", field=name)
    if op and op not in SUFFIX_OPS:
        raise QueryError(f"Phép lọc không hợp lệ «{op}» (dùng một trong: {OPERATORS_TEXT})",
                         f"Unknown filter operator «{op}» (use one of: {OPERATORS_TEXT})", field=key)
    if op == "null":
        wanted = value.strip().lower()
        if wanted not in _TRUE + _FALSE:
            raise QueryError(f"«{key}» nhận true hoặc false", f"«{key}» takes true or false", field=key)
        return Filter(name, "null" if wanted in _TRUE else "notnull")
    if op == "in":
        return Filter(name, "in", value.split(","))
    return Filter(name, op or "eq", value)


def parse_filters(args: Iterable[tuple[str, str]], dataset: Dataset, *, reserved: Collection[str]) -> list[Filter]:
    """Every parameter not in `reserved` as a Filter; the first one that is not a filter raises QueryError."""
    return [parse_filter(key, value, dataset) for key, value in args if key not in reserved]


def filter_param(flt: Filter) -> tuple[str, str]:
    """A Filter back as its query-string parameter (parse_filter's inverse)."""
    if flt.op in ("null", "notnull"):
        return f"{flt.field}__null", "true" if flt.op == "null" else "false"
    value = ",".join(map(str, flt.value)) if isinstance(flt.value, list) else str(flt.value)
    return (flt.field if flt.op == "eq" else f"{flt.field}__{flt.op}"), value
