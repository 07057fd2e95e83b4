"""Background jobs: ingests of large files, exports of large datasets, pushes to CKAN, the steward workspace's
checks and publishing: the one way the hub runs work in the background.

`submit(hub, kind, params)` records the job in hub_jobs and, when Redis is configured (HUB_REDIS_URL), puts
its id on the RQ queue for `hub worker`; on the embedded default it runs the job at once, in the caller's
process. Either way the steward follows the same row: status, progress, result or error (`hub jobs`,
GET /api/v1/jobs/<id>).

Only the job id travels through Redis; parameters stay in the database and secrets stay in the worker's
environment. A job whose process dies (kill -9, out of memory, power cut) cannot say so itself: the next
worker start, or anyone reading the job once its heartbeat is stale, marks it failed (`reap_dead`). Its load
never committed (loads are one transaction, publish/loads.py), so readers still see the previous version.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.errors import HubError, NotFound, StoreError
from publish import jobs_store, leases
from publish.context import Hub
from publish.jobs_store import Job
from publish.store import Store, utcnow

log = logging.getLogger("hub.jobs")

QUEUE = "hub"  # the RQ queue `hub worker` listens on
HEARTBEAT_SECONDS = leases.HEARTBEAT_SECONDS  # defaults; a hub's own are HUB_HEARTBEAT_SECONDS, HUB_LEASE_SECONDS
STALE_AFTER = leases.STALE_AFTER  # no heartbeat for this long: the job's process is gone
KINDS = ("ingest", "export", "ckan-push", "steward-check", "steward-publish")
DONE = ("finished", "failed")

#: the hub a `hub worker` process opened; work horses forked from it use it (hub/worker.py sets it)
worker_hub: Hub | None = None


def this_process() -> str:
    """This process as hub_jobs.worker names it: host, PID, PID namespace and boot (publish/leases.py)."""
    return leases.Identity.current().holder()


# -- submitting and reading ---------------------------------------------------------------------------------
def submit(hub: Hub, kind: str, params: dict[str, Any], *, created_by: str | None = None) -> Job:
    """Record a job and queue it (Redis configured) or run it now (embedded default). Returns the job as it
    stands afterwards: queued, or finished/failed when it ran inline (a HubError of an inline job is raised
    after the job is recorded as failed)."""
    if kind not in KINDS:
        raise HubError(f"Loại công việc không hợp lệ «{kind}»", f"Unknown job kind «{kind}»", field="kind")
    secret = next((name for name in params if any(word in name for word in ("key", "password", "secret"))), None)
    if secret:
        # parameters are stored in hub_jobs and shown to stewards: secrets come from the worker's environment
        raise HubError("Không gửi khoá bí mật trong tham số công việc", "Job parameters must not carry secrets",
                       field=secret)
    job_id = uuid.uuid4().hex
    jobs_store.insert(hub.store, job_id, kind, params, created_by)
    if hub.settings.redis_url:
        _enqueue(hub, job_id, hub.settings.redis_url)
    else:
        execute(job_id, hub, reraise=True)
    return get(hub.store, job_id, reap=False)


def _enqueue(hub: Hub, job_id: str, redis_url: str) -> None:
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue

    try:
        queue = Queue(QUEUE, connection=Redis.from_url(redis_url, socket_timeout=10))
        queue.enqueue("hub.jobs.execute", job_id, job_id=job_id, job_timeout=hub.settings.job_timeout,
                      result_ttl=7 * 86400, failure_ttl=30 * 86400, description=f"hub job {job_id}")
    except RedisError as exc:
        error = StoreError("Không đưa được công việc vào hàng đợi (Redis không trả lời)",
                           f"Cannot queue the job: Redis does not answer ({type(exc).__name__})")
        _finish(hub.store, job_id, "failed", error=_error_dict(error))
        # never queued, so nothing will read an uploaded file it names: not kept (the steward sends it again)
        upload = _uploaded_file(hub.store, get(hub.store, job_id, reap=False))
        if upload is not None:
            upload.unlink(missing_ok=True)
        raise error from None


def get(store: Store, job_id: str, *, reap: bool = True) -> Job:
    if reap:
        reap_dead(store)
    job = jobs_store.read(store, job_id)
    if job is None:
        raise NotFound(f"Không có công việc «{job_id}»", f"No job «{job_id}»", field="job")
    return job


def list_jobs(store: Store, *, status: str | None = None, dataset: str | None = None, created_by: str | None = None,
              limit: int = 50) -> list[Job]:
    """Newest first."""
    reap_dead(store)
    return jobs_store.read_many(store, status=status, dataset=dataset, created_by=created_by, limit=limit)


# -- running ------------------------------------------------------------------------------------------------
class Progress:
    """Records how far a job is (throttled: at most one write a second) and keeps its heartbeat fresh."""

    def __init__(self, store: Store, job_id: str) -> None:
        self.store, self.job_id = store, job_id
        self._last = 0.0

    def update(self, fraction: float | None, message: str, *, force: bool = False) -> None:
        import time

        now = time.monotonic()
        if not force and now - self._last < 1.0:
            return
        self._last = now
        values: dict[str, Any] = {"message": message, "heartbeat_at": utcnow()}
        if fraction is not None:
            values["progress"] = max(0.0, min(fraction, 0.99))
        jobs_store.update(self.store, self.job_id, values)

    def rows(self, done: int, total: int | None) -> None:
        if total:
            self.update(done / total, f"Đã đọc {done:,} / {total:,} dòng / read {done:,} of {total:,} rows")
        else:
            self.update(None, f"Đã đọc {done:,} dòng / read {done:,} rows")


def execute(job_id: str, hub: Hub | None = None, *, reraise: bool = False) -> None:
    """Run one job (the RQ entry point, and the inline path). A job runs at most once: only a queued job
    starts."""
    hub = hub or worker_hub or _hub_from_env()
    if hub is worker_hub and hub is not None:
        hub.store.forget_connections()  # a forked work horse must not share the worker's connections
    if not _claim(hub.store, job_id):
        log.warning("job %s is not queued any more; not running it twice", job_id)
        return
    job = get(hub.store, job_id, reap=False)
    log.info("job %s (%s) started", job_id, job.kind, extra={"job_id": job_id, "request_id": job.params.get("request_id")})
    try:
        with _heartbeat(hub.store, job_id):
            result, load_id = RUNNERS[job.kind](hub, job, Progress(hub.store, job_id))
    except HubError as exc:
        _finish(hub.store, job_id, "failed", error=_error_dict(exc))
        log.info("job %s failed: %s", job_id, exc.message("en"), extra={"job_id": job_id})
        if reraise:
            raise
        return
    except BaseException as exc:  # noqa: BLE001 - recorded, then passed on (RQ logs the traceback)
        _finish(hub.store, job_id, "failed", error=_error_dict(exc))
        log.exception("job %s failed", job_id, extra={"job_id": job_id})
        raise
    _finish(hub.store, job_id, "finished", result=result, load_id=load_id)
    log.info("job %s finished", job_id, extra={"job_id": job_id})


def _hub_from_env() -> Hub:
    from core.config import Settings

    return Hub.open(Settings.from_env())


def _claim(store: Store, job_id: str) -> bool:
    return jobs_store.claim(store, job_id, this_process())


@contextmanager
def _heartbeat(store: Store, job_id: str) -> Iterator[None]:
    """Beat from a thread while the job runs, so a long SQL statement does not look like a dead worker."""
    def beat() -> None:
        if not jobs_store.heartbeat(store, job_id):
            log.warning("job %s: heartbeat not recorded", job_id)

    with leases.beating(store.heartbeat_seconds, beat, f"heartbeat-{job_id[:8]}"):
        yield


def _finish(store: Store, job_id: str, status: str, *, result: dict[str, Any] | None = None,
            error: dict[str, Any] | None = None, load_id: int | None = None) -> None:
    jobs_store.finish(store, job_id, status, result=result, error=error, load_id=load_id)


def _error_dict(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, HubError):
        return exc.to_dict()
    return {"code": "internal-error", "context": {"exception": type(exc).__name__},
            "message": {"vi": f"Lỗi nội bộ khi chạy công việc: {type(exc).__name__}: {exc}",
                        "en": f"Internal error while running the job: {type(exc).__name__}: {exc}"}}


# -- jobs whose process died --------------------------------------------------------------------------------
def mark_dead(store: Store, job: Job, reason_vi: str, reason_en: str) -> None:
    """Mark a running job failed, and the load its process left running (the data never committed); the job
    names that load. The file an ingest job was loading from an upload (storage/uploads/) goes too: the load
    never committed, so nothing refers to it but this failed job, and the steward must send it again."""
    upload = _uploaded_file(store, job)
    if upload is not None:
        reason_vi += f"; tệp tải lên {upload.name} đã được xoá, hãy gửi lại"
        reason_en += f"; the uploaded file {upload.name} was removed: send it again"
    error = {"code": "worker-died", "context": {"worker": _shown(job.worker)},
             "message": {"vi": reason_vi, "en": reason_en}}
    changed = jobs_store.mark_failed(store, job, leases.Identity.from_holder(job.worker), error, reason_vi, reason_en)
    if changed:
        if upload is not None:
            upload.unlink(missing_ok=True)
        log.warning("job %s marked failed: %s", job.id, reason_en, extra={"job_id": job.id})


def _uploaded_file(store: Store, job: Job) -> Path | None:
    """The uploaded file (under storage/uploads/, as the upload API keeps them) an ingest job reads, if it is there."""
    relative = job.params.get("path") if job.kind == "ingest" else None
    if not relative or store.storage_dir is None:
        return None
    uploads = (store.storage_dir / "uploads").resolve()
    path = (store.storage_dir / relative).resolve()
    return path if uploads in path.parents and path.is_file() else None


def reap_dead(store: Store) -> int:
    """Mark failed every running job whose process is gone: one of this machine, boot and PID namespace whose
    PID no longer runs (publish/leases.py), or any whose heartbeat is older than the store's lease
    (HUB_LEASE_SECONDS): a job on another host or in another PID namespace is waited out, never guessed at.
    Returns how many."""
    running = jobs_store.read_running(store)
    me = leases.Identity.current()
    stale_before = utcnow() - store.stale_after
    count = 0
    for job in running:
        who, shown = leases.Identity.from_holder(job.worker), _shown(job.worker)
        if who is not None and leases.process_state(who, me) == "gone":
            mark_dead(store, job, f"Tiến trình chạy công việc ({shown}) đã dừng giữa chừng",
                      f"The process running the job ({shown}) stopped before it finished")
            count += 1
        elif job.heartbeat_at is not None and job.heartbeat_at < stale_before:
            mark_dead(store, job, f"Công việc không còn tín hiệu từ {job.heartbeat_at:%H:%M:%S} UTC ({shown})",
                      f"No heartbeat from the job since {job.heartbeat_at:%H:%M:%S} UTC ({shown})")
            count += 1
    return count


def _shown(worker: str | None) -> str | None:
    """The holder as people read it: host:pid (its namespace and boot are for the machine)."""
    return (worker or "").split(" ")[0] or None


# The job kinds live in hub/job_kinds.py; imported last because they use Progress and Job from here.
from hub.job_kinds import RUNNERS  # noqa: E402

__all__ = ["DONE", "Job", "KINDS", "Progress", "QUEUE", "RUNNERS", "execute", "get", "list_jobs", "mark_dead",
           "reap_dead", "submit"]
