"""The job table (hub_jobs): the rows behind hub/jobs.py, which submits, queues and runs the jobs.

Every read and write of a job's row is here: record a job, read one or a list, claim it for a worker, keep its
progress and heartbeat, finish it, and mark it failed (with the load its dead process left running)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from publish import tables
from publish.leases import Identity
from publish.store import Store, utcnow

__all__ = ["Job", "claim", "finish", "heartbeat", "insert", "mark_failed", "read", "read_running", "read_many",
           "update"]


@dataclass
class Job:
    id: str
    kind: str
    status: str  # queued, running, finished, failed
    dataset: str | None
    load_id: int | None
    progress: float
    message: str | None
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    worker: str | None
    heartbeat_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        # host:pid, as people read it; the PID namespace and boot after it are for recovery (publish/leases.py)
        out["worker"] = (self.worker or "").split(" ")[0] or None
        for key, value in out.items():
            if isinstance(value, datetime):
                out[key] = value.isoformat()
        return out


def _job(row: sa.Row[Any]) -> Job:
    values: dict[str, Any] = {f.name: row._mapping.get(f.name) for f in fields(Job)}  # columns added later are ignored
    for key in ("params", "result", "error"):
        values[key] = json.loads(values[key]) if values.get(key) else ({} if key == "params" else None)
    values["progress"] = values.get("progress") or 0.0
    return Job(**values)


def insert(store: Store, job_id: str, kind: str, params: dict[str, Any], created_by: str | None) -> None:
    """Record a queued job."""
    with store.engine.begin() as conn:
        conn.execute(tables.jobs.insert().values(
            id=job_id, kind=kind, status="queued", dataset=params.get("dataset"), progress=0.0,
            params=json.dumps(params, ensure_ascii=False, default=str), created_by=created_by, created_at=utcnow(),
        ))


def read(store: Store, job_id: str) -> Job | None:
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(tables.jobs).where(tables.jobs.c.id == job_id)).first()
    return _job(row) if row is not None else None


def read_many(store: Store, *, status: str | None = None, dataset: str | None = None,
              created_by: str | None = None, limit: int = 50) -> list[Job]:
    """Newest first."""
    t = tables.jobs
    stmt = sa.select(t).order_by(t.c.created_at.desc()).limit(limit)
    for column, value in (("status", status), ("dataset", dataset), ("created_by", created_by)):
        if value:
            stmt = stmt.where(t.c[column] == value)
    with store.engine.connect() as conn:
        return [_job(r) for r in conn.execute(stmt)]


def read_running(store: Store) -> list[Job]:
    t = tables.jobs
    with store.engine.connect() as conn:
        return [_job(r) for r in conn.execute(sa.select(t).where(t.c.status == "running"))]


def update(store: Store, job_id: str, values: dict[str, Any]) -> None:
    """Set columns of one job's row (progress, message, heartbeat)."""
    with store.engine.begin() as conn:
        conn.execute(tables.jobs.update().where(tables.jobs.c.id == job_id).values(**values))


def claim(store: Store, job_id: str, worker: str) -> bool:
    """Start a queued job for `worker`; False when it is not queued any more."""
    now = utcnow()
    with store.engine.begin() as conn:
        return conn.execute(
            tables.jobs.update().where(tables.jobs.c.id == job_id, tables.jobs.c.status == "queued")
            .values(status="running", started_at=now, heartbeat_at=now, worker=worker)
        ).rowcount == 1


def heartbeat(store: Store, job_id: str) -> bool:
    """Freshen a running job's heartbeat; False when the database did not take it."""
    try:
        with store.engine.begin() as conn:
            conn.execute(tables.jobs.update().where(tables.jobs.c.id == job_id, tables.jobs.c.status == "running")
                         .values(heartbeat_at=utcnow()))
    except sa.exc.SQLAlchemyError:
        return False
    return True


def finish(store: Store, job_id: str, status: str, *, result: dict[str, Any] | None = None,
           error: dict[str, Any] | None = None, load_id: int | None = None) -> None:
    values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "heartbeat_at": utcnow()}
    if status == "finished":
        values["progress"] = 1.0
        values["message"] = "Hoàn tất / finished"
    if result is not None:
        values["result"] = json.dumps(result, ensure_ascii=False, default=str)
    if error is not None:
        values["error"] = json.dumps(error, ensure_ascii=False, default=str)
        values["message"] = error["message"]["en"][:500]
    if load_id is not None:
        values["load_id"] = load_id
    update(store, job_id, values)


def mark_failed(store: Store, job: Job, process: Identity | None, error: dict[str, Any], reason_vi: str,
                reason_en: str) -> bool:
    """Mark a running job failed, and the load its `process` left running (the data never committed): that
    load has the process's host, PID namespace, boot and PID (a bare PID is shared by processes of other
    hosts and namespaces); the job then names that load (load_id), as a job that failed on its own does.
    False when the job was not running any more."""
    with store.engine.begin() as conn:
        changed = conn.execute(tables.jobs.update().where(tables.jobs.c.id == job.id, tables.jobs.c.status == "running")
                               .values(status="failed", finished_at=utcnow(), message=reason_en[:500],
                                       error=json.dumps(error, ensure_ascii=False))).rowcount
        if changed and process is not None and job.started_at is not None:
            loads = tables.loads
            # the load the job's process began (marked failed already if the store's recovery came by first)
            same: sa.ColumnElement[bool] = loads.c.host.is_(None)  # recorded before loads kept their host: the PID
            if process.pid_ns is not None or process.boot_id is not None:
                same = sa.or_(same, sa.and_(loads.c.host == process.host, loads.c.pid_ns == process.pid_ns,
                                            loads.c.boot_id == process.boot_id))
            else:  # a job recorded as bare "host:pid"
                same = sa.or_(same, loads.c.host == process.host)
            load_id = conn.execute(sa.select(loads.c.id).where(
                loads.c.status.in_(("running", "failed")), loads.c.pid == process.pid, same,
                loads.c.started_at >= job.started_at, loads.c.dataset == job.dataset,
            ).order_by(loads.c.id.desc()).limit(1)).scalar()
            if load_id is not None:
                conn.execute(loads.update().where(loads.c.id == load_id, loads.c.status == "running").values(
                    status="failed", finished_at=utcnow(), error=f"{reason_vi} / {reason_en}"))
                conn.execute(tables.jobs.update().where(tables.jobs.c.id == job.id).values(load_id=load_id))
    return bool(changed)
