"""Two hub app servers behind one nginx, sharing Redis: the production shape of a hub grown past one machine's
workers (deploy/nginx, deploy/gunicorn.conf.py), measured with the same wrk runs as bench/api.py.

Measured round the targets with the others (bench/api.py). Both servers read the same PostGIS store and use the same Redis (HUB_BENCH_REDIS_URL, a database of its own:
the run deletes the answers and rate-limit counts it left there) for the answer cache and the rate limits;
nginx (Debian's nginx-light, `scripts/system-packages.sh bench`) balances them over kept-alive upstream
connections. Measured: the hot page of 100 (answered from either server's memory, or from Redis when the other
server built it) and one record by key, cold (every request another key: built once, then shared through
Redis by both servers).
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.proc import Server, free_port

__all__ = ["REDIS_URL", "LABEL", "targets", "nginx_server"]

REDIS_URL = os.environ.get("HUB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
LABEL = "2 hubs + nginx (PostGIS)"


def nginx_server(work: Path, upstreams: list[int]) -> Server:
    """nginx in the foreground, its files in `work`, proxying to `upstreams` (ports on 127.0.0.1)."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise RuntimeError("nginx is not installed (apt-get install nginx-light; `make bench` does it)")
    prefix = work / "nginx"
    prefix.mkdir(exist_ok=True)
    port = free_port()
    servers = "\n".join(f"        server 127.0.0.1:{p} fail_timeout=0;" for p in upstreams)
    user = "user root;\n" if os.geteuid() == 0 else ""  # as root, workers would run as nobody, locked out of `work`
    (prefix / "nginx.conf").write_text(f"""{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream hub_app {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://hub_app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
""", encoding="utf-8")
    return Server("nginx", [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e",
                            str(prefix / "error.log"), "-g", "daemon off;"], port, {}, prefix / "stdout.log")


def _forget(url: str) -> None:
    """Delete the answers and rate-limit counts the hubs keep in Redis (nothing else of that database)."""
    import redis

    server = redis.Redis.from_url(url, socket_timeout=5)
    for pattern in ("hub:answer:*", "LIMITS:*"):
        batch = list(server.scan_iter(pattern, count=1000))
        for i in range(0, len(batch), 1000):
            server.delete(*batch[i:i + 1000])


def targets(work: Path, source: Path, store: Any) -> tuple[list[Any], Callable[[], None]]:
    """The nginx target (its hub servers started, Redis checked and cleared of earlier answers) and how to stop
    it all; the measuring is bench/api.py's, round the targets with the others."""
    import redis

    from bench.api import COLD_KEYS, DATASET, Target, _source_rows, hub_server

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        raise RuntimeError(f"Redis not reachable at {REDIS_URL}: {exc}") from None
    _forget(REDIS_URL)
    servers = [hub_server(work, store, f"hub {n} behind nginx", HUB_REDIS_URL=REDIS_URL, HUB_PROXIES="1")
               for n in (1, 2)]
    proxy = nginx_server(work, [s.port for s in servers])
    started: list[Server] = []

    def stop() -> None:
        for server in reversed(started):
            server.stop()
        _forget(REDIS_URL)

    try:
        for server in servers:
            started.append(server)
            server.start(f"http://127.0.0.1:{server.port}/healthz")
        started.append(proxy)
        proxy.start(f"http://127.0.0.1:{proxy.port}/healthz")
    except BaseException:
        stop()
        raise
    base = f"/api/v1/datasets/{DATASET}/records"
    codes = [code for code, _ in _source_rows(source)]
    keys = random.Random(21).sample(codes, min(COLD_KEYS, len(codes)))  # not the single servers' keys
    paths = work / "paths-nginx-record_cold.txt"
    paths.write_text("\n".join(f"{base}/{key}" for key in keys) + "\n", encoding="utf-8")
    target = Target(LABEL, proxy, "/healthz", {"page": f"{base}?limit=100"},
                    {"Authorization": f"Bearer {store.token}"}, {"record_cold": paths})
    return [target], stop
