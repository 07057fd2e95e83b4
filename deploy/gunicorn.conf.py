"""gunicorn settings for the hub's web service. `hub serve` reads this file; so can plain
`gunicorn -c deploy/gunicorn.conf.py`. Every value comes from the hub's settings (HUB_* variables, see
`hub check-config`), so /etc/hub/hub.env stays the one place an operator edits.

Worker model
------------
- HUB_WORKERS processes (default 2; about 2 per CPU core), each with HUB_THREADS threads (gthread, default 4).
  A request holds one thread; threads wait on PostgreSQL in parallel, processes use the cores. Requests in
  flight at most: workers × threads (8 by default). A keyed API request waits on PostgreSQL twice (the
  current version, the audit entry's commit): under wrk -c32 on a busy 2-core machine a worker's threads
  spent about 80% of their time waiting there, and 8 threads served 22-60% more keyed pages a second than 4
  (larger audit batches too: one commit for more entries). But a cold page is CPU work under the GIL: on a
  quiet 2-core machine 8 threads served hot pages 18% faster and cold ones 11-24% slower, p99 of a cold walk
  49 -> 92 ms (`HUB_THREADS=4|8 python -m bench.api --backend PostGIS --no-nginx`), so 4 stays the default.
  Each thread may hold a PostgreSQL connection
  (below), so raise HUB_THREADS where the server has connections to spare; 32 ran a shared test server out.
  nginx in front buffers slow clients and uploads, so a thread is only held while the app works.
- Spreading connections: the workers share one listening socket, and a kept-alive connection stays with the
  worker that accepted it. With gunicorn's gthread worker, whichever worker woke first took a burst of new
  connections (wrk -c32: 29-31 of 32 on one worker in most runs), leaving the other with too little to do.
  worker_class is hub/gthread.py's: gthread, except that a worker with every thread busy accepts at most one
  connection per 5 ms (at once when a thread frees), so a worker with a free thread takes it first: 15-16 of
  32 each (`python -m bench.balance`). Idle kept-alive connections do not count as busy, so idle clients
  cannot stop a worker accepting, and the hold is bounded, so queued connections are always taken.
  Not chosen: worker_connections near threads × k (it counts idle kept-alive connections too, and with
  clients that keep their connections busy, those beyond workers × worker_connections wait in the listening
  queue without end); reuse_port (the kernel spreads connections by address hash, not by load, and a stopping
  worker keeps its own socket until its last request is answered, so connections queued there are reset).
- Database connections: each process keeps a SQLAlchemy pool (5, up to 15 under load), one connection per
  thread for the current-version lookup and one for the audit log, so budget PostgreSQL's max_connections
  ≥ app servers × HUB_WORKERS × (16 + HUB_THREADS) + workers × 2 + 10 for operators.
- preload_app: the master builds the app once (catalogue, schemas, migrations) and forks; a configuration
  or database mistake stops the master before any worker starts, with one clear line per mistake. Before it
  forks, the built app's objects are frozen out of garbage collection (hub.app.freeze_startup): a worker's
  full collections scan only its own objects, and its pages of the master's stay shared.
- A worker is recycled after 10,000 to 20,000 requests (bounded memory: pandas and large exports), and killed
  if one request runs past `timeout`; long work (large ingests, exports) belongs to background jobs instead.
  Recycling was the slow tail under load (issue 16): at 2000 ± 200 both workers reached their limit within a
  second of each other, and a worker took seconds to die (the interpreter tearing down ~1,700 modules) while
  gunicorn forks the replacement only once the old one is gone, so for 3-5 s no worker answered. Now the
  limits are spread over a factor of two, and a recycled worker ends with os._exit once its requests are
  answered and its connections closed (`worker_exit`), so its replacement starts at once.
- Metrics: request counters live in files under PROMETHEUS_MULTIPROC_DIR (wiped at start), so /metrics
  adds up all worker processes. The systemd unit points it at /run/hub-web/metrics.
"""

import os
import sys
import tempfile
from pathlib import Path

from core.config import read_env

_reading = read_env()
if _reading.problems:
    for vi, en in _reading.problems:
        print(f"Lỗi cấu hình / configuration error: {vi} / {en}", file=sys.stderr)
    sys.exit(3)
_settings = _reading.settings

# Before anything imports prometheus_client: it picks its multiprocess mode at import time.
_OWN_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(Path(tempfile.gettempdir()) / f"hub-metrics-{os.getpid()}"))
from hub import metrics  # noqa: E402

metrics.prepare_multiprocess_dir(Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]))

wsgi_app = "hub.app:create_app()"
bind = [_settings.bind]
workers = _settings.workers
worker_class = "hub.gthread.ThreadWorker"  # gthread, a busy worker leaving new connections to a free one (hub/gthread.py)
threads = _settings.threads
timeout = 120
graceful_timeout = 30
keepalive = 5  # nginx keeps upstream connections open (upstream keepalive)
max_requests = 10_000
max_requests_jitter = 10_000  # each worker's limit is drawn from 10,000-20,000: two workers rarely recycle together
preload_app = True
proc_name = "hub-web"
forwarded_allow_ips = "127.0.0.1,::1"  # the scheme nginx saw (X-Forwarded-Proto) is trusted from here only
accesslog = None  # hub/observability.py logs one JSON line per request, with its request id
logger_class = "hub.access_log.Logger"  # gunicorn's, without building access-log fields for no log
# gunicorn ≥ 23's control socket lives in $HOME and would be shared by two hubs on one machine; systemd's
# signals (reload = HUP, stop = TERM) are how this service is managed.
control_socket_disable = True

# gunicorn's own messages in the same JSON lines as the app's (journald keeps them)
_FORMATTER = "hub.observability.JsonFormatter" if _settings.log_format == "json" else "hub.observability.TextFormatter"
logconfig_dict = {
    "root": {"level": _settings.log_level.upper(), "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": _settings.log_level.upper(), "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        "alembic": {"level": "DEBUG" if _settings.log_level.upper() == "DEBUG" else "WARNING"},
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "hub", "stream": "ext://sys.stderr"}},
    "formatters": {"hub": {"()": _FORMATTER}},
}


def _hub(server):  # noqa: ANN001, ANN202
    app = getattr(server.app, "callable", None)
    return app.extensions["hub"] if app is not None else None


def when_ready(server):  # noqa: ANN001, ANN201
    """The master opened database connections while building the app: close them before forking; and the app's
    objects are frozen out of the workers' garbage collections (hub.app.freeze_startup)."""
    from hub.app import freeze_startup

    hub = _hub(server)
    if hub is not None:
        hub.store.dispose()
    freeze_startup()
    cfg = server.cfg  # what gunicorn runs with, `hub serve --port/--workers` included (not this file's defaults)
    server.log.info("hub web service ready on %s (%d workers × %d threads)", ", ".join(cfg.bind), cfg.workers,
                    cfg.threads)


def post_fork(server, worker):  # noqa: ANN001, ANN201
    """A worker must not reuse the master's pooled connections (close=False leaves the master's alone)."""
    hub = _hub(server)
    if hub is not None:
        hub.store.forget_connections()


def worker_exit(server, worker):  # noqa: ANN001, ANN201
    """In the worker, once it has answered its last request: close its database connections and logs, then end
    the process without the interpreter's teardown of every module (seconds, during which gunicorn does not
    start the replacement). A worker that never booted exits as usual, so gunicorn sees its exit status."""
    if not worker.booted:
        return
    import logging

    hub = _hub(server)
    if hub is not None:
        hub.store.dispose()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def child_exit(server, worker):  # noqa: ANN001, ANN201
    metrics.mark_process_dead(worker.pid)


def on_exit(server):  # noqa: ANN001, ANN201
    if _OWN_METRICS_DIR:  # a folder we made up in /tmp: leave nothing behind
        import shutil

        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
