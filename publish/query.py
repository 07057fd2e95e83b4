"""Reading records: filters, full-text search, geographic filters (publish/geo_filters.py), sort, paging, versions.

The API, the web site, CKAN's datastore_search and the exports all read through `records()`, so access
rules, versions and search behave the same everywhere. Pages are pinned to one version (`as of`), so paging
stays stable while a new load lands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import sqlalchemy as sa

from core.catalog import Dataset
from core.errors import HubError, NotFound
from core.text import search_words
from publish import cursor as pagecursor
from publish import geo_filters, tables
from publish.access import ANONYMOUS, Viewer, redactor, visible_fields
from publish.cursor import MAX_INTEGER as MAX_INTEGER
from publish.cursor import MAX_OFFSET as MAX_OFFSET
from publish.cursor import OPEN as _OPEN
from publish.db import reading, unicode_lower
from publish.geo_filters import DISTANCE as DISTANCE
from publish.lru import LruCache
from publish.shape import jsonable as jsonable
from publish.shape import shape_row, shaper
from publish.store import Store

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "null", "notnull")


class QueryError(HubError):
    code = "bad-query"


@dataclass
class Filter:
    field: str
    op: str
    value: Any = None


@dataclass
class Query:
    filters: list[Filter] = field(default_factory=list)
    q: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # min_lon, min_lat, max_lon, max_lat
    near: tuple[float, float, float] | None = None  # lat, lon, radius in metres
    commune: str | None = None  # code of an admin unit whose boundary contains the record
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    fields: list[str] | None = None
    limit: int = 100
    offset: int = 0
    after: tuple[Any, ...] | None = None  # a keyset cursor's row: the page starts after it (publish/cursor.py)
    version: int | None = None  # None: current
    with_geometry: bool = False
    key: str | None = None  # the stored key (`_key`), when the filters name one record by its primary key
    # with the stored row's `_id` first in each record, and `_id` allowed in filters and sorts: a record keeps its
    # `_id` in every version where it is unchanged (CKAN's datastore `_id`)
    row_ids: bool = False


@dataclass
class Page:
    rows: list[dict[str, Any]]
    version: int | None
    total: int | None
    next_cursor: str | None
    fields: list[str]


def seekable(query: Query) -> bool:
    """Whether `query`'s pages can start after a row's sort key (publish/cursor.py): not by a computed distance."""
    return not (query.near and any(name == DISTANCE for name, _ in query.sort))


def _keyset_types(dataset: Dataset, query: Query) -> list[sa.types.TypeEngine[Any]]:
    """The column types of the keyset: the sort columns' (a name no field has: text, refused when the page's
    order is built), then the stored key's."""
    fields = {f.name: f.type for f in dataset.schema.fields}
    return [sa.Integer() if name == "_id" and query.row_ids else tables.column_type(fields.get(name, "string"))
            for name, _ in query.sort] + [sa.Text()]


def decode_cursor(cursor: str, dataset: Dataset, query: Query) -> None:
    """Read `cursor` into `query`: its version, and where its page starts (`after` a row, or at `offset`). A
    cursor no page of this query could have given is refused (400), never handed to the database (500)."""
    try:
        found = pagecursor.decode(cursor, query.sort, _keyset_types(dataset, query) if seekable(query) else [])
    except (ValueError, KeyError, TypeError, RecursionError):
        raise QueryError("Con trỏ trang không hợp lệ", "The page cursor is not valid", field="cursor") from None
    query.version, query.offset, query.after = found.version, found.offset, found.after


def version_clause(table: sa.Table, version: int | None | sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    """The rows of `version`, a resolved version: None (the dataset has no committed version) is version 0,
    which has no rows. Not "the current rows": a reader that found no version, then read while the first
    load committed, would otherwise see that version's rows labelled with no version at all. `version` may
    also be a SQL expression (the current version as a subquery, see records())."""
    if version is None:
        version = 0
    # coalesce rather than `_to IS NULL OR _to > v`: SQLite answers the OR with a multi-index scan of every
    # row and then sorts them all for a page of 100; without the OR it walks the key index in order and
    # stops at the page's end (30 ms -> 1 ms at 20,000 rows). PostgreSQL plans both alike.
    return sa.and_(table.c._from <= version, sa.func.coalesce(table.c._to, _OPEN) > version)


def _coerce(dataset: Dataset, name: str, value: Any) -> Any:
    ftype = dataset.schema.field(name).type
    if value is None:
        return None
    try:
        if ftype == "integer":
            number = int(value)
            if abs(number) > MAX_INTEGER:
                raise ValueError("out of range")  # would overflow the database's integer (a 500)
            return number
        if ftype == "number":
            real = float(value)
            if real != real or real in (float("inf"), float("-inf")):
                raise ValueError("not finite")
            return real
        if ftype == "boolean":
            return str(value).lower() in ("true", "1", "yes", "có", "co")
        if ftype == "date":
            return value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise QueryError(f"Giá trị «{value}» không đúng kiểu {ftype} của trường «{name}»",
                         f"Value «{value}» is not a valid {ftype} for field «{name}»", field=name) from None
    return str(value)


def queryable_fields(dataset: Dataset, viewer: Viewer) -> set[str]:
    """Fields the viewer may filter and sort on. A field blanked on some rows (personalWhen) is shown but not
    queryable: which rows match a filter on it, or their order, would give the blanked values away."""
    from publish.access import conditional_personal

    hidden = {name for name, _, _ in conditional_personal(dataset, viewer)}
    return set(visible_fields(dataset, viewer)) - hidden


def where_clauses(store: Store, dataset: Dataset, query: Query, viewer: Viewer, *,
                  version: sa.ColumnElement[int] | None = None, current: bool = False) -> list[sa.ColumnElement[bool]]:
    """The WHERE of `query`: its version's rows (`version`, a SQL expression, instead of query.version when
    given; with `current`, the rows no version has superseded, `_to IS NULL`: the caller must check in the same
    statement which version that is), filters, key, search and geography."""
    table = store.table(dataset)
    allowed = queryable_fields(dataset, viewer)
    clauses: list[sa.ColumnElement[bool]] = [
        table.c._to.is_(None) if current else version_clause(table, query.version if version is None else version)]
    for flt in query.filters:
        if flt.field == "_id" and query.row_ids:
            clauses.append(_row_id_clause(table, flt))
            continue
        if flt.field not in allowed:
            raise QueryError(f"Không có trường «{flt.field}»", f"No field «{flt.field}»", field=flt.field)
        if flt.op not in OPERATORS:
            raise QueryError(f"Phép lọc không hợp lệ «{flt.op}»", f"Unknown filter operator «{flt.op}»", field=flt.field)
        col = table.c[flt.field]
        if flt.op == "null":
            clauses.append(col.is_(None))
        elif flt.op == "notnull":
            clauses.append(col.is_not(None))
        elif flt.op == "in":
            values = flt.value if isinstance(flt.value, list) else str(flt.value).split(",")
            clauses.append(col.in_([_coerce(dataset, flt.field, v) for v in values]))
        elif flt.op == "contains":
            clauses.append(unicode_lower(sa.cast(col, sa.Text)).contains(str(flt.value).lower(), autoescape=True))
        else:
            value = _coerce(dataset, flt.field, flt.value)
            op = {"eq": "__eq__", "ne": "__ne__", "gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__"}[flt.op]
            clauses.append(getattr(col, op)(value))
    if query.key is not None:
        clauses.append(table.c._key == query.key)
    if query.q:
        for word in search_words(query.q):
            clauses.append(table.c._search.contains(word, autoescape=True))
    clauses.extend(_geo_clauses(store, dataset, query))
    return clauses


def _row_id_clause(table: sa.Table, flt: Filter) -> sa.ColumnElement[bool]:
    values = flt.value if isinstance(flt.value, list) else str(flt.value).split(",") if flt.op == "in" else [flt.value]
    try:
        numbers = [int(v) for v in values]
    except (TypeError, ValueError):
        raise QueryError(f"«_id» phải là số nguyên: {flt.value}", f"«_id» must be a whole number: {flt.value}",
                         field="_id") from None
    if flt.op == "in":
        return table.c._id.in_(numbers)
    ops = {"eq": "__eq__", "ne": "__ne__", "gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__"}
    if flt.op not in ops or len(numbers) != 1:
        raise QueryError(f"Phép lọc không hợp lệ «{flt.op}»", f"Unknown filter operator «{flt.op}»", field="_id")
    clause: sa.ColumnElement[bool] = getattr(table.c._id, ops[flt.op])(numbers[0])
    return clause


def _geo_clauses(store: Store, dataset: Dataset, query: Query) -> list[sa.ColumnElement[bool]]:
    """The query's geographic filters (publish.geo_filters); a dataset without geometry refuses them."""
    if not (query.bbox or query.near or query.commune):
        return []
    if not dataset.schema.geometry_kind:
        raise QueryError("Bộ dữ liệu không có vị trí", "This dataset has no geometry", dataset=dataset.id)
    return geo_filters.clauses(store, store.table(dataset), bbox=query.bbox, near=query.near,
                               commune=query.commune)


def _order_by(dataset: Dataset, table: sa.Table, query: Query, viewer: Viewer, *, stream: bool = False,
              current: bool = False) -> list[Any]:
    allowed = queryable_fields(dataset, viewer)
    order: list[Any] = []
    for name, descending in query.sort:
        if name == "_id" and query.row_ids:
            order.append(table.c._id.desc() if descending else table.c._id.asc())
            continue
        if name == DISTANCE and query.near and DISTANCE not in table.c:  # the selected distance, by its label
            order.append(sa.literal_column(DISTANCE).desc() if descending else sa.literal_column(DISTANCE).asc())
            continue
        if name not in allowed:
            raise QueryError(f"Không sắp xếp được theo «{name}»", f"Cannot sort by «{name}»", field=name)
        col = table.c[name]
        order.append(col.desc().nulls_last() if descending else col.asc().nulls_last())
    # A version holds one row per key, so `_key` alone is a total order. For a page, `_from` after it matches
    # the index (_key, _from) exactly, which lets a filtered page walk that index and stop after its rows
    # instead of sorting every match (SpatiaLite, 100,000 rows: 56 -> 406 requests/s). A stream (exports, CSV
    # answers) keeps `_id`: measured, a 10,000-row CSV answer was 2-2.5x slower with `_from` on both backends
    # (make bench's API section); why was not pinned down.
    # The current rows (`_to IS NULL`) are read through the partial index of current keys: `_key` alone matches it.
    order.extend([table.c._key] if current else [table.c._key, table.c._id if stream else table.c._from])
    return order


def select_columns(store: Store, dataset: Dataset, query: Query, viewer: Viewer) -> tuple[list[str], list[Any]]:
    table = store.table(dataset)
    visible = visible_fields(dataset, viewer)
    names = visible
    if query.fields:
        unknown = [f for f in query.fields if f not in visible]
        if unknown:
            raise QueryError(f"Không có trường: {', '.join(unknown)}", f"No such field: {', '.join(unknown)}",
                             field=unknown[0])
        names = [f for f in visible if f in query.fields]
    cols: list[Any] = [table.c[n] for n in names]
    if query.row_ids:
        names, cols = ["_id", *names], [table.c._id, *cols]
    if query.near and dataset.schema.geometry_kind and DISTANCE not in table.c:
        names, cols = [*names, DISTANCE], [*cols, geo_filters.distance(store, table, query.near).label(DISTANCE)]
    # conditional personal fields need their condition column even when not selected
    extra = [c for (_, c, _) in _conditions(dataset, viewer) if c not in names]
    cols += [table.c[c] for c in extra]
    if query.with_geometry and dataset.schema.geometry_kind:
        cols.append(sa.func.ST_AsGeoJSON(table.c._geom).label("_geometry") if store.dialect == "postgresql"
                    else sa.func.AsGeoJSON(table.c._geom).label("_geometry"))
    return names, cols


def _conditions(dataset: Dataset, viewer: Viewer) -> list[tuple[str, str, Any]]:
    from publish.access import conditional_personal

    return conditional_personal(dataset, viewer)


def resolve_version(store: Store, dataset: Dataset, version: int | None) -> int | None:
    return _resolve_version(store, dataset, version)


def _resolve_version(store: Store, dataset: Dataset, version: int | None,
                     conn: sa.Connection | None = None) -> int | None:
    current = store.current_version(dataset.id, conn)
    if version is None:
        return current
    if current is None or version < 1 or version > current:
        raise NotFound(f"Không có phiên bản {version} của «{dataset.id}»", f"No version {version} of «{dataset.id}»",
                       dataset=dataset.id)
    return version


# Counts of matching rows, remembered per worker process for a minute. A page's total is `count(*)` over every
# matching row of a committed version, which never changes once committed (a load or a rollback adds a new
# version; the query is pinned to one). Counting costs a scan of the whole version (about 20 ms per 20,000
# rows on PostgreSQL), more than the page itself, and every page of a listing asks the same count. The minute
# bounds what a restore from backup could leave stale.
_TOTALS: LruCache[int] = LruCache(2048, ttl=60.0)


def _total(conn: sa.Connection, store: Store, table: sa.Table,
           clauses: Callable[[], list[sa.ColumnElement[bool]]], query: Query) -> int:
    def count() -> int:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*clauses())).scalar() or 0

    if query.version is None:  # an unversioned dataset's rows may change: never remembered
        return count()
    # the clauses follow from these (where_clauses); naming them is cheaper than compiling the SQL each time
    key = (store.read_engine.url.render_as_string(), table.name, query.version,
           tuple((f.field, f.op, repr(f.value)) for f in query.filters), query.key, query.q, query.bbox, query.near,
           query.commune)
    total = _TOTALS.get(key)
    if total is None:
        total = count()
        _TOTALS.put(key, total)
    return total


def _reading(store: Store) -> sa.Connection:
    """A connection for a page's reads, without BEGIN and ROLLBACK on PostgreSQL (publish.db.reading): its
    statements (the page, its count, the version's check) read rows of one committed version, which nothing
    changes once committed: a load or a rollback only inserts rows of a newer version and closes current rows
    with it (`_to IS NULL` -> the newer version), and no version's rows are ever deleted (a restore from
    backup aside, which the remembered counts' minute already bounds)."""
    return reading(store.read_engine)


def _latest(dataset: Dataset) -> sa.ScalarSelect[int]:
    """The dataset's current version (0 when none is committed) as a subquery, as store.current_version asks."""
    loads = tables.loads
    return (sa.select(sa.func.coalesce(sa.func.max(loads.c.version), 0))
            .where(loads.c.dataset == dataset.id, loads.c.status == "committed").scalar_subquery())


# Built page statements, per worker process: building one (columns, filters, order, the version subquery) and
# working out its cache key cost SQLAlchemy about as much CPU as running it. The key names everything the
# statement is built from; limit, offset and a cursor's version are parameters, so pages of any size, offset and
# version share one (limit and offset written into its SQL at each run, see _literal).
_STATEMENTS: LruCache[tuple[sa.Table, list[str], sa.Select[Any]]] = LruCache(512)


def _page_statement(store: Store, dataset: Dataset, table: sa.Table, query: Query, viewer: Viewer, *,
                    pinned: bool) -> tuple[list[str], sa.Select[Any]]:
    """The statement of a page (parameters `_limit`, `_offset`, and with `pinned` the version `_pinned`; else
    the current rows, `_to IS NULL`, through the partial index of current keys), and its fields. Each row also
    carries the current version, `_version`, read in the same statement: the current rows are that version's
    (a load's rows and its committed mark commit together)."""
    from publish.access import sees_personal

    # what select_columns, where_clauses and _order_by read: the viewer only through these two
    url = store.read_engine.url.render_as_string()
    key = (url, id(table), pinned, sees_personal(dataset, viewer), viewer.authenticated,
           tuple(query.fields) if query.fields else None,
           tuple((f.field, f.op, repr(f.value)) for f in query.filters), query.key is not None, query.q, query.bbox,
           query.near,
           query.commune, tuple(query.sort), query.with_geometry, query.row_ids,
           None if query.after is None else tuple(v is None for v in query.after),  # after_clause's NULLs
           (url, table.name) in geo_filters.RTREES)  # SpatiaLite: a statement built before its R*Tree was found lacks it
    hit = _STATEMENTS.get(key)
    if hit is not None and hit[0] is table:  # `table` is part of the key by identity
        return list(hit[1]), hit[2]
    names, cols = select_columns(store, dataset, query, viewer)
    latest = _latest(dataset)
    version = sa.bindparam("_pinned", type_=sa.Integer) if pinned else latest
    if query.key is not None:  # one record by key: the key is a parameter too (`_k`), one statement for all
        query = replace(query, key=sa.bindparam("_k", type_=sa.String))  # type: ignore[arg-type]  # compared in SQL only
    clauses = where_clauses(store, dataset, query, viewer, version=version, current=not pinned)
    order = _order_by(dataset, table, query, viewer, current=not pinned)
    seek, after = _keyset(store, dataset, table, query, viewer)
    stmt = (sa.select(*cols, *seek, latest.label("_version")).where(*clauses, *after).order_by(*order)
            .limit(_literal("_limit")).offset(_literal("_offset")))
    _STATEMENTS.put(key, (table, list(names), stmt))
    return names, stmt


def _literal(name: str) -> sa.BindParameter[int]:
    """A LIMIT or OFFSET parameter written into the SQL when the statement runs (SQLAlchemy caches the statement
    once all the same). PostgreSQL plans a prepared statement whose LIMIT and OFFSET are parameters anew on every
    run (its generic plan, not knowing the page's size, looks as costly as reading the whole index); with both in
    the SQL it settles on one plan: a cold page of 100, 190 -> 120 µs of the server's CPU (20,000 rows)."""
    return sa.bindparam(name, type_=sa.Integer, literal_execute=True)


def _keyset(store: Store, dataset: Dataset, table: sa.Table, query: Query,
            viewer: Viewer) -> tuple[list[sa.Label[Any]], list[sa.ColumnElement[bool]]]:
    """A page's keyset (publish/cursor.py): its columns, selected as `_seek0`, `_seek1`... (the last row's give
    the next cursor), and with a keyset cursor the clause that starts the page after its row; called after
    `_order_by` (it refuses what cannot be sorted by). Offset cursors instead for a viewer who may not filter on
    the primary key (`_key` holds its values: a cursor would show them, a forged one ask where a key falls), and
    for a datetime sort on SQLite (it holds the driver's '10:00:00', not equal to a bound '10:00:00.000000')."""
    sqlite_datetime = store.dialect == "sqlite" and any(
        name in table.c and isinstance(table.c[name].type, sa.DateTime) for name, _ in query.sort)
    if (not seekable(query) or sqlite_datetime
            or not set(dataset.schema.primary_key) <= queryable_fields(dataset, viewer)):
        if query.after is not None:
            raise QueryError("Con trỏ trang không hợp lệ", "The page cursor is not valid", field="cursor")
        return [], []
    columns = [(table.c._id if name == "_id" and query.row_ids else table.c[name], descending)
               for name, descending in query.sort] + [(table.c._key, False)]
    labels = [col.label(f"_seek{i}") for i, (col, _) in enumerate(columns)]
    return labels, [] if query.after is None else [pagecursor.after_clause(columns, query.after)]


def records(store: Store, dataset: Dataset, query: Query | None = None, viewer: Viewer = ANONYMOUS, *,
            count: bool = True) -> Page:
    """One page of records the viewer may see."""
    query = query or Query()
    table = store.table(dataset)
    redact = redactor(dataset, viewer)
    # one connection for the version, the page and its count: each checkout costs a round trip (pre-ping)
    with _reading(store) as conn:
        fetched: Sequence[sa.Row[Any]] | None = None
        # the current version is asked inside the page's own statement (one round trip, not two); each row
        # carries it. For a cursor's version it shows that the version exists (not past the current one). A page
        # without rows cannot say, so it is asked again below. A cursor's version is mostly the current one:
        # its page is read as the current rows first, kept when the statement says they are that version's; an
        # older version's page is then read by version.
        pinned = query.version
        params = {"_limit": query.limit + 1, "_offset": query.offset, "_pinned": pinned, "_k": query.key,
                  **pagecursor.after_parameters(query.after)}
        for by_version in ((False, True) if pinned is not None and pinned >= 1 else (False,)):
            names, stmt = _page_statement(store, dataset, table, query, viewer, pinned=by_version)
            result = conn.execute(stmt, params)
            keys = list(result.keys())
            fetched = result.all()
            current = fetched[0][-1] if fetched else None
            if not fetched or pinned is not None and pinned > (current or 0):
                fetched = None  # no rows, or a version past the current one: asked again below
                break
            if pinned is None:
                query.version = current or None
                break
            if by_version or current == pinned:
                break
        if fetched is None:
            query.version = _resolve_version(store, dataset, query.version, conn)
            names, cols = select_columns(store, dataset, query, viewer)
            clauses = where_clauses(store, dataset, query, viewer)
            order = _order_by(dataset, table, query, viewer)
            seek, after = _keyset(store, dataset, table, query, viewer)
            stmt = (sa.select(*cols, *seek).where(*clauses, *after).order_by(*order)
                    .limit(query.limit + 1).offset(query.offset))
            result = conn.execute(stmt, pagecursor.after_parameters(query.after))
            keys = list(result.keys())
            fetched = result.all()
            total = _total(conn, store, table, lambda: clauses, query) if count else None
        else:  # the count's clauses name the version found (built only when the count is not remembered)
            total = (_total(conn, store, table, lambda: where_clauses(store, dataset, query, viewer), query)
                     if count else None)
    more = len(fetched) > query.limit
    shape = shaper(dataset, table, viewer, names, keys, redact, query.with_geometry)
    rows = shape(fetched[: query.limit])
    next_cursor = _next_cursor(query, keys, fetched[query.limit - 1]) if more else None
    return Page(rows=rows, version=query.version, total=total, next_cursor=next_cursor, fields=names)


def _next_cursor(query: Query, keys: list[str], last: Sequence[Any]) -> str:
    """The cursor of the page after the one ending with row `last`: after its keyset, or by offset."""
    if "_seek0" not in keys:
        return pagecursor.encode(query.version, query.sort, offset=query.offset + query.limit)
    start = keys.index("_seek0")
    return pagecursor.encode(query.version, query.sort, after=tuple(last[start:start + len(query.sort) + 1]))


def iter_records(store: Store, dataset: Dataset, query: Query | None = None, viewer: Viewer = ANONYMOUS,
                 *, batch_size: int = 5000) -> Iterator[dict[str, Any]]:
    """Every matching record, streamed in batches with flat memory (for exports and big CSV answers)."""
    query = query or Query()
    query.version = resolve_version(store, dataset, query.version)
    table = store.table(dataset)
    names, cols = select_columns(store, dataset, query, viewer)
    clauses = where_clauses(store, dataset, query, viewer)
    stmt = sa.select(*cols).where(*clauses).order_by(*_order_by(dataset, table, query, viewer, stream=True))
    if query.after is not None:  # a JSON page's cursor given to a CSV answer: the rows after it
        stmt = stmt.where(*_keyset(store, dataset, table, query, viewer)[1])
    if query.limit and query.offset:
        stmt = stmt.offset(query.offset)
    redact = redactor(dataset, viewer)
    with store.read_engine.connect().execution_options(stream_results=True, yield_per=batch_size) as conn:
        result = conn.execute(stmt, pagecursor.after_parameters(query.after))
        keys = list(result.keys())
        for row in result:  # plain tuples zipped with the keys: a RowMapping per row costs more than the row
            yield shape_row(dict(zip(keys, row, strict=True)), names, redact, query.with_geometry)


def get_record(store: Store, dataset: Dataset, key: str, viewer: Viewer = ANONYMOUS, *,
               version: int | None = None, with_geometry: bool = True) -> dict[str, Any]:
    """One record by its primary key (several key fields joined with ',')."""
    pk = dataset.schema.primary_key
    parts = key.split(",") if len(pk) > 1 else [key]
    if len(parts) != len(pk):  # names no record (the document cannot say how many parts each dataset's key has)
        raise NotFound(f"Không có bản ghi «{key}» trong «{dataset.id}» (khoá gồm {len(pk)} phần nối bằng dấu phẩy: "
                       f"{', '.join(pk)})", f"No record «{key}» in «{dataset.id}» (its key is {len(pk)} parts joined "
                       f"with commas: {', '.join(pk)})", dataset=dataset.id, field=",".join(pk))
    # The stored key (`_key`, indexed) is made of the key fields' canonical values, so it alone finds the
    # record: through the index (no index on the fields themselves: 20 ms -> 0.5 ms at 20,000 rows), and as a
    # parameter of one statement for every key (a filter's value would make a statement per key).
    from publish.rows import KEY_SEPARATOR, canonical

    allowed = queryable_fields(dataset, viewer)  # as a filter on the key fields would be refused
    for name in pk:
        if name not in allowed:
            raise QueryError(f"Không có trường «{name}»", f"No field «{name}»", field=name)
    query = Query(limit=1, version=version, with_geometry=with_geometry,
                  key=KEY_SEPARATOR.join(canonical(_coerce(dataset, f, v)) for f, v in zip(pk, parts, strict=True)))
    page = records(store, dataset, query, viewer, count=False)
    if not page.rows:
        raise NotFound(f"Không có bản ghi «{key}» trong «{dataset.id}»", f"No record «{key}» in «{dataset.id}»",
                       dataset=dataset.id)
    return page.rows[0]


def count_current(store: Store, dataset: Dataset) -> int:
    table = store.table(dataset)
    with reading(store.read_engine) as conn:  # one statement: no transaction around it
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(table.c._to.is_(None))).scalar() or 0
