"""The floor for the API benchmark: Flask + SQLAlchemy returning the same rows as the hub, with none of the hub's
features (no key check, access rules, personal-data filtering, audit, rate limit, ETag, cache).

    BARE_DATABASE_URL=postgresql+psycopg://... gunicorn -w 2 -k sync bench.bare_app:app

- `/records?after=K[&type=T]`: a page of 100 current rows in key order, after key K (the hub's cursor holds the
  last row's key: the same walk, the same SQL shape), optionally of one type (the filtered walk);
- `/records/<key>`: one current record by key.

The hub's answer divided by this one's is what the features cost. The table is the hub's own (`ds_<id>`,
current rows, ordered by key), so both read the same rows through the same index.
"""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from flask import Flask, jsonify, request

DATASET = os.environ.get("BARE_DATASET", "accommodation")
FIELDS = os.environ.get("BARE_FIELDS", "").split(",")  # the schema's field names, given by the benchmark
TABLE = "ds_" + DATASET.replace("-", "_")
PAGE_SIZE = 100

app = Flask(__name__)
# SQLAlchemy's defaults (no pre-ping): the hub no longer pings on checkout either (publish/liveness.py)
engine = sa.create_engine(os.environ.get("BARE_DATABASE_URL", "sqlite:///hub.db"))
# SQLite without table statistics (the hub's loads gather none) would answer from the `_to` index and sort
# every current row; the floor is the plan that walks the current-key index in order and stops at 100.
HINT = f" INDEXED BY ix_{TABLE}_current" if engine.dialect.name == "sqlite" else ""
COLUMNS = ", ".join(f'"{f}"' for f in FIELDS)
PAGE = sa.text(f"SELECT _key, {COLUMNS} FROM {TABLE}{HINT} WHERE _to IS NULL AND _key > :after ORDER BY _key "
               f"LIMIT {PAGE_SIZE}")
TYPED = sa.text(f"SELECT _key, {COLUMNS} FROM {TABLE}{HINT} WHERE _to IS NULL AND _key > :after AND type = :type "
                f"ORDER BY _key LIMIT {PAGE_SIZE}")
RECORD = sa.text(f"SELECT {COLUMNS} FROM {TABLE} WHERE _to IS NULL AND _key = :key")


@app.get("/records")
def records() -> Any:
    after = request.args.get("after", "")  # every key sorts after the empty text
    kind = request.args.get("type")
    with engine.connect() as conn:
        result = conn.execute(TYPED if kind else PAGE, {"after": after, "type": kind})
        rows = [dict(r) for r in result.mappings()]
    following = rows[-1]["_key"] if len(rows) == PAGE_SIZE else None
    for row in rows:
        del row["_key"]
    return jsonify({"dataset": DATASET, "next_after": following, "records": rows})


@app.get("/records/<key>")
def record(key: str) -> Any:
    with engine.connect() as conn:
        row = conn.execute(RECORD, {"key": key}).mappings().first()
    if row is None:
        return jsonify({"error": "not found"}), 404
    return jsonify(dict(row))
