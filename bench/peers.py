"""The peers the hub is measured against: Datasette (in its own virtual environment, so its dependencies never
touch the hub's), and a raw PostgreSQL `COPY` of the source file (the floor of any loader).

frictionless is a dependency of the hub already, so bench/ingest.py and bench/validation.py run it from the
hub's environment, in a process of its own.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.proc import ROOT

__all__ = ["PEERS_VENV", "PEER_REQUIREMENTS", "ensure_peers", "datasette_bin", "raw_copy"]

PEERS_VENV = ROOT / "bench" / ".venv-peers"
# Stable releases only (pip skips the 1.0 alphas); the marker file makes a changed list reinstall.
PEER_REQUIREMENTS = ["datasette>=0.64,<1"]
_MARKER = PEERS_VENV / ".bench-requirements"


def datasette_bin() -> Path:
    return PEERS_VENV / "bin" / "datasette"


def ensure_peers(log: Any = print) -> dict[str, str]:
    """Create bench/.venv-peers on first use (python -m venv + pip install from the registry); versions."""
    wanted = "\n".join(PEER_REQUIREMENTS)
    python = PEERS_VENV / "bin" / "python"
    if not python.exists() or not _MARKER.exists() or _MARKER.read_text() != wanted:
        log(f"setting up the peers' environment {PEERS_VENV.relative_to(ROOT)} ({', '.join(PEER_REQUIREMENTS)})")
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        *PEER_REQUIREMENTS], check=True)
        _MARKER.write_text(wanted)
    version = subprocess.run([str(datasette_bin()), "--version"], capture_output=True, text=True, check=True)
    return {"datasette": version.stdout.strip().split()[-1]}


def raw_copy(url: str, path: Path) -> dict[str, Any]:
    """`COPY ... FROM STDIN (FORMAT csv, HEADER)` of the source file as it is, into a table of text columns.

    No parsing of numbers or dates, no checks, no index: only the bytes into the database (the file's
    Vietnamese number notation would not cast anyway). Returns rows, seconds, rows per second."""
    import psycopg
    import sqlalchemy as sa

    with path.open(encoding="utf-8", newline="") as handle:
        headers = next(csv.reader(handle))
    cols = ", ".join(f'c{i} text' for i in range(len(headers)))
    conninfo = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_raw_copy")
        cur.execute(f"CREATE TABLE bench_raw_copy ({cols})")
        conn.commit()
        start = time.perf_counter()
        with path.open("rb") as handle, cur.copy("COPY bench_raw_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            while block := handle.read(1 << 20):
                copy.write(block)
        conn.commit()
        seconds = time.perf_counter() - start
        rows = cur.execute("SELECT count(*) FROM bench_raw_copy").fetchone()[0]
        cur.execute("DROP TABLE bench_raw_copy")
        conn.commit()
    return {"rows": rows, "seconds": round(seconds, 3), "rows_per_second": round(rows / seconds)}
