"""What every benchmark section needs: child processes with their own peak memory, medians, the machine's
facts, throw-away PostgreSQL databases, and servers started and stopped by their process id.

Each measurement runs in a fresh process (`python -m bench.<module> --child JSON`), so nothing is warmed by an
earlier measurement, and reports its own peak RSS (VmHWM of /proc/self/status, read at its end).

Why not wait4's ru_maxrss alone: on Linux a child's ru_maxrss starts from its parent's peak RSS (the
parent's memory map is copied at fork, and exec records its high-water mark), so a big parent hides a small
child. That is also why the orchestrator (`python -m bench`) does every heavy step through `call()`, in a
child process of its own, and stays small itself: the measuring scripts it starts (bench/ingest.py reads
ru_maxrss) then report their children's own peaks.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ROOT", "POSTGRES_URL", "call", "child", "spawn", "own_peak_mb", "median", "repeat", "machine",
           "load_average", "postgres_problem", "create_database", "drop_database", "database_url", "Server",
           "free_port"]

ROOT = Path(__file__).resolve().parent.parent
# The same server the tests use; bench databases are created in it (CREATE DATABASE bench_*) and dropped after.
POSTGRES_URL = os.environ.get("HUB_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def spawn(argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
          timeout: float = 3600, stderr_through: bool = False) -> tuple[str, int, float]:
    """Run a process to its end: (stdout, ru_maxrss in KB, wall seconds). Raises with its stderr tail, or
    with `stderr_through` lets its stderr (progress lines) reach ours as it runs."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=None if stderr_through else err, cwd=cwd,
                                env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
        deadline = start + timeout
        try:
            while True:  # wait4 with a deadline: a stuck child must not hang the whole run
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > deadline:
                    proc.kill()
                    _, status, usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.05)
        except BaseException:  # we are being stopped: so is the child (it would go on measuring alone)
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
            raise
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        text = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} failed ({proc.returncode}): {stderr[-3000:]}")
    return text, usage.ru_maxrss, wall


def own_peak_mb() -> float:
    """This process's RSS high-water mark (VmHWM), in MB."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def child(module: str, spec: dict[str, Any], *, python: str = sys.executable, timeout: float = 3600) -> dict[str, Any]:
    """`python -m module --child SPEC` in a fresh process; its last JSON line (which should carry its own
    "peak_rss_mb", see own_peak_mb) plus the wall time."""
    text, peak_kb, wall = spawn([python, "-m", module, "--child", json.dumps(spec)], timeout=timeout)
    figures = json.loads(text.strip().splitlines()[-1])
    figures.setdefault("peak_rss_mb", round(peak_kb / 1024, 1))
    figures["wall_seconds"] = round(wall, 2)
    return figures


def call(target: str, **kwargs: Any) -> Any:
    """`module:function(**kwargs)` in a fresh process (JSON in, JSON out; its prints go to our stderr)."""
    spec = json.dumps({"target": target, "kwargs": kwargs}, default=str)
    text, _, _ = spawn([sys.executable, "-m", "bench.proc", spec], stderr_through=True)
    return json.loads(text.strip().splitlines()[-1])


def _call_main(spec_text: str) -> None:
    import contextlib
    import importlib

    spec = json.loads(spec_text)
    module, _, name = spec["target"].partition(":")
    function = getattr(importlib.import_module(module), name)
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries the result only
        result = function(**spec["kwargs"])
    print(json.dumps(result, default=str))


def median(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else None


def repeat(runs: int, measure: Callable[[], dict[str, Any]], keys: Iterable[str]) -> dict[str, Any]:
    """`measure()` `runs` times; the median of each of `keys`, every run's values, and the run count."""
    results = [measure() for _ in range(runs)]
    out: dict[str, Any] = dict(results[-1])
    for key in keys:
        out[key] = median(r.get(key) for r in results)
        out[f"{key}_runs"] = [r.get(key) for r in results]
    out["runs"] = runs
    return out


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory and software versions, printed with every table."""
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    commit = "unknown"
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        commit += " (uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        pass
    return {"cores": os.cpu_count(), "cpu": model, "memory_gb": mem_gb, "python": platform.python_version(),
            "commit": commit, "os": platform.platform(terse=True)}


# -- PostgreSQL --------------------------------------------------------------------------------------------------

def _psycopg_conninfo(url: str) -> str:
    import sqlalchemy as sa

    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_problem() -> str | None:
    """None when PostgreSQL with PostGIS is reachable at POSTGRES_URL, else why not (one line)."""
    try:
        import psycopg

        with psycopg.connect(_psycopg_conninfo(POSTGRES_URL), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
            if not conn.execute("SELECT 1 FROM pg_available_extensions WHERE name='postgis'").fetchone():
                return "PostGIS is not installed in the PostgreSQL server (postgresql-15-postgis-3)"
    except Exception as exc:  # noqa: BLE001 - any failure is reported as a reason, the run goes on
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {str(exc).strip().splitlines()[0] if str(exc) else exc}"
    return None


def postgres_version() -> str | None:
    try:
        import psycopg

        with psycopg.connect(_psycopg_conninfo(POSTGRES_URL), connect_timeout=5) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            postgis = conn.execute("SELECT default_version FROM pg_available_extensions WHERE name='postgis'").fetchone()
            return version.split()[0] + (f" + PostGIS {postgis[0]}" if postgis else "")
    except Exception:  # noqa: BLE001
        return None


def database_url(name: str) -> str:
    import sqlalchemy as sa

    return sa.engine.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def create_database(label: str) -> str:
    """A fresh database `bench_<label>_<random>` with PostGIS; returns its name (drop it with drop_database)."""
    import psycopg

    name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_psycopg_conninfo(POSTGRES_URL), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(_psycopg_conninfo(database_url(name)), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return name


def drop_database(name: str) -> None:
    import psycopg

    if not name.startswith("bench_"):  # never anything but our own
        raise ValueError(name)
    with psycopg.connect(_psycopg_conninfo(POSTGRES_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- servers -------------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A server process we started (in its own process group), stopped by its id, never by name."""

    name: str
    argv: list[str]
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self, ready_url: str, *, headers: dict[str, str] | None = None, timeout: float = 120) -> None:
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(self.argv, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
                                     env={**os.environ, "PYTHONPATH": str(ROOT), **self.env}, cwd=ROOT)
        handle.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}); see {self.log}:\n"
                                   + self.log.read_text(errors="replace")[-2000:])
            try:
                status, _ = http_get(ready_url, headers=headers, timeout=5)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {ready_url} within {timeout:.0f} s; see {self.log}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:  # the group we created: gunicorn's master and its workers, nothing else
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass


def http_get(url: str, *, headers: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


if __name__ == "__main__":
    _call_main(sys.argv[1])
