"""The ceiling for the API benchmark's hot answers: Flask under the hub's own worker model, answering fixed bytes
with nothing else — no key check, access rules, audit entry, rate limit, log line, ETag or database.

    CEILING_PAGE=page.json CEILING_RECORD=record.json \
        gunicorn -w 2 -k hub.gthread.ThreadWorker --threads 4 bench.ceiling_app:app

- `/page`: the bytes of CEILING_PAGE (the benchmark gives it the hub's own hot page of 100, read once);
- `/record/<key>`: the bytes of CEILING_RECORD (the hub's own answer for the record of that key; the key is
  not looked at).

A hub answering from its answer cache does at least this much work per request, so this is as fast as any
Flask app on this gunicorn can serve the same answer: hub ÷ ceiling is the share of it the hub reaches, and
what the hub's per-request rules cost; bare ÷ ceiling is what reading and encoding the rows costs.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

BODIES = {name: Path(os.environ[f"CEILING_{name.upper()}"]).read_bytes() for name in ("page", "record")}

app = Flask(__name__)


@app.get("/page")
def page() -> Response:
    return Response(BODIES["page"], mimetype="application/json")


@app.get("/record/<key>")
def record(key: str) -> Response:
    return Response(BODIES["record"], mimetype="application/json")
