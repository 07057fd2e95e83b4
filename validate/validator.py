"""The schema validator: frictionless's errors, in frictionless's order, from column-wise checks.

Input batches (from ingest) are pandas DataFrames of canonical text, in file order:
- one column per schema field, named after the field, holding str or None (None = empty/absent cell);
- "_row": the source row number (header = 1, first data row = 2);
- optional "_missing": int, how many trailing schema fields the source row did not have (a short row);
  0/None/NaN for a full row. Those cells must be None. An empty source line is a row with all fields absent;
- optional "_extra": list of str, the texts of the cells beyond the schema's fields (a long row), or None.

Order of errors within a row, as frictionless 5.21 produces it (its Row reads cells lazily, and the
integrity checks read their fields first):
 1. for each unique field (schema order): the field's own cell errors; on a repeat, all the remaining cell
    errors of the row (as in 4), then the unique-error;
 2. the primary key fields' cell errors; on an all-None or repeated key, the rest (4), then primary-key;
 3. for each foreign key: its fields' cell errors; when not found, the rest (4), then foreign-key;
 4. the rest: remaining fields' cell errors in schema order (a type-error, or the failed constraints in the
    type's constraint order), then extra-cell errors, then missing-cell errors; if no field has a value the
    whole list so far is replaced by one blank-row error (errors of steps 1-3 appended later stay).
"""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .arrow_casts import ArrowCaster, arrow_texts
from .casting import CastColumn, cast_column, column_reader, texts_and_none
from .constraints import constraint_failures
from .foreign_keys import ORDER as _FK_ORDER
from .foreign_keys import ForeignKeys
from .foreign_keys import cell_text as _str
from .keys import KeyMemory, all_none, encodable, encode_keys, row_tuples
from .messages import bilingual
from .report import Report, ReportError
from .schema import FieldSpec, TableSpec, compile_schema

_NOTE_SAME = "the same as in the row at position %s"
_NOTE_PK_NONE = 'cells composing the primary keys are all "None"'


@dataclass
class _Batch:
    """Everything the row assembly needs about one batch."""

    rows: list[int]
    columns: dict[str, CastColumn]
    cell_error_rows: dict[str, set[int]]
    constraints: dict[str, list[tuple[str, np.ndarray]]]
    missing_counts: np.ndarray
    extras: list[Any]
    long_rows: np.ndarray  # rows with cells beyond the schema's fields
    blank: np.ndarray
    unique_prev: dict[str, np.ndarray] = field(default_factory=dict)  # -1: no earlier row
    pk_prev: np.ndarray | None = None
    pk_none: np.ndarray | None = None
    pk_columns: list[np.ndarray] | None = None
    fk_missing: dict[int, np.ndarray] = field(default_factory=dict)
    fk_values: dict[int, list[tuple[Any, ...]]] = field(default_factory=dict)


class Validator:
    """Validate the batches of one file against one schema; `finish()` gives the report."""

    def __init__(
        self,
        schema: dict[str, Any],
        *,
        foreign_keys: dict[str, set[tuple[Any, ...]]] | None = None,
        limit_errors: int | None = None,
        source: str | None = None,
        lang: str = "vi",
    ) -> None:
        self.schema = schema
        self.spec: TableSpec = compile_schema(schema)
        self.limit_errors = limit_errors
        self.source = source
        self.lang = lang
        self._started = time.perf_counter()
        # the errors of the batch being checked; at its end they are pickled, one blob a batch: a million-row
        # file's 10,000 errors as objects would stay scattered among the freed batches and hold the heap's
        # pages (tens of MB of the peak); `finish` unpacks them
        self._errors: list[ReportError] = []
        self._order: list[tuple[int, int]] = []
        self._packed: list[bytes] = []
        self._packed_count = 0
        self._warnings: list[str] = []
        self._rows = 0
        self._row_chunks: list[np.ndarray] = []
        self._limit_row: int | None = None  # the row at which the error limit was reached
        self._rows_at_limit = 0
        self._readers = {f.name: column_reader(f) for f in self.spec.fields}
        self._casters = {f.name: ArrowCaster(f, self._readers[f.name]) for f in self.spec.fields}
        self._unique = {f.name: KeyMemory(exact=not encodable([f.type])) for f in self.spec.unique_fields}
        names = set(self.spec.field_names)
        self._has_pk = bool(self.spec.primary_key) and set(self.spec.primary_key) <= names
        self._pk_exact = not self._has_pk or not encodable([self.spec.field(n).type for n in self.spec.primary_key])
        self._pk = KeyMemory(exact=self._pk_exact)
        self._foreign = ForeignKeys(self.spec, foreign_keys)
        self._warnings.extend(self._foreign.warnings)
        self._defer = self._foreign.deferred

    # -- public -------------------------------------------------------------------------------------------

    def check(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Validate one batch; returns (valid typed rows, invalid text rows with "_errors")."""
        batch, bad, messages = self._validate(frame)
        typed = {f.name: batch.columns[f.name].to_series(frame.index) for f in self.spec.fields}
        typed["_row"] = frame["_row"]
        valid = pd.DataFrame(typed, index=frame.index)[~bad]
        invalid = frame[bad].copy()
        invalid["_errors"] = pd.Series(messages, index=invalid.index, dtype=object)
        return valid, invalid

    def scan(self, frame: pd.DataFrame) -> int:
        """Validate one batch for the report only (no rows handed back); returns how many rows are invalid."""
        _, bad, _ = self._validate(frame)
        return int(bad.sum())

    def _validate(self, frame: pd.DataFrame) -> tuple[_Batch, np.ndarray, list[list[str]]]:
        n = len(frame)
        rows_arr = frame["_row"].to_numpy(dtype=np.int64)
        rows = rows_arr.tolist()
        self._rows += n
        if self._defer:
            self._row_chunks.append(rows_arr)
        batch = self._read(frame, rows)
        pending_before = self._foreign.pending_count
        self._check_unique(batch)
        self._check_primary_key(batch)
        self._check_foreign_keys(batch)

        bad = batch.blank.copy()
        for names in batch.cell_error_rows.values():
            if names:
                bad[list(names)] = True
        bad |= batch.missing_counts > 0
        bad |= batch.long_rows
        for prev in batch.unique_prev.values():
            bad |= prev >= 0
        if batch.pk_prev is not None and batch.pk_none is not None:
            bad |= batch.pk_none | (batch.pk_prev >= 0)
        for missing in batch.fk_missing.values():
            bad |= missing

        self._foreign.mark_pending_validity(pending_before, bad)

        messages: list[list[str]] = []
        failing = np.flatnonzero(bad)
        for column in batch.columns.values():
            column.prefetch(failing)
        for i in failing.tolist():
            errors = self._assemble(batch, i)
            messages.append([e.messages.get(self.lang) or e.message for e in errors])
            self._record(errors, rows[i], i, n)
        self._pack()
        return batch, bad, messages

    def _pack(self) -> None:
        if self._errors:
            self._packed.append(pickle.dumps((self._errors, self._order), protocol=pickle.HIGHEST_PROTOCOL))
            self._packed_count += len(self._errors)
            self._errors, self._order = [], []

    def _unpack(self) -> tuple[list[ReportError], list[tuple[int, int]]]:
        errors: list[ReportError] = []
        order: list[tuple[int, int]] = []
        for blob in self._packed:
            more, positions = pickle.loads(blob)  # our own bytes, made by _pack in this process
            errors += more
            order += positions
        return errors + self._errors, order + self._order

    def finish(self) -> Report:
        """The report of every batch checked; references to the same file are decided here."""
        found_late, late = self._foreign.resolve()
        errors, order_keys = self._unpack()
        for error, position in found_late:
            errors.append(error)
            order_keys.append(position)
        rows = self._rows
        warnings = list(self._warnings)
        limit = self.limit_errors
        if self._defer and limit and len(errors) >= limit:
            order = sorted(range(len(errors)), key=order_keys.__getitem__)
            errors = [errors[k] for k in order]
            limit_row = errors[limit - 1].rowNumber
            all_rows = np.sort(np.concatenate(self._row_chunks)) if self._row_chunks else np.array([])
            rows = int(np.searchsorted(all_rows, limit_row, side="right"))
            errors = errors[:limit]
            warnings.append(f"reached error limit: {limit}")
        elif self._limit_row is not None:
            rows = self._rows_at_limit
            errors = errors[:limit]
            warnings.append(f"reached error limit: {limit}")
        elif self._defer:
            order = sorted(range(len(errors)), key=order_keys.__getitem__)
            errors = [errors[k] for k in order]
        return Report(
            valid=not errors,
            stats={
                "rows": rows,
                "errors": len(errors),
                "warnings": len(warnings),
                "seconds": round(time.perf_counter() - self._started, 3),
                "fields": len(self.spec.fields),
            },
            errors=errors,
            warnings=warnings,
            name=self.spec.name or "",
            place=self.source or "<memory>",
            labels=self.spec.field_names,
            late_invalid_rows=late,
        )

    # -- reading ------------------------------------------------------------------------------------------

    def _read(self, frame: pd.DataFrame, rows: list[int]) -> _Batch:
        spec = self.spec
        n = len(frame)
        n_fields = len(spec.fields)
        if "_missing" in frame.columns:
            missing_counts = pd.to_numeric(frame["_missing"], errors="coerce").fillna(0).to_numpy(np.int64)
        else:
            missing_counts = np.zeros(n, dtype=np.int64)
        extras: list[Any] = [None] * n
        long_rows = np.zeros(n, dtype=bool)
        if "_extra" in frame.columns:
            given = frame["_extra"].to_numpy(dtype=object)
            for i in np.flatnonzero(~pd.isna(given)).tolist():
                e = given[i]
                if isinstance(e, (list, tuple)) and len(e):
                    extras[i], long_rows[i] = e, True
        columns: dict[str, CastColumn] = {}
        cell_error_rows: dict[str, set[int]] = {}
        constraints: dict[str, list[tuple[str, np.ndarray]]] = {}
        blank = np.ones(n, dtype=bool)
        for f in spec.fields:
            absent = missing_counts > (n_fields - f.number)
            arrow = arrow_texts(frame[f.name])
            if arrow is not None:  # Arrow kernels (arrow_casts.py)
                column = self._casters[f.name].cast(arrow, absent if absent.any() else None)
            else:  # cells that are not all text (or not UTF-8): Python, cell by cell
                texts, none = texts_and_none(frame[f.name])
                column = cast_column(f, texts, absent if absent.any() else None, reader=self._readers[f.name],
                                     none=none)
            columns[f.name] = column
            failed = constraint_failures(column)
            constraints[f.name] = failed
            any_error = column.type_error.copy()
            for _, mask in failed:
                any_error |= mask
            cell_error_rows[f.name] = set(np.flatnonzero(any_error).tolist())
            blank &= column.missing
        return _Batch(
            rows=rows,
            columns=columns,
            cell_error_rows=cell_error_rows,
            constraints=constraints,
            missing_counts=missing_counts,
            extras=extras,
            long_rows=long_rows,
            blank=blank,
        )

    def _check_unique(self, batch: _Batch) -> None:
        for name, memory in self._unique.items():
            values = batch.columns[name].values
            strings = self.spec.field(name).type == "string"
            keys = values.tolist() if self._unique_exact(name) else encode_keys([values], all_none([values]),
                                                                                 strings=strings)
            batch.unique_prev[name] = memory.previous(keys, batch.rows)

    def _unique_exact(self, name: str) -> bool:
        return not encodable([self.spec.field(name).type])

    def _check_primary_key(self, batch: _Batch) -> None:
        if not self._has_pk:
            return
        cols = [batch.columns[name].values for name in self.spec.primary_key]
        none = all_none(cols)
        if self._pk_exact:
            keys: Any = [None if z else k for k, z in zip(row_tuples(cols), none, strict=True)]
        else:
            strings = all(self.spec.field(name).type == "string" for name in self.spec.primary_key)
            keys = encode_keys(cols, none, strings=strings)
        batch.pk_prev = self._pk.previous(keys, batch.rows)
        batch.pk_none, batch.pk_columns = none, cols

    def _check_foreign_keys(self, batch: _Batch) -> None:
        batch.fk_missing, batch.fk_values = self._foreign.check(batch.columns, batch.rows,
                                                                lambda i: self._cells(batch, i))

    # -- errors -------------------------------------------------------------------------------------------

    def _cells(self, batch: _Batch, i: int) -> list[str]:
        present = len(self.spec.fields) - int(batch.missing_counts[i])
        cells = [_str(batch.columns[f.name].text_at(i)) for f in self.spec.fields[:present]]
        if batch.extras[i]:
            cells += [_str(e) for e in batch.extras[i]]
        return cells

    def _cell_errors(self, batch: _Batch, f: FieldSpec, i: int, row: int, cells: list[str]) -> list[ReportError]:
        column = batch.columns[f.name]
        absent = f.number > len(self.spec.fields) - int(batch.missing_counts[i])
        text = "None" if absent else _str(column.text_at(i))  # frictionless writes str(None) for an absent cell
        if column.type_error[i]:
            note = f'type is "{f.type}/{f.format}"'
            return [self._error("type-error", row, f, note=note, cells=cells, cell=text)]
        out = []
        for name, mask in batch.constraints[f.name]:
            if mask[i]:
                note = f'constraint "{name}" is "{f.constraints[name]}"'
                out.append(self._error("constraint-error", row, f, note=note, cells=cells, cell=text, constraint=name))
        return out

    def _error(
        self,
        kind: str,
        row: int,
        f: FieldSpec | None,
        *,
        note: str,
        cells: list[str],
        cell: str | None = None,
        constraint: str | None = None,
        **ctx: Any,
    ) -> ReportError:
        error = ReportError(
            type=kind,
            rowNumber=row,
            note=note,
            cells=cells,
            cell=cell,
            fieldName=None if f is None else f.name,
            fieldNumber=None if f is None else f.number,
            constraint=constraint,
        )
        error.messages = bilingual(kind, row, f, cell=cell or "", constraint=constraint, **ctx)
        return error

    def _assemble(self, batch: _Batch, i: int) -> list[ReportError]:
        """The errors of row i in frictionless's order (see the module docstring)."""
        spec = self.spec
        row = batch.rows[i]
        cells = self._cells(batch, i)
        seq: list[ReportError] = []
        processed: set[str] = set()
        done = False

        def process(f: FieldSpec) -> None:
            if f.name not in processed:
                processed.add(f.name)
                if i in batch.cell_error_rows[f.name]:
                    seq.extend(self._cell_errors(batch, f, i, row, cells))

        def finish_row() -> None:
            nonlocal seq, done
            if done:
                return
            done = True
            for f in spec.fields:
                process(f)
            n_fields = len(spec.fields)
            for k, text in enumerate(batch.extras[i] or (), start=n_fields + 1):
                err = self._error("extra-cell", row, None, note="", cells=cells, cell=_str(text), field_number=k)
                err.fieldName, err.fieldNumber = "", k
                seq.append(err)
            missing = int(batch.missing_counts[i])
            for f in spec.fields[n_fields - missing :] if missing else ():
                seq.append(self._error("missing-cell", row, f, note="", cells=cells, cell=""))
            if batch.blank[i]:
                seq = [self._error("blank-row", row, None, note="", cells=cells)]

        for f in spec.unique_fields:
            process(f)
            prev = int(batch.unique_prev[f.name][i])
            if prev >= 0:
                finish_row()
                value = _str(batch.columns[f.name].value_at(i))
                seq.append(
                    self._error("unique-error", row, f, note=_NOTE_SAME % prev, cells=cells, cell=value, previous=prev)
                )
        if self._has_pk and batch.pk_none is not None and batch.pk_prev is not None:
            for name in spec.primary_key:
                process(spec.field(name))
            prev = int(batch.pk_prev[i])
            if batch.pk_none[i] or prev >= 0:
                finish_row()
                note = _NOTE_PK_NONE if batch.pk_none[i] else _NOTE_SAME % prev
                values = [_str(c[i]) for c in batch.pk_columns] if batch.pk_columns else []
                seq.append(
                    self._error(
                        "primary-key",
                        row,
                        None,
                        note=note,
                        cells=cells,
                        fields=list(spec.primary_key),
                        values=values,
                        previous=prev if prev >= 0 else None,
                    )
                )
        for fk in self._foreign.keys:
            for name in fk.spec.fields:
                process(spec.field(name))
            missing_mask = batch.fk_missing.get(fk.index)
            if missing_mask is not None and missing_mask[i]:
                finish_row()
                seq.append(self._foreign.error(fk, row, batch.fk_values[fk.index][i], cells))
        finish_row()
        return seq

    def _record(self, errors: list[ReportError], row: int, index: int, batch_size: int) -> None:
        if self._limit_row is not None:
            return
        for position, error in enumerate(errors):
            self._errors.append(error)
            base = _FK_ORDER + self._foreign.position(error) if error.type == "foreign-key" else position
            self._order.append((row, base))
        limit = self.limit_errors
        if limit and not self._defer and self._packed_count + len(self._errors) >= limit:
            self._limit_row = row
            self._rows_at_limit = self._rows - (batch_size - index - 1)
