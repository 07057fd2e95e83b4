"""Great Expectations plumbing for validate/quality.py: one ephemeral context per process, two kinds of pass.

Counts come from one BASIC pass over every row (the uniqueness of the suite's hashed keys is counted by
sorting them, to GX's figures: _unique_counts). Row numbers of failed expectations come from SUMMARY passes
over leading rows only: GE builds its unexpected index list with one pandas lookup per failing row of the
batch (about 0.3 ms each), so asking it on a million rows where 40 % fail would take minutes; as many leading
rows as should hold the examples we list are enough, doubled until they do.

`import great_expectations` costs 3-4 s and ~140 MB, so it happens here, on first use only; scipy.stats and
altair, which it imports for expectations and charts the hub never uses (KL divergence, KS tests), are loaded
lazily: that halves the import's memory (~65 MB), which matters to a million-row ingest's peak.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import logging
import math
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from core.memory import trim_heap

_GX_LOCK = threading.Lock()  # one ephemeral context per process; GE is not made for concurrent use
_CONTEXT: Any = None

__all__ = ["gx", "validate"]
SPLIT_ROWS = 200_000  # rows from which the counting pass goes per set of columns (_counts)
# imported by great_expectations at import time, used only by expectations and renderers the hub never runs
LAZY_PACKAGES = frozenset({"scipy", "altair"})


class _LazyFinder(importlib.abc.MetaPathFinder):
    """Finds modules of `packages` as the other finders do, but defers running their Python code until one
    of their attributes is used (importlib.util.LazyLoader); compiled extension modules load as usual."""

    def __init__(self, packages: frozenset[str]) -> None:
        self.packages = packages

    def find_spec(self, name: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name.partition(".")[0] not in self.packages:
            return None
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    if isinstance(spec.loader, importlib.machinery.SourceFileLoader):
                        spec.loader = importlib.util.LazyLoader(spec.loader)
                    return spec
        return None


@contextmanager
def _lazily(packages: frozenset[str]) -> Iterator[None]:
    """Imports inside the block load `packages` lazily (modules imported before stay as they are)."""
    finder = _LazyFinder(packages)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def gx() -> Any:
    """great_expectations, imported on first use; its INFO chatter (hundreds of lines) kept out of our logs."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    with _lazily(LAZY_PACKAGES):
        import great_expectations

    for name in ("great_expectations", "great_expectations.data_context.types.base"):  # these set their own level
        logging.getLogger(name).setLevel(logging.WARNING)
    return great_expectations


def _context() -> Any:
    from great_expectations.data_context.types.base import ProgressBarsConfig

    global _CONTEXT
    if _CONTEXT is None:
        context = gx().get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        context.config.analytics_enabled = False
        # an ephemeral context keeps nothing, but GX still writes its whole configuration out as YAML (into
        # memory) each time a data source or asset is added or deleted: a fifth of a quality run's CPU
        context._save_project_config = lambda: None
        # GX fingerprints every batch it gets (hash_pandas_object of the whole frame and its index, kept only
        # in the batch's markers, which the hub never reads): ~30 MB at a time on a million rows, at each pass
        from great_expectations.execution_engine import pandas_execution_engine

        pandas_execution_engine.HASH_THRESHOLD = 0
        _CONTEXT = context
    return _CONTEXT


def validate(frame: pd.DataFrame, configs: list[Any], examples: int, *,
             columns: list[set[str]] | None = None) -> list[tuple[dict[str, Any], list[int], str | None]]:
    """(result, unexpected row numbers to list, error) per expectation config, in order. `columns`: the columns
    each config reads (row condition included); given, a frame of SPLIT_ROWS rows or more is counted per set of
    columns (see _counts)."""
    with _GX_LOCK:
        context = _context()
        source = context.data_sources.add_or_update_pandas("hub")
        try:
            return _validate(source, frame, configs, examples, columns)
        finally:  # the data source's execution engine keeps every batch it loaded: the rows go with it
            context.data_sources.delete("hub")


def _counts(source: Any, frame: pd.DataFrame, configs: list[Any],
            columns: list[set[str]] | None) -> list[dict[str, Any]]:
    """The BASIC pass. GX filters its whole batch for each column metric (the column's missing values, a row
    condition), so on a big frame each expectation is counted on a frame of only the columns it reads: a
    million rows' filtered copy is then one or two columns, not all of them (tens of MB less at the quality
    run's peak). A small frame goes in one pass (each pass costs GX tens of milliseconds)."""
    basic = {"result_format": "BASIC", "partial_unexpected_count": 0}
    found: list[dict[str, Any]] = [{} for _ in configs]
    counted = [k for k, config in enumerate(configs) if _sorted_unique(frame, config)]
    for k in counted:
        found[k] = _unique_counts(frame[configs[k].column])
    rest = [k for k in range(len(configs)) if k not in counted]
    trim_heap()  # what the caller freed, back to the system before GX copies columns
    if columns is None or len(frame) < SPLIT_ROWS:
        for k, result in zip(rest, _run(source, frame, [configs[k] for k in rest], basic) if rest else [], strict=True):
            found[k] = result
        return found
    groups: dict[tuple[str, ...], list[int]] = {}
    for k in rest:
        groups.setdefault(tuple(c for c in frame.columns if c in columns[k]), []).append(k)
    for names, group in groups.items():
        for k, result in zip(group, _run(source, frame[list(names)], [configs[k] for k in group], basic), strict=True):
            found[k] = result
        trim_heap()  # this pass's copies, freed, do not stay resident under the next one's
    return found


def _sorted_unique(frame: pd.DataFrame, config: Any) -> bool:
    """Whether `config` is a plain uniqueness check of an integer column (the suite's hashed `unique_together`
    keys), which _unique_counts counts as GX would."""
    return (type(config).__name__ == "ExpectColumnValuesToBeUnique" and config.row_condition is None
            and config.mostly == 1 and getattr(config, "column", None) in frame.columns
            and pd.api.types.is_integer_dtype(frame[config.column].dtype))


def _unique_counts(column: pd.Series) -> dict[str, Any]:
    """GX's BASIC result of expect_column_values_to_be_unique on an integer column, counted by sorting: GX's
    `duplicated(keep=False)` builds a hash table of every value (~35 MB at a million rows, the highest point
    of a million-row ingest's quality run); the sorted copy of the values is 8 MB. The same figures: missing
    values are left out, every value found more than once is unexpected (the examples still come from GX's
    passes over leading rows)."""
    values = column.array.dropna().to_numpy(dtype=np.int64)  # a copy of its own: sorted in place
    values.sort()
    repeated = values[1:] == values[:-1]  # each value against the next: both are unexpected
    unexpected = np.zeros(len(values), dtype=bool)
    unexpected[1:] = repeated
    unexpected[:-1] |= repeated
    count = int(np.count_nonzero(unexpected))
    elements, present = len(column), len(values)
    missing = elements - present
    share = count / present * 100 if present else None
    result: dict[str, Any] = {"element_count": elements, "unexpected_count": count, "unexpected_percent": share,
                              "partial_unexpected_list": [], "missing_count": missing,
                              "missing_percent": missing / elements * 100 if elements else None,
                              "unexpected_percent_total": count / elements * 100 if elements else None,
                              "unexpected_percent_nonmissing": share}
    return {"success": count == 0, "result": result, "exception_info": {"raised_exception": False}}


def _validate(source: Any, frame: pd.DataFrame, configs: list[Any], examples: int,
              columns: list[set[str]] | None = None) -> list[tuple[dict[str, Any], list[int], str | None]]:
    out: list[list[Any]] = []
    for found in _counts(source, frame, configs, columns):
        info = found.get("exception_info") or {}
        error = info.get("exception_message") if info.get("raised_exception") else None
        out.append([dict(found.get("result") or {}, success=found.get("success")), [], error])
    n = len(frame)
    pending = {k: _first_size(n, int(item[0]["unexpected_count"]), examples) for k, item in enumerate(out)
               if item[2] is None and item[0].get("unexpected_count")}
    while pending:
        size = min(pending.values())
        group = [k for k, s in pending.items() if s == size]
        summary = {"result_format": "SUMMARY", "partial_unexpected_count": examples}
        trim_heap()  # the previous pass's copies, freed, do not stay resident under this one's
        for k, found in zip(group, _run(source, frame.iloc[:size], [configs[k] for k in group], summary),
                            strict=True):
            rows = [int(item["_row"]) if isinstance(item, dict) else int(item)
                    for item in (found.get("result") or {}).get("partial_unexpected_index_list") or []]
            if len(rows) >= min(examples, int(out[k][0]["unexpected_count"])) or size >= n:
                out[k][1] = sorted(rows)
                del pending[k]
            else:
                pending[k] = min(n, size * 2)
    return [tuple(item) for item in out]


def _first_size(n: int, unexpected: int, examples: int) -> int:
    """Leading rows likely to hold 2 × `examples` failures, as a power of two (so expectations share passes)."""
    wanted = n * 2 * examples / max(unexpected, 1)
    power: int = 2 ** math.ceil(math.log2(max(wanted, 1)))  # int ** int is Any to mypy
    return min(n, max(256, power))


def _run(source: Any, frame: pd.DataFrame, configs: list[Any], result_format: dict[str, Any]) -> list[dict[str, Any]]:
    """Validate `frame` with a suite of (copies of) `configs`; each result as a JSON-able dict, in order."""
    name = f"rows-{uuid.uuid4().hex[:8]}"
    asset = source.add_dataframe_asset(name)
    batch = None
    try:
        batch = asset.add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame})
        copies = []
        for config in configs:  # an expectation belongs to one suite: each pass gets copies
            copy = config.copy()
            copy.id = None
            copies.append(copy)
        results = batch.validate(gx().ExpectationSuite(name=name, expectations=copies), result_format=result_format)
        by_id = {r.expectation_config.meta.get("hub_n"): r.to_json_dict() for r in results.results}
        return [by_id[c.meta.get("hub_n")] for c in copies]
    finally:
        if batch is not None:  # the engine keeps every batch's frame until the data source goes (validate()):
            # a big file's passes each hand it a copy of some columns, which piled up under the later passes
            manager = batch.data.execution_engine.batch_manager
            manager.batch_data_cache.pop(batch.id, None)
            manager.reset_batch_cache()
        source.delete_asset(name)
