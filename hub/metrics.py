"""Prometheus metrics at /metrics.

Two sources, so the numbers are right with any number of gunicorn workers, app servers and job workers:
- requests (count by route and status, latency histogram by route) are counted in each web process; under
  gunicorn, prometheus_client's multiprocess mode adds up the processes' files in PROMETHEUS_MULTIPROC_DIR
  (deploy/gunicorn.conf.py sets it up and wipes it at start);
- loads, their rows, rejected rows, dataset versions and jobs are read from the database at scrape time, so
  every process's work (a `hub worker` on another machine, a CLI ingest) is counted once.

Routes are the URL rules (`/api/v1/datasets/<string:dataset_id>/records`), never raw paths, so a crawler
asking for a million URLs cannot create a million series.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, abort, g, request
from flask.globals import request_ctx
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.errors import HubError
from hub.context import current_hub
from publish.context import Hub
from publish.tallies import job_tallies, load_tallies

log = logging.getLogger("hub.metrics")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
disable_created_metrics()  # the *_created series double the output and no dashboard of ours reads them
_process_registry = CollectorRegistry(auto_describe=True)

REQUESTS = Counter("hub_http_requests", "HTTP requests answered, by method, route and status",
                   ["method", "route", "status"], registry=_process_registry)
LATENCY = Histogram("hub_http_request_duration_seconds", "Time to answer an HTTP request, by method and route",
                    ["method", "route"], registry=_process_registry,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


def prepare_multiprocess_dir(path: Path) -> None:
    """Create the folder and remove the previous run's files (prometheus_client requires a clean start)."""
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)


def mark_process_dead(pid: int) -> None:
    """gunicorn's child_exit hook: fold a finished worker's live gauges away (counters are kept)."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


class StoreCollector(Collector):
    """Loads, rows, versions and jobs, counted in the database when Prometheus scrapes."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("hub_store_up", "1 when the database answered this scrape")
        try:
            yield from self._from_database()
            up.add_metric([], 1)
        except sa.exc.SQLAlchemyError as exc:
            log.warning("metrics: database not readable: %s", type(exc).__name__)
            up.add_metric([], 0)
        yield up
        if self.hub.settings.redis_url:
            yield from self._queue(self.hub.settings.redis_url)

    def _from_database(self) -> Iterator[Metric]:
        loads_total = CounterMetricFamily("hub_loads", "Loads attempted, by dataset and outcome",
                                          labels=["dataset", "status"])
        rows = CounterMetricFamily("hub_load_rows", "Rows of committed loads, by dataset and what happened to them",
                                   labels=["dataset", "kind"])
        rejected = CounterMetricFamily("hub_rejected_rows", "Rows refused by validation, by dataset", labels=["dataset"])
        version = GaugeMetricFamily("hub_dataset_version", "Current published version, by dataset", labels=["dataset"])
        job_count = GaugeMetricFamily("hub_jobs", "Background jobs, by kind and status", labels=["kind", "status"])
        for tally in load_tallies(self.hub.store):
            loads_total.add_metric([tally.dataset, tally.status], tally.loads)
            if tally.status == "committed":
                for kind, count in tally.rows.items():
                    rows.add_metric([tally.dataset, kind], count)
                version.add_metric([tally.dataset], tally.version or 0)
            if tally.status in ("committed", "unchanged", "rejected"):
                rejected.add_metric([tally.dataset], tally.rejected)
        for kind, status, count in job_tallies(self.hub.store):
            job_count.add_metric([kind, status], count)
        yield from (loads_total, rows, _summed(rejected), version, job_count)

    def _queue(self, redis_url: str) -> Iterator[Metric]:
        from redis import Redis
        from redis.exceptions import RedisError
        from rq import Queue

        from hub.jobs import QUEUE

        queued = GaugeMetricFamily("hub_job_queue_length", "Jobs waiting on the Redis queue")
        try:
            queued.add_metric([], Queue(QUEUE, connection=Redis.from_url(redis_url,
                                                                          socket_timeout=2)).count)
        except RedisError:
            return
        yield queued


def _summed(family: CounterMetricFamily) -> CounterMetricFamily:
    """Add up samples with the same labels (committed + unchanged + rejected loads of one dataset)."""
    totals: dict[str, float] = {}
    for sample in family.samples:
        key = sample.labels["dataset"]
        totals[key] = totals.get(key, 0) + sample.value
    out = CounterMetricFamily(family.name, family.documentation, labels=["dataset"])
    for dataset, value in totals.items():
        out.add_metric([dataset], value)
    return out


def _start() -> None:
    g.metrics_started = time.perf_counter()


# (method, route, status) -> the series' children: `labels()` checks and joins its arguments on every call
_COUNTERS: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _count(response: Response) -> Response:
    req = request_ctx.request  # (one look through the proxy)
    rule = req.url_rule
    method, route, status = req.method, rule.rule if rule else "<unmatched>", response.status_code
    series = _COUNTERS.get((method, route, status))
    if series is None:
        series = _COUNTERS[method, route, status] = (REQUESTS.labels(method, route, str(status)),
                                                     LATENCY.labels(method, route))
    series[0].inc()
    started = g.get("metrics_started")
    if started is not None:
        series[1].observe(time.perf_counter() - started)
    return response


def _is_admin() -> bool:
    from hub.auth import current_viewer

    try:
        return current_viewer().is_admin
    except HubError:
        return False


def _may_scrape() -> bool:
    """Only the machine itself (Prometheus on loopback, or nginx's allow-list in front) or an admin key may
    read the metrics."""
    import ipaddress

    try:
        if ipaddress.ip_address(request.remote_addr or "").is_loopback:
            return True
    except ValueError:
        pass
    return _is_admin()


def _only_open(body: bytes) -> bytes:
    """The samples that name no dataset other than open ones (a dataset label, or a per-dataset route): what
    a scraper without an admin key may read. Prometheus scrapes with an admin key to see every dataset."""
    hidden = [ds.id for ds in current_hub().catalog if ds.access != "open"]
    if not hidden:
        return body
    marks = [m.encode() for ds in hidden for m in (f'"{ds}"', f"/{ds}/", f"/{ds}\"")]
    return b"\n".join(line for line in body.split(b"\n")
                      if line.startswith(b"#") or not any(m in line for m in marks))


def metrics() -> Response:
    if not _may_scrape():
        abort(404)
    folder = multiprocess_dir()
    if folder:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(folder))
    else:
        registry = _process_registry
    store_registry = CollectorRegistry(auto_describe=False)
    store_registry.register(StoreCollector(current_hub()))
    body = generate_latest(registry) + generate_latest(store_registry)
    if not _is_admin():
        body = _only_open(body)
    return Response(body, mimetype=CONTENT_TYPE_LATEST.split(";")[0], headers={"Cache-Control": "no-store"})


def register(app: Flask) -> None:
    folder = multiprocess_dir()
    if folder:
        folder.mkdir(parents=True, exist_ok=True)
    app.before_request(_start)
    app.after_request(_count)
    app.add_url_rule("/metrics", "metrics", metrics)


__all__ = ["LATENCY", "REQUESTS", "StoreCollector", "mark_process_dead", "prepare_multiprocess_dir", "register"]
