"""Quality checks with Great Expectations on the rows that passed the schema, and the quality score.

`QualityRun` follows the pipeline's batches: from each batch of valid, typed rows it keeps only the columns
the suite reads, in compact dtypes (categories for enums, datetime64 for dates, hashes instead of the text
compared by `unique_together`), so a million rows cost tens of megabytes, not the whole file. `run()` then
adds the derived columns (conditions, points inside the province or commune), validates the frame with a
Great Expectations 1.x ephemeral context and returns the report's "quality" section.

Typed data only (pitfalls.md: with pandas 3 a bad value would turn a numeric column into text and a range
expectation would raise): the schema validator has typed these rows already. The rows carry their source row
number as the index, so GE's unexpected index list is the steward's row numbers (validate/quality_gx.py runs GE:
counts over every row, examples from leading rows).

Quality score of a load, in [0, 1]:  (valid rows / rows read) × Σ weight·met / Σ weight,  where `met` is 1 for
a passed expectation and the share of the rows it checked that meet it for a failed one. A file with
no quality suite scores its share of valid rows.

`import great_expectations` takes 3-4 s and ~200 MB: it happens inside `run()`, only when a suite exists.
"""

from __future__ import annotations

import math
import pickle
import tempfile
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import union_categoricals

from core.catalog import Schema
from core.text import FoldedColumns, search_fold_arrow, search_fold_batch

from . import quality_gx
from .quality_geo import Boundaries
from .quality_suite import Condition, Expectation, Suite, resolve

EXAMPLES = 20  # unexpected rows listed per expectation
GE_CHECKS = {
    "filled": "expect_column_values_to_not_be_null",
    "empty": "expect_column_values_to_be_null",
    "between": "expect_column_values_to_be_between",
    "one_of": "expect_column_values_to_be_in_set",
    "matches": "expect_column_values_to_match_regex",
    "not_matches": "expect_column_values_to_not_match_regex",
    "not_before": "expect_column_pair_values_a_to_be_greater_than_b",
    "unique_together": "expect_column_values_to_be_unique",
    "inside_province": "expect_column_values_to_be_in_set",
    "inside_commune": "expect_column_values_to_be_in_set",
    "inside_own_boundary": "expect_column_values_to_be_in_set",
}

__all__ = ["EXAMPLES", "QualityRun", "quality_score"]


class QualityRun:
    """One file's quality check: `add()` each batch of valid typed rows, then `run()`."""

    def __init__(self, suite: Suite, schema: Schema, *, boundaries: Callable[[], Boundaries | None] | None = None,
                 today: date | None = None, examples: int = EXAMPLES) -> None:
        self.suite = suite
        self.schema = schema
        self.today = today or date.today()
        self.examples = examples
        self._boundaries = boundaries
        self._parts: list[pd.DataFrame] = []
        # the batches' parts wait pickled in a temporary file until frame(): kept in memory they were ~40 MB
        # of a million-row ingest's batch loop, beside the validator's keys and the batches themselves
        self._spill: Any = None
        self._spilled = 0
        hashed_only = {f for e in suite.expectations if e.check == "unique_together" for f in e.fields}
        others = {n for e in suite.expectations if e.check != "unique_together" for n in e.needs}
        self._keep = [n for n in suite.needs if n in others or n not in hashed_only]
        self._presence = _presence_only(suite)
        self._in_province: dict[Any, np.ndarray] = {}
        self._points: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self.rows = 0

    # -- collecting ---------------------------------------------------------------------------------------------
    def add(self, valid: pd.DataFrame, folds: FoldedColumns | None = None) -> None:
        """Keep what the suite needs from one batch of valid, typed rows (the validator's first output).
        `folds`: the batch's folded text columns, shared with the other stages that fold them."""
        if valid.empty:
            return
        index = pd.Index(valid["_row"].to_numpy(dtype=np.int64), name="_row")
        part: dict[str, Any] = {name: self._compact(name, valid[name]).set_axis(index) for name in self._keep}
        for n, e in enumerate(self.suite.expectations):
            if e.check == "unique_together":
                part[f"hub_key_{n}"] = pd.Series(_folded_hash(valid, list(e.fields), folds), index=index)
            elif e.extract:
                text = pd.Series(_texts(valid[e.field]), index=index, dtype=object)
                found = text.str.extract(e.extract, expand=False)
                part[f"hub_extract_{n}"] = pd.to_numeric(found, errors="coerce").astype("Float64")
        frame = pd.DataFrame(part, index=index)
        if self._spill is None:
            self._spill = tempfile.TemporaryFile(prefix="hub-quality-")  # noqa: SIM115 (closed by frame())
        pickle.dump(frame, self._spill, protocol=pickle.HIGHEST_PROTOCOL)
        self._spilled += 1
        self.rows += len(frame)

    def _unspill(self) -> None:
        """The spilled parts back in memory, in the order they came (our own bytes, from add())."""
        if self._spill is None:
            return
        spill, self._spill = self._spill, None
        with spill:
            spill.seek(0)
            self._parts.extend(pickle.load(spill) for _ in range(self._spilled))
        self._spilled = 0

    def _compact(self, name: str, series: pd.Series) -> pd.Series:
        """The column in the smallest dtype that keeps what the suite reads of it."""
        f = self.schema.field(name)
        if name in self._presence:  # only "is it filled?" is asked: a nullable boolean, not the text
            present = series.notna().to_numpy()
            return pd.Series(pd.arrays.BooleanArray(np.ones(len(series), dtype=bool), ~present))
        if f.type == "date":
            return pd.to_datetime(pd.Series(_texts(series), dtype=object), errors="coerce")
        if f.type == "string" and (f.enum or series.nunique() <= len(series) // 2):  # codes, kinds: few values
            return pd.Series(pd.Categorical(series, categories=f.enum or None))
        if isinstance(series.dtype, pd.Int64Dtype):  # star ranks, room counts: 1-2 bytes, not 8
            return pd.to_numeric(series, downcast="integer")
        return series

    def _categorical(self, name: str) -> bool:
        return self.schema.field(name).type == "string" and name not in self._presence

    def frame(self) -> pd.DataFrame:
        self._unspill()
        if not self._parts:
            return pd.DataFrame({n: pd.Series(dtype=object) for n in self._keep},
                                index=pd.Index([], dtype=np.int64, name="_row"))
        if len(self._parts) > 1:
            parts, columns = self._parts, {}
            index = pd.Index(np.concatenate([p.index.to_numpy() for p in parts]), name="_row")
            for name in list(parts[0].columns):
                pieces = [p.pop(name) for p in parts]  # each part gives its column up: one column is copied at a time
                if any(isinstance(p.dtype, pd.CategoricalDtype) for p in pieces) and self._categorical(name):
                    try:
                        values = union_categoricals([p.array if isinstance(p.dtype, pd.CategoricalDtype)
                                                     else pd.Categorical(_texts(p)) for p in pieces], ignore_order=True)
                    except TypeError:  # categories of another dtype (a batch without any value)
                        values = pd.Categorical(np.concatenate([np.asarray(_texts(p), dtype=object) for p in pieces]))
                    columns[name] = pd.Series(values, copy=False)
                else:
                    columns[name] = pd.concat([p.astype(object) if isinstance(p.dtype, pd.CategoricalDtype) else p
                                               for p in pieces], ignore_index=True)
                del pieces
            # copy=False: pandas copies a dict of Series by default, a second frame at once (~40 MB at 1M rows)
            self._parts = [pd.DataFrame({k: v.set_axis(index) for k, v in columns.items()}, index=index, copy=False)]
        return self._parts[0]

    # -- running ------------------------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Validate the collected rows with Great Expectations; the report's "quality" section."""
        frame = self.frame()
        results: list[tuple[dict[str, Any], list[int], str | None]]
        if frame.empty:  # no valid row: nothing to expect anything of (the schema errors say why)
            results = [({"success": True}, [], None) for _ in self.suite.expectations]
            geo_notes = [{"vi": "Không có dòng hợp lệ nào để kiểm tra chất lượng", "en": "No valid row to check"}]
        else:
            geo_notes = self._derive(frame)
            configs = self._configs(frame)
            # GE copies the frame it filters for each row condition: hand it only the columns it checks
            reads = [self._columns_of(n, e) for n, e in enumerate(self.suite.expectations)]
            checked = set().union(*reads)
            used = [c for c in frame.columns if c in checked]
            results = quality_gx.validate(frame[used], configs, self.examples, columns=reads)
        entries = [self._entry(n, e, frame, *results[n]) for n, e in enumerate(self.suite.expectations)]
        failed = [e for e in entries if e["success"] is False]
        return {
            "suite": self.suite.path.name,
            "engine": f"great_expectations {quality_gx.gx().__version__}",
            "today": self.today.isoformat(),
            "rows": int(len(frame)),
            "valid": not failed,
            "blocked": any(e["severity"] == "block" for e in failed),
            "stats": {"expectations": len(entries), "passed": len(entries) - len(failed),
                      "failed_warn": sum(e["severity"] == "warn" for e in failed),
                      "failed_block": sum(e["severity"] == "block" for e in failed),
                      "unexpected_rows": int(sum(e["unexpected"] for e in failed))},
            "notes": geo_notes,
            "expectations": entries,
        }

    def _derive(self, frame: pd.DataFrame) -> list[dict[str, str]]:
        """Condition masks and point tests as columns GE can check; notes when boundaries are missing."""
        notes: list[dict[str, str]] = []
        boundaries: Boundaries | None = None
        if self.suite.uses_geography and self._boundaries is not None:
            boundaries = self._boundaries()
        for n, e in enumerate(self.suite.expectations):
            if e.where:
                frame[f"hub_where_{n}"] = _mask(frame, e.where, self.today)
            if e.check in ("inside_province", "inside_commune", "inside_own_boundary"):
                frame[f"hub_geo_{n}"] = self._inside(frame, e, boundaries)
        self._points.clear()  # the coordinates' floats go before GE needs memory
        self._in_province.clear()
        if self.suite.uses_geography and not boundaries:
            notes.append({"vi": "Chưa có ranh giới đơn vị hành chính: chưa kiểm tra được vị trí các điểm",
                          "en": "No administrative boundaries yet: point positions were not checked"})
        return notes

    def _inside(self, frame: pd.DataFrame, e: Expectation, boundaries: Boundaries | None) -> pd.Series:
        """Whether each point lies where `e` asks, NA where that is not known. A million points: the coordinates
        as two float arrays, shared by the suite's point checks, and a few masks; the codes stay categorical."""
        assert e.lat is not None and e.lon is not None  # the suite loader gives every point check both
        lon, lat = self._coordinates(frame, e.lon, e.lat)
        own = None
        if e.check == "inside_own_boundary":
            own = Boundaries.from_geojson(zip(frame[e.code].tolist(), frame[e.boundary].tolist(), strict=True))
        province = boundaries or own
        if not province:
            return pd.Series(pd.arrays.BooleanArray(np.zeros(len(frame), dtype=bool), np.ones(len(frame), dtype=bool)),
                             index=frame.index)
        key = (id(province), e.lat, e.lon)  # the province test is shared by the suite's point checks
        if key not in self._in_province:
            self._in_province[key] = province.inside_province(lon, lat)
        in_province = self._in_province[key]
        if e.check == "inside_province":
            unknown = np.isnan(lon) | np.isnan(lat)
            return pd.Series(pd.arrays.BooleanArray(in_province & ~unknown, unknown), index=frame.index)
        # a point outside the province is reported once, by inside_province
        codes = _codes(frame[e.commune if e.check == "inside_commune" else e.code])
        inside = province.inside_units(lon, lat, codes)
        if own is not None and boundaries is not None:  # the row's own boundary first, then the published
            mine = own.inside_units(lon, lat, codes)
            inside = np.where(np.isnan(mine), inside, mine)
        return pd.Series(pd.arrays.BooleanArray(in_province & (inside == 1.0), ~in_province | np.isnan(inside)),
                         index=frame.index)

    def _coordinates(self, frame: pd.DataFrame, lon: str, lat: str) -> tuple[np.ndarray, np.ndarray]:
        key = (lon, lat)
        if key not in self._points:
            self._points[key] = (_floats(frame[lon]), _floats(frame[lat]))
        return self._points[key]

    def _configs(self, frame: pd.DataFrame) -> list[Any]:
        gxe = quality_gx.gx().expectations
        from great_expectations.expectations.row_conditions import Column

        out = []
        for n, e in enumerate(self.suite.expectations):
            common: dict[str, Any] = {"meta": {"hub_id": e.id, "hub_n": n}}
            if e.where:  # GE's Condition objects (string conditions are deprecated since GX 1.9)
                common["row_condition"] = Column(f"hub_where_{n}") == True  # noqa: E712
            column = f"hub_extract_{n}" if e.extract else e.field
            if e.check == "filled":
                exp = gxe.ExpectColumnValuesToNotBeNull(column=column, mostly=e.share, **common)
            elif e.check == "empty":
                exp = gxe.ExpectColumnValuesToBeNull(column=column, **common)
            elif e.check == "between":
                low, high = (self._bound(frame, column, v) for v in (e.minimum, e.maximum))
                exp = gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high, **common)
            elif e.check == "one_of":
                exp = gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(e.values), **common)
            elif e.check == "matches":
                exp = gxe.ExpectColumnValuesToMatchRegex(column=column, regex=e.pattern, **common)
            elif e.check == "not_matches":
                exp = gxe.ExpectColumnValuesToNotMatchRegex(column=column, regex=e.pattern, **common)
            elif e.check == "not_before":
                exp = gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A=e.field, column_B=e.other, or_equal=True,
                                                                   ignore_row_if="either_value_is_missing", **common)
            elif e.check == "unique_together":
                exp = gxe.ExpectColumnValuesToBeUnique(column=f"hub_key_{n}", **common)
            else:
                exp = gxe.ExpectColumnValuesToBeInSet(column=f"hub_geo_{n}", value_set=[True], **common)
            out.append(exp)
        return out

    @staticmethod
    def _columns_of(n: int, e: Expectation) -> set[str]:
        """The columns expectation `n`'s GE config reads, its row condition's included."""
        out = {f"hub_where_{n}"} if e.where else set()
        if e.check == "not_before":
            out.update((e.field, e.other))  # type: ignore[arg-type]  # the suite loader requires both
        elif e.check == "unique_together":
            out.add(f"hub_key_{n}")
        elif e.check in ("inside_province", "inside_commune", "inside_own_boundary"):
            out.add(f"hub_geo_{n}")
        else:
            out.add(f"hub_extract_{n}" if e.extract else e.field)  # type: ignore[arg-type]  # column checks name a field
        return out

    def _bound(self, frame: pd.DataFrame, column: str | None, value: Any) -> Any:
        if value is None:
            return None
        value = resolve(value, self.today)
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            return pd.Timestamp(value)
        return value

    def _entry(self, n: int, e: Expectation, frame: pd.DataFrame, result: dict[str, Any],
               rows: list[int], error: str | None) -> dict[str, Any]:
        checked = int(result.get("element_count") or 0) - int(result.get("missing_count") or 0)
        unexpected = int(result.get("unexpected_count") or 0)
        success = bool(result.get("success")) if error is None else False
        entry: dict[str, Any] = {
            "id": e.id, "type": e.type, "check": e.check, "expectation": GE_CHECKS[e.check], "severity": e.severity,
            "weight": e.weight, "description": dict(e.description), "fields": e.report_fields,
            "success": success, "checked": checked, "unexpected": unexpected,
            "met": round(1 - unexpected / checked, 6) if checked else 1.0,
            "rows": self._rows(n, e, frame, rows), "rows_total": unexpected, "error": error,
        }
        if e.check == "filled" and e.share < 1:
            entry["threshold"] = e.share
        return entry

    def _rows(self, n: int, e: Expectation, frame: pd.DataFrame, rows: list[int]) -> list[dict[str, Any]]:
        """The listed unexpected rows with the values a steward needs to see (personal values left out)."""
        shown = [f for f in dict.fromkeys([*e.report_fields, *e.condition_fields]) if f in frame.columns]
        personal = {f.name for f in self.schema.fields if f.personal}
        listed = rows[: self.examples]
        at = _positions(frame.index, listed)
        out = []
        for row in listed:
            where = at[row]
            values = {f: (None if f in personal else _plain(frame[f].iat[where])) for f in shown}
            item: dict[str, Any] = {"rowNumber": int(row), "values": values}
            hidden = [f for f in shown if f in personal]
            if hidden:
                item["hidden"] = hidden
            if e.check == "unique_together":
                key = frame[f"hub_key_{n}"].iat[where]
                item["same_as"] = [int(r) for r in frame.index[frame[f"hub_key_{n}"] == key][:10] if r != row]
            if e.extract:
                item["values"][f"{e.field} → {e.extract}"] = _plain(frame[f"hub_extract_{n}"].iat[where])
            out.append(item)
        return out


def quality_score(rows_read: int, rows_valid: int, quality: dict[str, Any] | None) -> float | None:
    """(valid rows / rows read) × weighted share of expectations met; None for a file without rows."""
    if not rows_read:
        return None
    score = rows_valid / rows_read
    entries = (quality or {}).get("expectations") or []
    total = sum(e["weight"] for e in entries)
    if total:
        score *= sum(e["weight"] * (1.0 if e["success"] else e["met"]) for e in entries) / total
    return round(score, 4)


# -- helpers ----------------------------------------------------------------------------------------------------------

def _presence_only(suite: Suite) -> set[str]:
    """Fields the suite only asks "filled or not" of (completeness, conditions): kept as booleans, not text."""
    presence: set[str] = set()
    values: set[str] = set()
    for e in suite.expectations:
        if e.check == "filled" and not e.extract:
            presence.add(e.field)  # type: ignore[arg-type]  # "filled" names a field
        else:
            values.update(n for n in e.needs if n not in e.condition_fields)
        for c in e.where:
            (presence if c.op in ("empty", "filled") else values).add(c.field)
    return presence - values


def _mask(frame: pd.DataFrame, conditions: tuple[Condition, ...], today: date) -> np.ndarray:
    """Rows where every condition holds (a missing value holds only `empty`)."""
    mask = np.ones(len(frame), dtype=bool)
    for c in conditions:
        column = frame[c.field]
        present = column.notna().to_numpy()
        value = resolve(c.value, today)
        if pd.api.types.is_datetime64_any_dtype(column) and isinstance(value, date):
            value = pd.Timestamp(value)
        values = tuple(resolve(v, today) for v in c.value) if isinstance(c.value, tuple) else ()
        if c.op == "empty":
            held = ~present if value else present
        elif c.op == "filled":
            held = present if value else ~present
        elif c.op in ("equals", "not"):
            held = present & (column.astype(object) == value).to_numpy(dtype=bool)
            held = held if c.op == "equals" else present & ~held
        elif c.op in ("in", "not_in"):
            held = present & column.astype(object).isin(values).to_numpy(dtype=bool)
            held = held if c.op == "in" else present & ~held
        else:
            filled = column.where(column.notna())
            compare = {"before": filled < value, "after": filled > value, "at_least": filled >= value,
                       "at_most": filled <= value}[c.op]
            held = present & compare.fillna(False).to_numpy(dtype=bool)
        mask &= held
    return mask


def _folded_hash(frame: pd.DataFrame, fields: list[str], folds: FoldedColumns | None = None) -> pd.arrays.IntegerArray:
    """One int64 per row for the search-folded values of `fields` (core.text's search folding); NA where any of
    them is empty. The hashes are compared within one run only (Python's str hash, salted per process)."""
    missing = np.zeros(len(frame), dtype=bool)
    parts = []
    for name in fields:
        column = frame[name]
        missing |= column.isna().to_numpy()
        parts.append(_folded(column, name, folds))
    keys = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, pa.scalar("\x1f", pa.large_string()))
    return pd.arrays.IntegerArray(np.fromiter(map(hash, keys.to_pylist()), dtype=np.int64, count=len(keys)), missing)


def _folded(column: pd.Series, name: str = "", folds: FoldedColumns | None = None) -> pa.Array:
    """The column's search-folded texts ("" for missing) as Arrow strings: a text column's straight from its
    Arrow strings (through `folds`, the batch's column `name` folded once), another's through their Python texts."""
    if isinstance(column.dtype, pd.StringDtype):
        try:
            strings = pa.array(column.array)
        except (pa.ArrowException, UnicodeError):  # a lone surrogate, which Arrow cannot hold
            return pa.array(search_fold_batch(_strings(column)), pa.large_string())
        if isinstance(strings, pa.ChunkedArray):
            strings = strings.combine_chunks()
        if pa.types.is_string(strings.type) or pa.types.is_large_string(strings.type):
            return folds.get(name, strings) if folds is not None else search_fold_arrow(strings)
    return pa.array(search_fold_batch(_strings(column)), pa.large_string())


def _positions(index: pd.Index, rows: list[int]) -> dict[int, int]:
    """Where each of `rows` (row numbers, the frame's index) is in the frame. Looked up by comparing, not by
    label: pandas builds a hash table of the index for a label lookup (`.at`, `.loc`) on fewer than a million
    rows, ~30 MB at 990,000 rows, kept as long as the frame."""
    values = index.to_numpy()
    found = np.flatnonzero(np.isin(values, rows))
    return {int(values[p]): int(p) for p in found.tolist()}


def _strings(column: pd.Series) -> list[str]:
    """Every value as text, "" for missing (pandas' str dtype gives its texts as they are)."""
    if isinstance(column.dtype, pd.StringDtype):
        return column.fillna("").tolist()
    return [v if isinstance(v, str) else str(v) for v in column.astype(object).where(column.notna(), "")]


def _texts(series: pd.Series) -> list[Any]:
    """Values as Python objects with None for missing (pandas' str dtype holds NaN)."""
    return series.astype(object).where(series.notna(), None).tolist()


def _floats(series: pd.Series) -> np.ndarray:
    if isinstance(series.dtype, pd.Float64Dtype):  # the validator's numbers: one copy, not three
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.to_numeric(series, errors="coerce").astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)


def _codes(series: pd.Series) -> Any:
    """A column of unit codes for Boundaries.inside_units: kept categorical (small integers), else objects."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.array
    return series.astype(object).to_numpy()


def _plain(value: Any) -> Any:
    """JSON-friendly: None for missing, ISO text for dates, Python numbers."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value
