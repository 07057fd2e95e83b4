"""What changed in a dataset between two versions: the change feed and `hub diff`.

A department keeping a copy asks "what changed since version N" and applies the answer: `added` and
`changed` records are upserted by key, `removed` keys deleted. The answer is the net difference between the
dataset as of `since` and as of `until` (a record changed twice counts once; changed and changed back counts
not at all), read straight from the temporal table:
- rows current at `until` that did not exist at `since`: `_from > since` (added, or the new side of a change);
- rows current at `since` gone by `until`: `_from <= since < _to <= until` (removed, or the old side).
Paired by key and compared by hash. Pages follow the key order and carry a cursor pinned to the same two
versions, so paging stays right while new loads land. Records go through the same access rules as every
other output (visible fields, personal values blanked row by row).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from core.catalog import Dataset
from core.errors import DatasetNotFound, NotFound
from publish.access import ANONYMOUS, Viewer, can_see_dataset, conditional_personal, redactor, visible_fields
from publish.db import reading
from publish.query import QueryError, jsonable
from publish.rows import KEY_SEPARATOR
from publish.store import Store

MAX_LIMIT = 10_000


@dataclass
class Change:
    op: str  # added, changed, removed
    key: str  # the primary key as the API spells it: values joined with ','
    record: dict[str, Any] | None  # the record at `until`; for removed ones, as it was at `since`
    version: int  # the version that made the change
    fields: list[str] = field(default_factory=list)  # for changed: the visible fields whose value changed
    before: dict[str, Any] | None = None  # for changed: the record at `since`

    def to_dict(self, *, with_before: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self.op, "key": self.key, "version": self.version, "record": self.record}
        if self.op == "changed":
            out["fields"] = self.fields
            if with_before:
                out["before"] = self.before
        return out


@dataclass
class ChangePage:
    dataset: str
    since: int
    until: int
    changes: list[Change]
    next_cursor: str | None

    def to_dict(self, *, with_before: bool = False) -> dict[str, Any]:
        return {"dataset": self.dataset, "since": self.since, "until": self.until,
                "changes": [c.to_dict(with_before=with_before) for c in self.changes], "next_cursor": self.next_cursor}


def encode_cursor(since: int, until: int, after: str) -> str:
    raw = json.dumps({"s": since, "u": until, "k": after}, ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        return int(data["s"]), int(data["u"]), str(data["k"])
    except (ValueError, KeyError, TypeError):
        raise QueryError("Con trỏ trang không hợp lệ", "The page cursor is not valid", field="cursor") from None


def check_versions(store: Store, dataset: Dataset, since: int, until: int | None,
                   current: int | None = None) -> tuple[int, int]:
    """(since, until) checked against the dataset's versions; `until` defaults to the current one. `current`:
    the dataset's current version when the caller read it already (the API's version reader), else read here."""
    if current is None:
        current = store.current_version(dataset.id) or 0
    until = current if until is None else until
    if since < 0:
        raise QueryError("«since» không được âm", "«since» must not be negative", field="since")
    if until > current:
        raise NotFound(f"Không có phiên bản {until} của «{dataset.id}»", f"No version {until} of «{dataset.id}»",
                       dataset=dataset.id, field="until")
    if since > until:
        raise QueryError(f"«since» ({since}) phải nhỏ hơn hoặc bằng «until» ({until})",
                         f"«since» ({since}) must not be after «until» ({until})", field="since")
    return since, until


def changes(store: Store, dataset: Dataset | str, since: int, until: int | None = None, viewer: Viewer = ANONYMOUS,
            *, limit: int = 1000, cursor: str | None = None, current: int | None = None) -> ChangePage:
    """One page of the records added, changed and removed between versions `since` and `until`, in key order.

    `since=0` lists every record of `until` as added (a full copy to start from). A change only to fields the
    viewer may not see is left out: the viewer's copy would not change. `current`: the dataset's current
    version if the caller has read it in this request (a round trip fewer), else it is read here.
    """
    ds = store.catalog.dataset(dataset) if isinstance(dataset, str) else dataset
    if not can_see_dataset(ds, viewer):
        raise DatasetNotFound(f"Không có bộ dữ liệu «{ds.id}»", f"No dataset «{ds.id}»", dataset=ds.id)
    after = None
    if cursor:
        since, until, after = decode_cursor(cursor)
    since, until = check_versions(store, ds, since, until, current)
    if limit < 1 or limit > MAX_LIMIT:
        raise QueryError(f"«limit» phải từ 1 đến {MAX_LIMIT}", f"«limit» must be between 1 and {MAX_LIMIT}",
                         field="limit")
    if since == until:
        return ChangePage(ds.id, since, until, [], None)
    table = store.table(ds)
    c = table.c
    new = sa.and_(c._from > since, c._from <= until, sa.or_(c._to.is_(None), c._to > until))
    old = sa.and_(c._from <= since, c._to > since, c._to <= until)
    touched = sa.or_(new, old)
    names = visible_fields(ds, viewer)
    extra = [cond for (_, cond, _) in conditional_personal(ds, viewer) if cond not in names]
    columns = [c[n] for n in [*names, *extra]]
    # one statement (one round trip): the page's keys, one more to know whether a next page exists, then every
    # touched row between its first and last key (the rows of each of those keys, and of no other)
    keys_stmt = sa.select(c._key).where(touched).distinct().order_by(c._key).limit(limit + 1)
    if after is not None:
        keys_stmt = keys_stmt.where(c._key > after)
    page = keys_stmt.cte("page_keys")
    rows_stmt = (sa.select(c._key, c._hash, c._from, c._to, *columns)
                 .where(touched, c._key >= sa.select(sa.func.min(page.c._key)).scalar_subquery(),
                        c._key <= sa.select(sa.func.max(page.c._key)).scalar_subquery())
                 .order_by(c._key, c._from))
    # no transaction (publish.db.reading): rows of versions up to `until` (committed) never change but for a
    # later load closing current ones with its newer version (`_to` NULL -> > until), which the statement's
    # conditions read alike
    with reading(store.read_engine) as conn:
        rows = conn.execute(rows_stmt).mappings().all()
    keys = list(dict.fromkeys(row["_key"] for row in rows))  # in key order (the database's collation), each once
    more = len(keys) > limit
    beyond: str | None = keys[limit] if more else None  # the next page's first key: read only to know there is one
    keys = keys[:limit]
    if not keys:
        return ChangePage(ds.id, since, until, [], None)
    redact = redactor(ds, viewer)
    pairs: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["_key"] == beyond:
            break  # (its rows come last)
        side = "new" if row["_from"] > since else "old"
        pairs.setdefault(row["_key"], {})[side] = row
    out: list[Change] = []
    for key in keys:
        pair = pairs.get(key, {})
        change = _change(ds, pair.get("old"), pair.get("new"), names, redact, until)
        if change is not None:
            out.append(change)
    return ChangePage(ds.id, since, until, out, encode_cursor(since, until, keys[-1]) if more else None)


def _shape(row: Any, names: list[str], redact: Any) -> dict[str, Any]:
    record = redact(dict(row))
    return {n: jsonable(record.get(n)) for n in names}


def api_key(dataset: Dataset, stored_key: str) -> str:
    """The key as the records endpoint takes it (`/records/<key>`): key values joined with ','."""
    return ",".join(stored_key.split(KEY_SEPARATOR))


def _change(ds: Dataset, old: Any, new: Any, names: list[str], redact: Any, until: int) -> Change | None:
    if new is not None and old is None:
        return Change("added", api_key(ds, new["_key"]), _shape(new, names, redact), new["_from"])
    if new is None and old is not None:
        return Change("removed", api_key(ds, old["_key"]), _shape(old, names, redact), old["_to"])
    if new is None or old is None or new["_hash"] == old["_hash"]:
        return None
    before, after = _shape(old, names, redact), _shape(new, names, redact)
    changed = [n for n in names if before.get(n) != after.get(n)]
    if not changed:
        return None  # only fields this viewer does not see changed
    return Change("changed", api_key(ds, new["_key"]), after, new["_from"], changed, before)


def diff(store: Store, dataset: Dataset | str, since: int, until: int | None = None,
         viewer: Viewer = ANONYMOUS, *, page_size: int = 5000) -> list[Change]:
    """Every change between two versions (all pages), for `hub diff`."""
    out: list[Change] = []
    cursor = None
    while True:
        page = changes(store, dataset, since, until, viewer, limit=page_size, cursor=cursor)
        out.extend(page.changes)
        if not page.next_cursor:
            return out
        cursor = page.next_cursor


__all__ = ["Change", "ChangePage", "changes", "diff", "check_versions"]
