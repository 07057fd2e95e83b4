"""The floor for the API benchmark: Flask + SQLAlchemy returning the same 100 rows as the hub's first page, with
none of the hub's features (no key check, access rules, personal-data filtering, audit, rate limit, ETag).

    BARE_DATABASE_URL=postgresql+psycopg://... gunicorn -w 2 -k sync bench.bare_app:app

The hub's answer divided by this one's is what the features cost. The table is the hub's own (`ds_<id>`,
current rows, ordered by key), so both read the same rows through the same index.
"""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from flask import Flask, jsonify

DATASET = os.environ.get("BARE_DATASET", "accommodation")
FIELDS = os.environ.get("BARE_FIELDS", "").split(",")  # the schema's field names, given by the benchmark
TABLE = "ds_" + DATASET.replace("-", "_")

app = Flask(__name__)
engine = sa.create_engine(os.environ.get("BARE_DATABASE_URL", "sqlite:///hub.db"), pool_pre_ping=True)
# SQLite without table statistics (the hub's loads gather none) would answer from the `_to` index and sort
# every current row; the floor is the plan that walks the current-key index in order and stops at 100.
HINT = f" INDEXED BY ix_{TABLE}_current" if engine.dialect.name == "sqlite" else ""
PAGE = sa.text(f"SELECT {', '.join(f'{chr(34)}{f}{chr(34)}' for f in FIELDS)} FROM {TABLE}{HINT} "
               "WHERE _to IS NULL ORDER BY _key LIMIT 100")


@app.get("/records")
def records() -> Any:
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(PAGE).mappings()]
    return jsonify({"dataset": DATASET, "records": rows})

