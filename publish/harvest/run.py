"""Harvesting one dataset, the scheduled tick and the sources' overview (see the package's docstring)."""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from croniter import croniter

from core.catalog import Dataset
from core.config import Settings
from core.errors import HubError, NotFound
from publish import leases, schedule, tables
from publish.db import inserted_id
from publish.harvest.base import Fetched, HarvestFailed, Previous
from publish.harvest.tables import harvests
from publish.store import Store, utcnow

log = logging.getLogger("hub.harvest")
DEFAULT_TIMEOUT = 30.0
RETRY = timedelta(minutes=5)
SUCCESS = ("committed", "unchanged")

__all__ = ["HarvestFailed", "harvest", "history", "overview", "tick", "harvests"]


def source_of(dataset: Dataset) -> dict[str, Any]:
    spec = dataset.harvest
    if not spec:
        raise NotFound(f"Bộ dữ liệu «{dataset.id}» không khai báo nguồn thu thập (harvest) trong catalog.yaml",
                       f"Dataset «{dataset.id}» declares no harvest source in catalog.yaml")
    return spec


def previous(store: Store, dataset_id: str) -> Previous:
    """Validators of the last successful harvest (a dry run or a failure never counts)."""
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(harvests.c.etag, harvests.c.remote_modified, harvests.c.sha256)
                           .where(harvests.c.dataset == dataset_id, harvests.c.status.in_(SUCCESS))
                           .order_by(harvests.c.id.desc()).limit(1)).first()
    return Previous(row.etag, row.remote_modified, row.sha256) if row else Previous()


def _fetch(kind: str, spec: dict[str, Any], prev: Previous, workdir: Path, timeout: float, root: Path) -> Fetched:
    if kind == "http":
        from publish.harvest import http

        return http.fetch(spec, prev, workdir, timeout=timeout)
    if kind == "folder":
        from publish.harvest import folder

        return folder.fetch(spec, prev, workdir, timeout=timeout, root=root)
    if kind == "ckan":
        from publish.harvest import ckan

        return ckan.fetch(spec, prev, workdir, timeout=timeout)
    from publish.harvest import dcat

    return dcat.fetch(spec, prev, workdir, timeout=timeout)


def _fetch_retrying(kind: str, spec: dict[str, Any], prev: Previous, workdir: Path, timeout: float,
                    root: Path) -> Fetched:
    """`_fetch`, tried again `retries` times (default 0) when the source is unavailable (down, too slow, 5xx,
    429), waiting `backoff` seconds (default 2), doubled each time."""
    from publish.harvest.http import UNAVAILABLE

    retries, wait = int(spec.get("retries", 0)), float(spec.get("backoff", 2))
    for attempt in range(retries + 1):
        try:
            return _fetch(kind, spec, prev, workdir, timeout, root)
        except HarvestFailed as exc:
            if exc.code != UNAVAILABLE or attempt == retries:
                raise
            log.info("harvest %s: %s; trying again in %gs", kind, exc.message("en"), wait)
            time.sleep(wait)
            wait *= 2
    raise AssertionError("unreachable")


def precheck(dataset: Dataset, path: Path) -> None:
    """Before anything is loaded: every schema field is in the file. A renamed or dropped column is schema
    drift, not a column of blanks (much smaller files are the shrink guard's, publish/guard.py, in the load)."""
    from ingest import read_table

    table = read_table(path, dataset.schema.descriptor, header_overrides=dataset.header_overrides(path.name))
    if table.missing_fields:
        missing = ", ".join(table.missing_fields)
        extra = ", ".join(table.unknown_columns) or "-"
        raise HarvestFailed(f"Cấu trúc nguồn đã đổi: thiếu trường {missing} (cột lạ: {extra})",
                            f"The source's structure changed: missing fields {missing} (unknown columns: {extra})",
                            file=path.name)


def _lock(store: Store, dataset_id: str, worker: str) -> None:
    """Hold `harvest-run:<dataset>` for this harvest (a claim, publish/schedule.py, leased for HUB_LEASE_SECONDS
    and renewed while the harvest runs). A holder of this machine whose process is gone (killed mid-harvest)
    is taken over at once; one on another host or in another PID namespace only once its lease has run out
    (it may be alive). Any attempt still `running` then is the dead holder's: marked failed."""
    task = f"harvest-run:{dataset_id}"
    if not schedule.claim(store, task, "-", worker, lease=store.stale_after):
        c = schedule.claims
        with store.engine.connect() as conn:
            holder = conn.execute(sa.select(c.c.worker).where(c.c.task == task, c.c.slot == "-")).scalar()
        shown = (holder or "").split(" ")[0]
        raise HarvestFailed(f"Bộ dữ liệu «{dataset_id}» đang được thu thập bởi tiến trình khác ({shown})",
                            f"Dataset «{dataset_id}» is being harvested by another process ({shown})",
                            code="harvest-busy")
    with store.engine.begin() as conn:
        conn.execute(harvests.update().where(harvests.c.dataset == dataset_id, harvests.c.status == "running").values(
            status="failed", finished_at=utcnow(),
            error_vi="Tiến trình thu thập bị dừng giữa chừng; không có gì được nạp",
            error_en="The harvest process stopped before it finished; nothing was loaded"))


@contextmanager
def _holding(store: Store, dataset_id: str, worker: str) -> Iterator[None]:
    """The harvest lock, its lease renewed every HUB_HEARTBEAT_SECONDS until released."""
    _lock(store, dataset_id, worker)
    def beat() -> None:
        schedule.renew(store, f"harvest-run:{dataset_id}", "-", worker, store.stale_after)

    try:
        with leases.beating(store.heartbeat_seconds, beat, f"harvest-{dataset_id}-lease"):
            yield
    finally:
        # "free" with a lease that has run out: the next claim takes it over (schedule.claim never retakes "done")
        schedule.finish(store, f"harvest-run:{dataset_id}", "-", worker, "free", {})


def harvest(store: Store, dataset_id: str, *, dry_run: bool = False, worker: str | None = None,
            user: str | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """Fetch `dataset_id`'s source and, unless `dry_run`, load it as the dataset's next version.

    Returns the attempt's hub_harvests row as a dict: status committed (a new version), unchanged (nothing
    new: 304, same sha256, or same rows), dry-run, or failed (error_vi / error_en; nothing was loaded).
    Only a harvest already running for the dataset raises (HarvestFailed, code harvest-busy). `settings`
    give the SMTP server of failure e-mails (none without them).
    """
    dataset = store.catalog.dataset(dataset_id)
    spec = source_of(dataset)
    kind = spec["kind"]
    worker = worker or leases.Identity.current().holder()
    timeout = float(spec.get("timeout", DEFAULT_TIMEOUT))
    with _holding(store, dataset.id, worker):
        with store.engine.begin() as conn:
            attempt = inserted_id(conn.execute(harvests.insert().values(
                dataset=dataset.id, kind=kind, status="running", started_at=utcnow(), worker=worker,
                source_url=str(spec.get("url") or spec.get("path")))))
        record: dict[str, Any] = {}
        fetched: Fetched | None = None
        try:
            with tempfile.TemporaryDirectory(prefix="hub-harvest-") as tmp:
                fetched = _fetch_retrying(kind, spec, previous(store, dataset.id), Path(tmp), timeout,
                                          store.catalog.root)
                record = _run(store, dataset, spec, fetched, dry_run, user or f"harvest ({worker.split(' ')[0]})")
        except HubError as exc:
            record = {"status": "failed", "error_vi": exc.message("vi"), "error_en": exc.message("en")}
        except Exception as exc:  # noqa: BLE001 - any failure is recorded; the current version stays
            log.exception("harvest of %s failed", dataset.id)
            text = f"{type(exc).__name__}: {exc}"
            record = {"status": "failed", "error_vi": f"Lỗi khi thu thập: {text}", "error_en": f"Harvest error: {text}"}
        if kind == "folder" and fetched is not None and not dry_run and not fetched.not_modified:
            from publish.harvest import folder

            folder.settle(fetched, record["status"] in SUCCESS)
        with store.engine.begin() as conn:
            conn.execute(harvests.update().where(harvests.c.id == attempt).values(finished_at=utcnow(), **record))
            row = conn.execute(sa.select(harvests).where(harvests.c.id == attempt)).one()
    log.info("harvest %s: %s", dataset.id, row.status, extra={"dataset": dataset.id})
    out = dict(row._mapping)
    if out["status"] == "failed" and spec.get("notify"):
        from publish.harvest import notify

        out["notified"] = notify.failed(dataset, spec, out, settings)
    return out


def _run(store: Store, dataset: Dataset, spec: dict[str, Any], fetched: Fetched, dry_run: bool,
         user: str) -> dict[str, Any]:
    from publish import pipeline

    base: dict[str, Any] = {"source_url": fetched.url, "etag": fetched.etag, "remote_modified": fetched.modified}
    if fetched.not_modified or fetched.path is None:
        return {**base, "status": "unchanged", "conditional": True}
    sha = fetched.sha256
    base["sha256"] = sha
    prev = previous(store, dataset.id)
    if not dry_run and prev.sha256 == sha and store.current_version(dataset.id):
        return {**base, "status": "unchanged"}
    precheck(dataset, fetched.path)
    limit = spec.get("shrink_limit")  # else the dataset's shrink_limit, else the hub's (publish/guard.py)
    outcome = pipeline.run(store, dataset.id, fetched.path, load=not dry_run, source_name=fetched.url, user=user,
                           shrink_limit=float(limit) if limit is not None else None)
    base["rows"] = outcome.rows_read
    failed = outcome.refused or outcome.refusal is not None
    if dry_run:
        return {**base, "status": "failed" if failed else "dry-run", **(_refused(outcome) if failed else {})}
    load = outcome.load
    assert load is not None
    with store.engine.begin() as conn:  # the harvest's provenance, kept with the load itself
        conn.execute(tables.loads.update().where(tables.loads.c.id == load.load_id).values(note=json.dumps(
            {"harvest": {"kind": spec["kind"], "url": fetched.url, "etag": fetched.etag,
                         "remote_modified": fetched.modified, "sha256": sha}}, ensure_ascii=False)))
    base.update(load_id=load.load_id, version=load.version)
    if failed or load.status not in SUCCESS:
        return {**base, "status": "failed", **_refused(outcome)}
    return {**base, "status": load.status}


def _refused(outcome: Any) -> dict[str, str]:
    if outcome.refusal is not None:  # the shrink guard, or no valid row
        return {"error_vi": outcome.refusal.message("vi"), "error_en": outcome.refusal.message("en")}
    n = outcome.rows_rejected
    return {"error_vi": f"Dữ liệu nguồn không đạt quy tắc của bộ dữ liệu ({n} dòng lỗi): không nạp",
            "error_en": f"The source's data failed the dataset's rules ({n} rows refused): not loaded"}


def history(store: Store, dataset_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    stmt = sa.select(harvests).order_by(harvests.c.id.desc()).limit(limit)
    if dataset_id:
        stmt = stmt.where(harvests.c.dataset == dataset_id)
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def due_slot(spec: dict[str, Any], now: datetime) -> str | None:
    """The latest run time of the source's schedule at or before `now` (UTC), as a claim slot. A sixth
    field of the cron expression gives seconds (croniter's), and the slot then names its second."""
    cron = spec.get("schedule")
    if not cron:
        return None
    at: datetime = croniter(str(cron), now + timedelta(seconds=1)).get_prev(datetime)
    return at.strftime("%Y-%m-%dT%H:%M:%S" if len(str(cron).split()) > 5 else "%Y-%m-%dT%H:%M")


def tick(store: Store, *, now: datetime | None = None, worker: str | None = None,
         settings: Settings | None = None) -> list[dict[str, Any]]:
    """One pass of the scheduled harvests: each source whose latest run time has no done claim is claimed
    (publish/schedule.py, so two workers never run the same one) and harvested; a failure is retried later,
    backing off. Only the latest run time counts: missed runs are not repeated one by one."""
    now = now or utcnow()
    worker = worker or leases.Identity.current().holder()
    out: list[dict[str, Any]] = []
    for dataset in store.catalog:
        spec = dataset.harvest
        slot = due_slot(spec, now) if spec else None
        task = f"harvest:{dataset.id}"
        if slot is None or slot in schedule.done_slots(store, task) or not schedule.claim(store, task, slot, worker):
            continue
        try:
            row = harvest(store, dataset.id, worker=worker, user=f"schedule ({worker.split(' ')[0]})",
                          settings=settings)
        except HarvestFailed as exc:  # busy: someone runs it by hand; try again soon
            row = {"dataset": dataset.id, "status": "failed", "error_en": exc.message("en")}
        ok = row["status"] in SUCCESS
        schedule.finish(store, task, slot, worker, "done" if ok else "failed",
                        {"status": row["status"], "error": row.get("error_en")},
                        retry_after=None if ok else _backoff(store, task, slot))
        out.append({"dataset": dataset.id, "slot": slot, "status": row["status"]})
    return out


def _backoff(store: Store, task: str, slot: str) -> timedelta:
    c = schedule.claims
    with store.engine.connect() as conn:
        attempts: int = conn.execute(sa.select(c.c.attempts).where(c.c.task == task, c.c.slot == slot)).scalar() or 1
    doubling: int = 2 ** min(attempts - 1, 8)
    return min(RETRY * doubling, timedelta(hours=6))


def overview(store: Store, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every declared source: kind, where, schedule, last success, last failure (with its reason), next run."""
    now = now or utcnow()
    out = []
    with store.engine.connect() as conn:
        for dataset in store.catalog:
            spec = dataset.harvest
            if not spec:
                continue
            base = sa.select(harvests).where(harvests.c.dataset == dataset.id).order_by(harvests.c.id.desc()).limit(1)
            ok = conn.execute(base.where(harvests.c.status.in_(SUCCESS))).first()
            bad = conn.execute(base.where(harvests.c.status == "failed")).first()
            nxt = croniter(str(spec["schedule"]), now).get_next(datetime) if spec.get("schedule") else None
            out.append({"dataset": dataset.id, "kind": spec["kind"], "source": spec.get("url") or spec.get("path"),
                        "schedule": spec.get("schedule"), "next_run": nxt,
                        "last_success": dict(ok._mapping) if ok else None,
                        "last_failure": dict(bad._mapping) if bad else None})
    return out


