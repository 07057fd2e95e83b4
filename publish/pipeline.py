"""`ingest` → `validate` → `publish`: one source file becomes a new version of a dataset (or a report).

This is the only place the three stages meet; each stage stays usable on its own. The CLI, the API upload
and background jobs all call `run()`.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from core.catalog import Dataset
from core.errors import HubError, InputError, ShrinkRefused
from core.memory import HeapTrimmer, arrow_in_system_heap, older_objects_frozen, release_memory
from core.text import FoldedColumns
from publish.crash import crash_point
from publish.db import storage_full
from publish.guard import Impact, LoadPlan, Preview, check_scope, check_shrink, no_valid_rows
from publish.loads import Loader, LoadResult
from publish.store import Store

if TYPE_CHECKING:
    import pandas as pd

    from validate.quality import QualityRun
    from validate.quality_geo import Boundaries

Progress = Callable[[int], None]  # called with the number of source rows read so far
# rows per batch: each batch's text, typed and staged copies are alive at once, so smaller batches keep the
# peak memory of a million-row file down; past a few thousand rows the per-batch overheads no longer matter
BATCH_ROWS = 5_000
TRIM_GROWTH_MB = 8  # resident growth between trims of the heap while batches go (core/memory.py)


@dataclass
class Outcome:
    dataset: str
    source: str
    valid: bool
    rows_read: int
    rows_valid: int
    rows_rejected: int
    report: dict[str, Any]
    load: LoadResult | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    quality_score: float | None = None
    blocked: bool = False  # a `block` quality expectation failed: the load is refused
    refused: bool = False  # the file would not become a version (see `refuses`), whether loaded or only checked
    rejected: pd.DataFrame | None = None  # the first invalid rows (text), when run(keep_rejected=n)
    plan: LoadPlan | None = None
    impact: Impact | None = None  # what the load did (or, checking only, would do) to the current version
    # why the guard refused the load (or would refuse it): no valid row, or too many records removed
    refusal: HubError | None = None

    @property
    def status(self) -> str:
        if self.load is not None:
            return self.load.status
        return "valid" if self.valid and not self.blocked and self.refusal is None else "invalid"


def refuses(dataset: Dataset, schema_valid: bool, blocked: bool) -> bool:
    """Whether a file's data is refused (kept as a rejected load, the current version untouched): a `block`
    quality expectation failed, or the dataset's policy is `reject` and a row broke its schema. The one rule for
    loads, the steward's check before publishing and the API's answer."""
    return blocked or (dataset.policy == "reject" and not schema_valid)


def file_facts(path: Path) -> dict[str, Any]:
    """sha256 and size of a source file, read in blocks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return {"source_sha256": digest.hexdigest(), "source_size": size}


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"Không tìm thấy tệp {path}", f"File not found: {path}", file=str(path))
    if not path.is_file():
        raise InputError(f"{path} không phải là tệp", f"{path} is not a file", file=str(path))
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise InputError(f"Không đọc được tệp {path}: {exc.strerror}", f"Cannot read {path}: {exc.strerror}",
                         file=str(path)) from None


def foreign_key_sets(store: Store, dataset: Dataset) -> dict[str, set[tuple[str, ...]]]:
    """Published keys of every other dataset this one points at (checked against current versions)."""
    out: dict[str, set[tuple[str, ...]]] = {}
    for fk in dataset.schema.foreign_keys:
        resource = fk["reference"].get("resource")
        if not resource or resource == dataset.id:
            continue
        ref_fields = fk["reference"]["fields"]
        ref_fields = [ref_fields] if isinstance(ref_fields, str) else list(ref_fields)
        out[resource] = store.key_set(resource, ref_fields)
    return out


@older_objects_frozen  # the process's older objects out of the collections while batches go (core/memory.py)
def run(store: Store, dataset_id: str, path: Path | str, *, load: bool = True, encoding: str | None = None,
        sheet: str | None = None, format: str | None = None, user: str | None = None,
        source_name: str | None = None, progress: Progress | None = None, today: date | None = None,
        keep_rejected: int = 0, mode: str | None = None, scope: str | None = None, allow_shrink: bool = False,
        shrink_limit: float | None = None) -> Outcome:
    """Read, normalise and validate `path` for `dataset_id`; with `load`, publish it as a new version.

    The dataset's policy decides what a schema error does: `reject` refuses the whole file (its invalid rows
    and report are kept with the refused load), `quarantine` loads the valid rows and keeps the others.
    Then the dataset's quality suite (schemas/<id>.quality.yaml) runs on the valid rows; a failed `block`
    expectation refuses the load like `reject`. `today` is the date quality rules mean by "today" (default:
    the current date); `keep_rejected` keeps that many invalid rows in the outcome for the steward's files.

    `mode` (full, upsert), `scope` ("commune_code=26068,26071": scoped) and `allow_shrink` say what the load
    may remove; `shrink_limit` is the hub's setting (a dataset's own in catalog.yaml wins). A load with no valid
    row, or removing more than the limit allows, is refused (publish/guard.py): recorded as rejected, the
    previous version stays, `Outcome.refusal` says why. Checking only (`load=False`), `Outcome.impact` and
    `Outcome.refusal` say what the load would do.
    """
    from ingest import read_table
    from validate import Validator

    path = Path(path)
    arrow_in_system_heap()
    dataset = store.catalog.dataset(dataset_id)
    plan = LoadPlan.make(dataset, mode=mode, scope=scope, shrink_limit=shrink_limit, allow_shrink=allow_shrink)
    _check_file(path)
    table = read_table(path, dataset.schema.descriptor, encoding=encoding, sheet=sheet, format=format,
                       header_overrides=dataset.header_overrides(path.name))
    validator = Validator(dataset.schema.descriptor, foreign_keys=foreign_key_sets(store, dataset),
                          source=source_name or path.name)
    provenance = {"source_name": source_name or path.name, "format": table.format, "encoding": table.encoding,
                  "created_by": user, **file_facts(path)}
    loader = Loader(store, dataset, provenance, plan=plan) if load else None
    preview = None if load else Preview(dataset, plan)
    quality = _quality_run(store, dataset, today)
    rows_valid = rows_rejected = 0
    kept: list[pd.DataFrame] = []
    trim = HeapTrimmer(TRIM_GROWTH_MB)
    try:
        if loader:
            loader.open()
        for batch in table.batches(BATCH_ROWS):
            crash_point("read")
            valid, invalid = validator.check(batch)
            check_scope(valid, dataset.schema, plan, source_name or path.name)
            crash_point("validated")
            if preview is not None:
                preview.add(valid)
            folds = FoldedColumns()  # text columns the quality check and the load both fold, folded once
            if quality is not None:
                quality.add(valid, folds)
            if rows_rejected < keep_rejected and len(invalid):
                kept.append(invalid.iloc[: keep_rejected - rows_rejected])
            rows_valid += len(valid)
            rows_rejected += len(invalid)
            if loader:
                loader.stage(valid, folds)
                loader.reject(invalid)
                crash_point("staged")
            if progress:
                progress(table.rows_read)
            trim()  # freed batches back to the system as they go
        report = validator.finish()
        del validator  # its key memory goes before the quality run and the commit need memory
        if loader and not refuses(dataset, report.valid, False):
            loader.index_early()  # the server builds a first load's indexes while the quality check runs
        large = table.rows_read > BATCH_ROWS  # a small file leaves nothing worth a collection (0.3 s in a big process)
        schema_valid = report.valid
        quality_section = None
        if quality is not None:
            # the report waits pickled while the quality suite runs: its errors as objects (and as the report's
            # dicts) would add tens of MB to the peak of a million rows with 1% errors
            packed = pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL) if large and report.errors else None
            if packed is not None:
                del report
            if large:
                release_memory()
            if table.rows_read > 100 * BATCH_ROWS:  # a big file's parts become one frame, then their scattered
                # blocks go back to the system before Great Expectations needs memory
                quality.frame()
                release_memory()
            quality_section = quality.run()
            quality = None  # the rows it kept go before the commit
            if large:
                release_memory()
            if packed is not None:
                report = pickle.loads(packed)  # our own bytes, from this process
                del packed
        elif large:
            release_memory()
        report_dict = _full_report(report.to_dict(), table, dataset)
        del report  # the dict is what is kept
        if quality_section is not None:
            report_dict["quality"] = quality_section
        from validate.quality import quality_score

        score = quality_score(table.rows_read, rows_valid, report_dict.get("quality"))
        blocked = bool((report_dict.get("quality") or {}).get("blocked"))
        report_dict["hub"]["quality_score"] = score
        result = None
        refusal: HubError | None = None
        impact: Impact | None = None
        refused = refuses(dataset, schema_valid, blocked)
        if rows_valid == 0 and not refused:
            refusal = no_valid_rows(dataset, source_name or path.name, table.rows_read, rows_rejected,
                                    table.missing_fields)
        if loader:
            result = loader.commit(report=report_dict, rows_read=table.rows_read, quality_score=score,
                                   keep_rejected_only=refused or refusal is not None,
                                   error=refusal.bilingual() if refusal else None)
            crash_point("committed")
            refusal = refusal or loader.refusal
            impact = loader.impact
        elif preview is not None and not refused:
            impact = preview.impact(store)
            report_dict["hub"]["load"] = {**plan.to_dict(), "impact": impact.to_dict()}
            if refusal is None:
                try:
                    check_shrink(dataset, plan, impact)
                except ShrinkRefused as exc:
                    refusal = exc
    except BaseException as exc:
        if loader:
            loader.fail(f"{type(exc).__name__}: {exc}")
        full = storage_full(exc) if isinstance(exc, sa.exc.OperationalError) else None
        if full is not None:  # "database or disk is full": one clear line, exit status 4 / HTTP 507
            raise full from None
        raise
    finally:
        if loader:
            loader.close()
    rejected = None
    if kept:
        import pandas as pd

        rejected = pd.concat(kept)
    return Outcome(dataset=dataset.id, source=str(path), valid=schema_valid, rows_read=table.rows_read,
                   rows_valid=rows_valid, rows_rejected=rows_rejected, report=report_dict, load=result,
                   quality_score=score, blocked=blocked, refused=refused, rejected=rejected, plan=plan,
                   impact=impact, refusal=refusal)


def _quality_run(store: Store, dataset: Dataset, today: date | None) -> QualityRun | None:
    """The dataset's quality check, or None when it has no suite (then Great Expectations is never imported)."""
    from validate.quality_suite import load_suite

    suite = load_suite(dataset.schema)
    if suite is None or not suite.expectations:
        return None
    from validate.quality import QualityRun

    return QualityRun(suite, dataset.schema, boundaries=lambda: admin_boundaries(store), today=today)


def admin_boundaries(store: Store, dataset_id: str = "admin-units") -> Boundaries | None:
    """The published commune boundaries (for "inside the province/commune" checks), built once per version."""
    import sqlalchemy as sa

    from validate.quality_geo import Boundaries, cached

    dataset = store.catalog.datasets.get(dataset_id)
    field_name = (dataset.schema.geometry or {}).get("field") if dataset else None
    version = store.current_version(dataset_id) if field_name else None
    if dataset is None or not field_name or not version:
        return None

    def load() -> Boundaries:
        table = store.table(dataset)
        key = dataset.schema.primary_key[0]
        with store.read_engine.connect() as conn:
            rows = conn.execute(sa.select(table.c[key], table.c[field_name]).where(table.c._to.is_(None))).all()
        return Boundaries.from_geojson(rows)

    return cached((store.engine.url.render_as_string(), version), load)


def _full_report(validation: dict[str, Any], table: Any, dataset: Dataset) -> dict[str, Any]:
    """The frictionless-shaped validation report plus what ingest did to the data (kept with the load)."""
    validation = dict(validation)
    validation["hub"] = {
        "dataset": dataset.id,
        "source": {"file": table.path.name, "format": table.format, "encoding": table.encoding, "sheet": table.sheet,
                   "headers": list(table.headers), "mapping": dict(table.mapping)},
        "unknown_columns": list(table.unknown_columns),
        "missing_fields": list(table.missing_fields),
        "rows_read": table.rows_read,
        "changes": [_change_dict(c) for c in table.changes],  # the first ingest.MAX_CHANGES
        "changes_total": table.changes_total,
    }
    return validation


def _change_dict(change: Any) -> dict[str, Any]:
    return {"row": change.row, "field": change.field, "original": change.original, "value": change.value,
            "rule": change.rule}
