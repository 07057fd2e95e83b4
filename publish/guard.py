"""What a load may remove: the shrink guard, partial loads and the preview of a load.

A load is `full` (the file is the whole dataset: current records it lacks are removed), `upsert` (the file
updates or adds the records it holds and removes nothing) or `scoped` (the file is complete for a scope, say
the communes of one former district: records of the scope it lacks are removed, nothing outside the scope is
touched, and a row outside the scope refuses the file).

The guard refuses, before anything is published:
- a load with no valid row (a header-only file, another dataset's file, a quarantine file whose rows all
  failed): `no_valid_rows`, exit status 6 / HTTP 422;
- a load that would remove more than `shrink_limit` of the current records (of the scope, when scoped)
  unless it says `allow_shrink`: `ShrinkRefused` with the counts and the first keys it would remove, exit
  status 10 / HTTP 422.

The numbers are measured where they count: under the dataset's lock in the load's transaction
(publish/loads.py); `Preview` measures the same against the current version for `hub validate` and the
steward's check, without staging anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from core.catalog import Dataset, Schema
from core.config import DEFAULT_SHRINK_LIMIT
from core.errors import InputError, ShrinkRefused, ValidationFailed
from publish.rows import KEY_SEPARATOR

if TYPE_CHECKING:
    import pandas as pd

    from publish.store import Store

MODES = ("full", "upsert", "scoped")
KEYS_SHOWN = 10  # removed keys named in a refusal and a preview


@dataclass(frozen=True)
class Scope:
    """The part of a dataset a scoped file is complete for: the records whose `field` is one of `values`."""

    field: str
    values: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, dataset: Dataset) -> Scope:
        """`commune_code=26068,26071` (or `commune=...`: the field with `_code` added) for `dataset`."""
        name, sep, raw = (text or "").partition("=")
        name = name.strip()
        values = tuple(dict.fromkeys(v.strip() for v in raw.split(",") if v.strip()))
        names = dataset.schema.field_names
        if name not in names and f"{name}_code" in names:
            name = f"{name}_code"
        if not sep or not values:
            raise InputError(f"Phạm vi phải có dạng TRƯỜNG=GIÁ_TRỊ[,GIÁ_TRỊ...] (đang là «{text}»)",
                             f"A scope reads FIELD=VALUE[,VALUE...] (got «{text}»)", field="scope")
        if name not in names:
            raise InputError(f"Bộ dữ liệu «{dataset.id}» không có trường «{name}» để làm phạm vi",
                             f"Dataset «{dataset.id}» has no field «{name}» to scope by", field="scope")
        return cls(name, values)

    def describe(self) -> str:
        return f"{self.field}={','.join(self.values)}"

    def sql(self, schema: Schema, alias: str) -> str:
        """`alias."field" IN (...)` with the values as literals of the field's type (no user text is pasted
        unquoted: numbers are parsed, text is quoted)."""
        kind = schema.field(self.field).type
        if kind in ("integer", "year"):
            literals = [str(int(v)) for v in self.values]
        elif kind == "number":
            literals = [repr(float(v)) for v in self.values]
        else:
            literals = ["'" + v.replace("'", "''") + "'" for v in self.values]
        return f'{alias}."{self.field}" IN ({", ".join(literals)})'


@dataclass(frozen=True)
class LoadPlan:
    """How a load treats the current records: its mode, scope and how much it may remove."""

    mode: str = "full"
    scope: Scope | None = None
    shrink_limit: float = DEFAULT_SHRINK_LIMIT
    allow_shrink: bool = False

    @classmethod
    def make(cls, dataset: Dataset, *, mode: str | None = None, scope: str | Scope | None = None,
             shrink_limit: float | None = None, allow_shrink: bool = False) -> LoadPlan:
        """The plan of a load of `dataset`: `scope` (text as on the command line) makes it `scoped`; the
        limit is the dataset's (catalog.yaml), else `shrink_limit` (the hub's setting), else the default."""
        mode = mode or "full"
        if mode not in MODES:
            raise InputError(f"Kiểu nạp không hợp lệ «{mode}» (full, upsert)", f"Unknown load mode «{mode}» (full, upsert)",
                             field="mode")
        if isinstance(scope, str):
            scope = Scope.parse(scope, dataset) if scope.strip() else None
        if scope is not None:
            if mode == "upsert":
                raise InputError("Nạp upsert không xoá gì nên không cần phạm vi; bỏ --scope hoặc --mode upsert",
                                 "An upsert removes nothing, so it takes no scope; drop --scope or --mode upsert",
                                 field="scope")
            mode = "scoped"
        elif mode == "scoped":
            raise InputError("Nạp theo phạm vi cần --scope TRƯỜNG=GIÁ_TRỊ", "A scoped load needs --scope FIELD=VALUE",
                             field="scope")
        limit = dataset.shrink_limit
        if limit is None:
            limit = DEFAULT_SHRINK_LIMIT if shrink_limit is None else shrink_limit
        return cls(mode, scope, float(limit), bool(allow_shrink))

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "scope": self.scope.describe() if self.scope else None,
                "shrink_limit": self.shrink_limit, "allow_shrink": self.allow_shrink}


@dataclass
class Impact:
    """What a load does to the current version: `current` counts the records it may remove from (all of them,
    those of the scope, or none for an upsert)."""

    current: int = 0
    incoming: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    removed_keys: list[str] = field(default_factory=list)  # the first KEYS_SHOWN, in key order

    @property
    def share(self) -> float:
        return self.removed / self.current if self.current else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "share": round(self.share, 4)}


def display_key(key: str) -> str:
    return key.replace(KEY_SEPARATOR, " / ")


def _pct(share: float) -> str:
    return f"{share * 100:.0f} %"


def check_shrink(dataset: Dataset, plan: LoadPlan, impact: Impact) -> None:
    """ShrinkRefused when the load would remove more than the plan allows."""
    if plan.allow_shrink or not impact.removed or impact.removed <= plan.shrink_limit * impact.current:
        return
    keys = ", ".join(display_key(k) for k in impact.removed_keys)
    more = "…" if impact.removed > len(impact.removed_keys) else ""
    where_vi = f" trong phạm vi {plan.scope.describe()}" if plan.scope else ""
    where_en = f" within {plan.scope.describe()}" if plan.scope else ""
    raise ShrinkRefused(
        f"Không nạp: lần nạp này sẽ xoá {impact.removed} trong {impact.current} bản ghi đang công bố của «{dataset.id}»"
        f"{where_vi} ({_pct(impact.share)}, giới hạn {_pct(plan.shrink_limit)}), ví dụ {keys}{more}; phiên bản "
        f"hiện tại vẫn được công bố. Nếu tệp chỉ có một phần dữ liệu, nạp với --mode upsert hoặc --scope; nếu đúng là "
        f"cần xoá, xác nhận bằng --allow-shrink (API: allow_shrink=true; trang quản lý: ô xác nhận)",
        f"Not loaded: this load would remove {impact.removed} of the {impact.current} published records of "
        f"«{dataset.id}»{where_en} ({_pct(impact.share)}, limit {_pct(plan.shrink_limit)}), e.g. {keys}{more}; the "
        f"current version stays published. If the file holds only part of the data, load it with --mode upsert or "
        f"--scope; if the removal is meant, confirm with --allow-shrink (API: allow_shrink=true; steward page: the "
        f"confirmation box)",
        dataset=dataset.id, removed=impact.removed, current=impact.current, limit=plan.shrink_limit,
        first_removed=[display_key(k) for k in impact.removed_keys])


def no_valid_rows(dataset: Dataset, source: str, rows_read: int, rows_rejected: int,
                  missing_fields: Iterable[str] = ()) -> ValidationFailed:
    """The refusal of a load with no valid row: nothing would be left to publish."""
    missing = list(missing_fields)
    if rows_read == 0:
        why_vi, why_en = "tệp chỉ có dòng tiêu đề, không có dòng dữ liệu", "the file has its header row and no data rows"
    else:
        why_vi = f"cả {rows_rejected} dòng đọc được đều có lỗi"
        why_en = f"all {rows_rejected} rows read have errors"
    if missing:
        shown = ", ".join(missing[:8]) + ("…" if len(missing) > 8 else "")
        why_vi += f"; thiếu cột {shown}: có phải tệp của bộ dữ liệu khác?"
        why_en += f"; columns {shown} are missing: is it another dataset's file?"
    return ValidationFailed(
        f"Không nạp «{source}» vào «{dataset.id}»: không có dòng hợp lệ nào ({why_vi}). Phiên bản hiện tại vẫn được "
        f"công bố",
        f"«{source}» not loaded into «{dataset.id}»: no valid row ({why_en}). The current version stays published",
        code="no-valid-rows", file=source, dataset=dataset.id)


def check_scope(frame: pd.DataFrame, schema: Schema, plan: LoadPlan, source: str) -> None:
    """A scoped file holds rows of its scope only: the first row outside it refuses the file."""
    if plan.scope is None or frame.empty:
        return
    from publish.staging import keys_hashes_texts

    _, _, texts = keys_hashes_texts(frame, schema, plan.scope.field)
    allowed = set(plan.scope.values)
    for i, text in enumerate(texts or []):
        if text not in allowed:
            value = "" if text == "\x00" else text
            row = int(frame["_row"].iloc[i]) if "_row" in frame.columns else None
            raise ValidationFailed(
                f"Dòng có {plan.scope.field} = «{value}» nằm ngoài phạm vi {plan.scope.describe()} của lần nạp; "
                f"không nạp gì",
                f"A row with {plan.scope.field} = «{value}» is outside the load's scope {plan.scope.describe()}; "
                f"nothing loaded", code="outside-scope", file=source, row=row, field=plan.scope.field)


class Preview:
    """What loading the checked rows would do to the current version, measured without staging them: the
    keys and hashes of the valid rows, compared at the end with the current rows' (for `hub validate` and the
    steward's check; a load measures again under its lock)."""

    def __init__(self, dataset: Dataset, plan: LoadPlan) -> None:
        self.dataset = dataset
        self.plan = plan
        self.incoming: dict[str, str] = {}

    def add(self, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        from publish.staging import keys_hashes_texts

        keys, hashes, _ = keys_hashes_texts(frame, self.dataset.schema)
        self.incoming.update(zip(keys, hashes, strict=True))

    def impact(self, store: Store) -> Impact:
        table = store.table(self.dataset)
        query = sa.select(table.c._key, table.c._hash).where(table.c._to.is_(None))
        in_scope: set[str] | None = None
        with store.read_engine.connect() as conn:
            current = {key: digest for key, digest in conn.execute(query)}
            if self.plan.scope is not None:
                condition = sa.text(self.plan.scope.sql(self.dataset.schema, table.name))
                in_scope = set(conn.execute(sa.select(table.c._key).where(table.c._to.is_(None), condition)).scalars())
        impact = Impact(incoming=len(self.incoming))
        for key, digest in self.incoming.items():
            old = current.get(key)
            if old is None:
                impact.added += 1
            elif old == digest:
                impact.unchanged += 1
            else:
                impact.changed += 1
        if self.plan.mode == "upsert":
            return impact
        candidates = current.keys() if in_scope is None else in_scope
        removed = sorted(k for k in candidates if k not in self.incoming)
        impact.current = len(candidates)
        impact.removed = len(removed)
        impact.removed_keys = removed[:KEYS_SHOWN]
        return impact


__all__ = ["MODES", "KEYS_SHOWN", "Scope", "LoadPlan", "Impact", "Preview", "check_shrink", "check_scope",
           "no_valid_rows", "display_key"]
