"""A page deep in a cursor walk, read in process: the walk's own (keyset) cursor against an offset cursor to the
same page (the hub's cursors before issue 20, still accepted), on PostGIS and SpatiaLite, for the walk, the
filtered walk (type=khach_san) and a walk sorted by a field with NULLs and duplicates (-star_rank). Each read is
`records()` through `parse_query`, as the API reads a request, without HTTP, key check or answer cache: what a
page costs the database and the query layer. Both cursors must give the same 100 rows.

    python -m bench.deep_page --rows 100000     # fills throw-away stores (setup), prints ms per page

The store filling is bench/stores.py's (PostGIS analysed after filling, SQLite as loaded).
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.proc import load_average
from bench.stores import prepare, write_source

WALKS = [("walk", {}), ("filtered", {"type": "khach_san"}), ("sort=-star_rank", {"sort": "-star_rank"})]


def _offset_cursor(version: int | None, offset: int) -> str:
    raw = json.dumps({"v": version, "o": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def measure(url: str, fraction: float, number: int, repeat: int) -> dict[str, dict[str, float]]:
    """{walk: {"keyset": ms, "offset": ms}} for the page at `fraction` of each walk."""
    from bench.load import _open_store
    from hub.api.params import parse_query
    from publish import query as q

    store = _open_store(url)
    dataset = store.catalog.dataset("accommodation")
    out: dict[str, dict[str, float]] = {}

    def read(args: dict[str, str]) -> list[Any]:
        return q.records(store, dataset, parse_query(args, dataset, max_page_size=1000)).rows

    for name, args in WALKS:
        total = q.records(store, dataset, parse_query({**args, "limit": "1"}, dataset, max_page_size=1000)).total or 0
        offset = int(total * fraction) // 100 * 100
        before = q.records(store, dataset, parse_query({**args, "limit": "100", "offset": str(offset - 100)}, dataset,
                                                       max_page_size=1000))
        assert before.next_cursor
        cursors = {"keyset": before.next_cursor, "offset": _offset_cursor(before.version, offset)}
        pages = {kind: [r["code"] for r in read({**args, "limit": "100", "cursor": c})] for kind, c in cursors.items()}
        if pages["keyset"] != pages["offset"] or len(pages["keyset"]) != 100:
            raise RuntimeError(f"{name}: the keyset page is not the offset page")
        out[f"{name} page {offset // 100 + 1} of {total // 100}"] = {
            kind: round(statistics.median(t / number * 1000 for t in timeit.repeat(
                _reader(read, {**args, "limit": "100", "cursor": c}), number=number, repeat=repeat)), 2)
            for kind, c in cursors.items()}
    store.dispose()
    return out


def _reader(read: Callable[[dict[str, str]], list[Any]], args: dict[str, str]) -> Callable[[], list[Any]]:
    return lambda: read(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.deep_page", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--fraction", type=float, default=0.9, help="where in the walk the page is (0.9: page 900 "
                        "of 1,000)")
    parser.add_argument("--number", type=int, default=20, help="reads per timing")
    parser.add_argument("--repeat", type=int, default=7, help="timings; the median is reported")
    args = parser.parse_args(argv)
    cleanup: list[Callable[[], None]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-deep-page-") as tmp:
            work = Path(tmp)
            source = write_source(work / "accommodation.csv", args.rows)
            stores = prepare(work, source, args.rows, ("PostGIS", "SpatiaLite"), key=False,
                             log=lambda line: print(line, file=sys.stderr), cleanup=cleanup)
            start = load_average()
            results = {s.backend: measure(s.url, args.fraction, args.number, args.repeat) for s in stores}
            print(json.dumps({"rows": args.rows, "ms_per_page_median": results,
                              "load_average": {"start": start, "end": load_average()}}, indent=1))
    finally:
        for step in cleanup:
            step()
    return 0


if __name__ == "__main__":
    sys.exit(main())
