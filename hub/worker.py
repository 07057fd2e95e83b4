"""`hub worker`: runs background jobs from the RQ queue on Redis.

The worker model: one `hub worker` process per service instance takes one job at a time and runs it in a
forked child (RQ's "work horse"), so the memory a large ingest used goes back to the system when it ends,
and a job that overruns HUB_JOB_TIMEOUT is killed without taking the worker with it. Run more workers (more
systemd instances, or more machines) for more jobs at once.

Scheduled work (periodic reports, see publish/schedule.py): a thread of the worker process runs a "due" tick
every HUB_SCHEDULE_SECONDS; each due (report, period) is claimed in the database first, so several workers
never do the same one twice.

Three ways a job whose process dies still ends up `failed`:
- the work horse dies (out of memory, kill -9) and the worker lives: RQ reports it to `_horse_killed`;
- the worker itself dies: the horse gets SIGKILL too (PR_SET_PDEATHSIG), so no job outlives its worker,
  and the next `hub worker` start on that host finds the dead pid (`jobs.reap_dead`);
- the whole machine is gone: any reader marks the job failed once its heartbeat is stale.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import threading
from typing import Any

from rq import Queue, Worker

from core.config import Settings
from core.errors import ConfigError
from hub import jobs
from publish import leases
from publish.context import Hub

log = logging.getLogger("hub.worker")
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent (the worker) dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the heartbeat still catches the orphan's end
        return


FORK_GUARD = threading.Lock()  # held by a scheduled tick, and by the worker while it forks a work horse
CHANNEL_WAKE = 1.0  # seconds: how long a stopping worker may wait for its command channel's thread


class HubWorker(Worker):
    """RQ's forking worker whose work horses never outlive it."""

    def main_work_horse(self, job: Any, queue: Any) -> None:
        parent = os.getppid()
        _die_with_parent()
        if os.getppid() != parent:  # the worker died between fork and prctl
            os._exit(1)
        super().main_work_horse(job, queue)

    def fork_work_horse(self, job: Any, queue: Any) -> None:
        """Fork only between scheduled ticks: a fork copies the locks other threads hold at that instant (SQLite's
        and PROJ's mutexes, our modules' locks) and nobody releases them in the horse, which then hangs at its
        first database call (a CI run's job stayed queued for two minutes after its worker had taken it)."""
        with FORK_GUARD:
            super().fork_work_horse(job, queue)

    def subscribe(self) -> None:
        """RQ's subscription to the worker's command channel, with its thread waking every second instead of every
        60 s: once the thread has seen the unsubscription of a stopping worker it waits for the next wake-up
        before it ends, and the worker waits for it (a minute per stop of `hub worker` otherwise)."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(sleep_time=CHANNEL_WAKE, daemon=True,
                                                       exception_handler=self._pubsub_exception_handler)  # type: ignore[assignment]


def _horse_killed(hub: Hub):  # noqa: ANN202 - an RQ callback
    def handler(rq_job: Any, retpid: int, ret_val: int, rusage: Any) -> None:
        signal_no = os.WTERMSIG(ret_val) if ret_val and os.WIFSIGNALED(ret_val) else None
        how = f"signal {signal_no}" if signal_no else f"status {ret_val}"
        try:
            job = jobs.get(hub.store, rq_job.id, reap=False)
        except Exception:  # noqa: BLE001 - not one of ours
            return
        job.worker = leases.Identity.current().with_pid(retpid).holder()
        hint_vi = " (có thể do hết bộ nhớ)" if signal_no == signal.SIGKILL else ""
        hint_en = " (perhaps out of memory)" if signal_no == signal.SIGKILL else ""
        jobs.mark_dead(hub.store, job, f"Tiến trình chạy công việc bị dừng ({how}){hint_vi}",
                       f"The process running the job was killed ({how}){hint_en}")
        hub.store.dispose()  # the next horse forks with an empty pool

    return handler


def require_redis(settings: Settings) -> str:
    """The Redis URL the worker needs, or a ConfigError."""
    if not settings.redis_url:
        raise ConfigError("`hub worker` cần HUB_REDIS_URL; không có Redis thì công việc chạy ngay khi gửi",
                          "`hub worker` needs HUB_REDIS_URL; without Redis, jobs run inline when submitted")
    return settings.redis_url


def run(hub: Hub, *, burst: bool = False, name: str | None = None) -> None:
    """Work until stopped (SIGTERM: finish the current job, then exit; a second SIGTERM: stop it now)."""
    settings = hub.settings
    redis_url = require_redis(settings)
    from redis import Redis

    jobs.worker_hub = hub
    _preload()
    reaped = jobs.reap_dead(hub.store)
    recovered = hub.store.recover_interrupted_loads()
    if reaped or recovered:
        log.warning("marked %d job(s) and %d load(s) of dead processes as failed", reaped, recovered)
    connection = Redis.from_url(redis_url)
    worker = HubWorker([Queue(jobs.QUEUE, connection=connection)], connection=connection, name=name,
                       work_horse_killed_handler=_horse_killed(hub))
    hub.store.dispose()  # pooled connections must not be shared with forked horses
    log.info("worker %s listening on queue %r at %s", worker.name, jobs.QUEUE, _safe_url(redis_url))
    if burst:
        _tick(hub)
        worker.work(burst=True, logging_level=settings.log_level.upper(), with_scheduler=False)
        return
    stop = threading.Event()
    ticker = threading.Thread(target=_schedule_loop, args=(hub, stop), name="schedule", daemon=True)
    ticker.start()
    try:
        worker.work(burst=False, logging_level=settings.log_level.upper(), with_scheduler=False)
    finally:
        stop.set()
        ticker.join(timeout=30)


def _tick(hub: Hub) -> None:
    """One pass of the scheduled work (due periodic reports, due harvests), claimed in the database
    (publish/schedule.py), after a recovery pass: jobs and loads whose process is gone are marked failed (on
    another host or in another PID namespace, once their heartbeat is older than HUB_LEASE_SECONDS)."""
    from publish.harvest import run as harvest_run
    from publish.reports import scheduled

    try:
        reaped, recovered = jobs.reap_dead(hub.store), hub.store.recover_interrupted_loads()
        if reaped or recovered:
            log.warning("marked %d job(s) and %d load(s) of dead processes as failed", reaped, recovered)
    except Exception:  # noqa: BLE001 - as below: the next tick tries again
        log.exception("recovery pass failed")
    try:
        scheduled.tick(hub.store, hub.settings)
    except Exception:  # noqa: BLE001 - the tick must never stop the worker; the next one tries again
        log.exception("scheduled work: tick failed")
    try:
        harvest_run.tick(hub.store, settings=hub.settings)
    except Exception:  # noqa: BLE001 - as above
        log.exception("scheduled harvests: tick failed")


def _schedule_loop(hub: Hub, stop: threading.Event) -> None:
    """Every HUB_SCHEDULE_SECONDS, in the worker's own process (not a work horse), do what is due."""
    while not stop.is_set():
        with FORK_GUARD:  # a job's horse forks before or after a tick, never during one
            _tick(hub)
        stop.wait(hub.settings.schedule_seconds)


def _preload() -> None:
    """Import the heavy libraries once, here: every work horse is a fork of this process and inherits them,
    instead of spending seconds importing pandas and Great Expectations at the start of each job."""
    import great_expectations  # noqa: F401

    import ingest  # noqa: F401
    import publish.exports  # noqa: F401
    import publish.pipeline  # noqa: F401
    import validate  # noqa: F401

    logging.getLogger("great_expectations").setLevel(logging.WARNING)


def _safe_url(url: str) -> str:
    from redis.connection import parse_url

    try:
        parts = parse_url(url)
    except ValueError:
        return "redis"
    return f"redis://{parts.get('host', 'localhost')}:{parts.get('port', 6379)}/{parts.get('db', 0)}"
