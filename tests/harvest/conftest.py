"""Harvest fixtures: real sources on 127.0.0.1 (http.server in a thread) and a hub whose catalogue declares them.

The harvested dataset is travel-agencies (60 sample rows, commune codes pointing at admin-units, which is
loaded first so the foreign keys hold).
"""

from __future__ import annotations

import csv
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from core.config import PROJECT_ROOT
from publish.context import Hub
from tests.ckan.conftest import write_catalog
from tests.hub_copies import HubCopy, Templates, communes_copy

DATASET = "travel-agencies"
TOKEN = "s3cret-one-stop-token"
# the one-stop system's own names for some of the fields (the rest are the schema's names)
RENAMED = {"enterprise_code": "ma_doanh_nghiep", "name": "ten_doanh_nghiep", "commune_code": "ma_xa"}


def sample_rows() -> list[dict[str, str]]:
    with (PROJECT_ROOT / "samples" / "travel-agencies.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


class Served:
    """A threaded http.server on 127.0.0.1 and the request headers it saw."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.owner = self  # type: ignore[attr-defined]
        self.server.handle_error = lambda request, address: None  # type: ignore[method-assign]  # killed clients
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.seen: list[dict[str, str]] = []
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class OneStop(Served):
    """The one-stop system's JSON API: bearer token, cursor paging (25 rows a page), ETag / 304, and faults."""

    def __init__(self) -> None:
        self.rows = [{RENAMED.get(k, k): v for k, v in r.items()} for r in sample_rows()]
        self.mode = "ok"  # ok, 500, slow, truncated, html
        self.failures = 0  # answer 500 to this many requests first
        super().__init__(OneStopHandler)

    def etag(self) -> str:
        return '"' + hashlib.sha256(json.dumps(self.rows, sort_keys=True).encode()).hexdigest()[:16] + '"'


class OneStopHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        api: OneStop = self.server.owner  # type: ignore[attr-defined]
        api.seen.append(dict(self.headers))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(401, b'{"error": "unauthorised"}')
        if api.mode == "500" or api.failures > 0:
            api.failures -= 1
            return self._send(500, b'{"error": "internal"}')
        if api.mode == "slow":
            time.sleep(2.5)
        etag = api.etag()
        if self.headers.get("If-None-Match") == etag:
            return self._send(304, b"")
        cursor = int((parse_qs(urlparse(self.path).query).get("cursor") or ["0"])[0])
        page = api.rows[cursor:cursor + 25]
        nxt = str(cursor + 25) if cursor + 25 < len(api.rows) else None
        body = json.dumps({"data": {"items": page}, "meta": {"next_cursor": nxt}}, ensure_ascii=False).encode()
        if api.mode == "html":
            return self._send(200, b"<html><body>Maintenance</body></html>", "text/html")
        if api.mode == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return None
        self._send(200, body, "application/json; charset=utf-8", {"ETag": etag})
        return None

    def _send(self, status: int, body: bytes, kind: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if body:
            self.wfile.write(body)


class Files(Served):
    """A folder served by SimpleHTTPRequestHandler (Last-Modified, If-Modified-Since → 304)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        owner = self

        class Handler(SimpleHTTPRequestHandler):
            extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".ttl": "text/turtle", ".csv": "text/csv"}

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(folder), **kwargs)

            def log_message(self, *args: Any) -> None:
                pass

            def send_head(self) -> Any:
                owner.seen.append({"path": self.path, **dict(self.headers)})
                return super().send_head()

        super().__init__(Handler)


@pytest.fixture
def one_stop() -> Iterator[OneStop]:
    api = OneStop()
    yield api
    api.stop()


HubMaker = Callable[[dict[str, Any]], Hub]


@pytest.fixture
def harvest_hub(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                templates: Templates) -> Iterator[HubMaker]:
    """make(spec): a fresh hub on the test's backend whose travel-agencies harvests from `spec`, with the
    communes loaded (a copy of the "communes" template, opened with a catalogue declaring the harvest)."""
    monkeypatch.setenv("HUB_TEST_ONESTOP_TOKEN", TOKEN)
    made: list[HubCopy] = []

    def make(spec: dict[str, Any]) -> Hub:
        path = write_catalog(tmp_path / "catalog")
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        for entry in raw["datasets"]:
            if entry["id"] == DATASET:
                entry["harvest"] = spec
        path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
        folder = tmp_path if not made else tmp_path / f"hub-{len(made)}"
        copy = communes_copy(templates, backend, folder, changes={"catalog_path": path})
        made.append(copy)
        return copy.hub

    yield make
    for copy in made:
        copy.close()
