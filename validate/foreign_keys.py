"""The foreign keys of one file, for the validator: references to other datasets and to the file itself.

A reference to another dataset is checked batch by batch against that dataset's published keys (read with
this schema's field types, so that "7" matches 7). A reference to the file itself can point at a row further
down, so a key not seen yet is kept as pending and decided by `resolve()` once every row has been read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .casting import INVALID, CastColumn, read_value
from .keys import all_none, row_tuples
from .messages import bilingual
from .report import ReportError
from .schema import ForeignKeySpec, TableSpec

ORDER = 1_000_000  # in a row's error order, foreign-key errors come after every other error, by foreign key

__all__ = ["ORDER", "ForeignKey", "ForeignKeys", "cell_text"]


def cell_text(value: Any) -> str:
    """A cell as the report writes it: None is an empty string."""
    return "" if value is None else str(value)


@dataclass
class ForeignKey:
    spec: ForeignKeySpec
    index: int  # position among the schema's foreign keys
    self_reference: bool
    lookup: set[tuple[Any, ...]] | None  # None: not checked (no keys given for that dataset)


@dataclass
class _Pending:
    """A row whose reference to the same file was not found yet."""

    row: int
    index: int  # position in its batch
    fk: int
    values: tuple[Any, ...]
    cells: list[str]
    was_valid: bool = True


class ForeignKeys:
    """The checks of every foreign key of `spec` whose fields the file has."""

    def __init__(self, spec: TableSpec, published: dict[str, set[tuple[Any, ...]]] | None) -> None:
        self.spec = spec
        self.keys: list[ForeignKey] = []
        self.warnings: list[str] = []
        self._self_lookup: dict[tuple[str, ...], set[tuple[Any, ...]]] = {}
        self._pending: list[_Pending] = []
        names = set(spec.field_names)
        for index, fk in enumerate(spec.foreign_keys):
            if not set(fk.fields) <= names:
                continue
            is_self = fk.self_reference or fk.resource == spec.name
            lookup: set[tuple[Any, ...]] | None = None
            if is_self:
                self._self_lookup.setdefault(fk.reference_fields, set())
            elif published is not None and fk.resource in published:
                lookup = self._typed_lookup(fk, published[fk.resource])
            else:
                self.warnings.append(f'foreign key "{", ".join(fk.fields)}" to "{fk.resource}" not checked: no keys given')
            self.keys.append(ForeignKey(fk, index, is_self, lookup))

    @property
    def deferred(self) -> bool:
        """Some errors are only known at the end (a reference to the file itself)."""
        return bool(self._self_lookup)

    def _typed_lookup(self, fk: ForeignKeySpec, keys: set[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
        fields = [self.spec.field(name) for name in fk.fields]
        out: set[tuple[Any, ...]] = set()
        for key in keys:
            key_tuple = key if isinstance(key, tuple) else (key,)
            typed = []
            for spec, value in zip(fields, key_tuple, strict=False):
                read = read_value(spec, value)
                typed.append(value if read is INVALID else read)
            out.add(tuple(typed))
        return out

    def check(self, columns: dict[str, CastColumn], rows: list[int], cells: Callable[[int], list[str]],
              ) -> tuple[dict[int, np.ndarray], dict[int, list[tuple[Any, ...]]]]:
        """One batch: (rows whose key is missing, the key values), each by foreign key index. Self references
        not found yet are kept for `resolve()` and not marked missing here."""
        missing: dict[int, np.ndarray] = {}
        values: dict[int, list[tuple[Any, ...]]] = {}
        for ref_fields, lookup in self._self_lookup.items():
            ref_cols = [columns[name].values for name in ref_fields]
            none = all_none(ref_cols)
            lookup.update(k for k, z in zip(row_tuples(ref_cols), none, strict=True) if not z)
        for fk in self.keys:
            cols = [columns[name].values for name in fk.spec.fields]
            keys = row_tuples(cols)
            none = all_none(cols)
            values[fk.index] = keys
            if fk.self_reference:
                lookup = self._self_lookup[fk.spec.reference_fields]
                for i in np.flatnonzero(~none).tolist():
                    if keys[i] not in lookup:
                        self._pending.append(_Pending(rows[i], i, fk.index, keys[i], cells(i)))
                continue
            if fk.lookup is None:
                continue
            found = np.fromiter((k in fk.lookup for k in keys), dtype=bool, count=len(keys))
            missing[fk.index] = ~found & ~none
        return missing, values

    def mark_pending_validity(self, since: int, bad: np.ndarray) -> None:
        """Remember whether the rows pending since `since` were valid otherwise (they become late rejections)."""
        for p in self._pending[since:]:
            p.was_valid = not bad[p.index]

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    def error(self, fk: ForeignKey, row: int, values: tuple[Any, ...], cells: list[str]) -> ReportError:
        s = fk.spec
        texts = [cell_text(v) if v is not None else "None" for v in values]
        note = (
            f'for "{", ".join(s.fields)}": values "{", ".join(texts)}" not found in the lookup table '
            f'"{s.resource}" as "{", ".join(s.reference_fields)}"'
        )
        first = self.spec.field(s.fields[0]) if len(s.fields) == 1 else None
        error = ReportError(
            type="foreign-key",
            rowNumber=row,
            note=note,
            cells=cells,
            fieldNames=list(s.fields),
            fieldCells=[cell_text(v) for v in values],
            referenceName=s.resource,
            referenceFieldNames=list(s.reference_fields),
        )
        error.messages = bilingual(
            "foreign-key",
            row,
            first,
            values=texts,
            resource=s.resource,
            self_name=self.spec.name,
            reference_fields=list(s.reference_fields),
        )
        return error

    def position(self, error: ReportError) -> int:
        """The foreign key index a foreign-key error is about (its place in the row's error order)."""
        for fk in self.keys:
            if fk.spec.fields == tuple(error.fieldNames or ()) and fk.spec.resource == error.referenceName:
                return fk.index
        return 0

    def resolve(self) -> tuple[list[tuple[ReportError, tuple[int, int]]], list[int]]:
        """At the end of the file: the self-reference errors (each with its order key) and the rows that were
        valid otherwise, now rejected late."""
        errors: list[tuple[ReportError, tuple[int, int]]] = []
        late: set[int] = set()
        fks = {fk.index: fk for fk in self.keys}
        for p in self._pending:
            fk = fks[p.fk]
            if p.values in self._self_lookup[fk.spec.reference_fields]:
                continue
            errors.append((self.error(fk, p.row, p.values, p.cells), (p.row, ORDER + fk.index)))
            if p.was_valid:
                late.add(p.row)
        self._pending = []
        return errors, sorted(late)
