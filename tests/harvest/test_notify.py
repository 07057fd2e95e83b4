"""A failed harvest tells the dataset's steward: an e-mail through a local SMTP server and a webhook POST."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from publish.harvest import run
from tests.harvest.conftest import DATASET, Served, sample_rows
from tests.harvest.test_folder import drop


class SmtpSink(socketserver.ThreadingTCPServer):
    """Just enough SMTP to receive messages (the debugging server of the tests)."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        super().__init__(("127.0.0.1", 0), SmtpHandler)


class SmtpHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        sink: SmtpSink = self.server  # type: ignore[assignment]
        self.wfile.write(b"220 sink\r\n")
        rcpt: list[str] = []
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 sink\r\n")
            elif verb == b"RCPT":
                rcpt.append(line.decode().split(":", 1)[1].strip().strip("<>"))
                self.wfile.write(b"250 ok\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go\r\n")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                sink.messages.append({"to": rcpt, "data": data.decode("utf-8", "replace")})
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


class Hook(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        owner = self.server.owner  # type: ignore[attr-defined]
        owner.seen.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    thread = threading.Thread(target=sink.serve_forever, daemon=True)
    thread.start()
    yield sink
    sink.shutdown()
    sink.server_close()


def test_failure_notices(harvest_hub: Any, smtp: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = Served(Hook)
    try:
        monkeypatch.setenv("HUB_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("HUB_SMTP_PORT", str(smtp.server_address[1]))
        monkeypatch.setenv("HUB_TEST_HARVEST_WEBHOOK", hook.url + "/hook")
        inbox = tmp_path / "inbox"
        inbox.mkdir()
        hub = harvest_hub({"kind": "folder", "path": str(inbox), "stable_seconds": 1,
                           "notify": {"email": True, "webhook_env": "HUB_TEST_HARVEST_WEBHOOK"}})
        drop(inbox, "one.csv", sample_rows())
        assert run.harvest(hub.store, DATASET)["status"] == "committed"
        assert smtp.messages == [] and hook.seen == []  # a success sends nothing
        drop(inbox, "half.csv", sample_rows()[:10])
        row = run.harvest(hub.store, DATASET)
        assert row["status"] == "failed" and len(row["notified"]) == 2
        contact = hub.catalog.dataset(DATASET).entry["contact"]["email"]
        assert [m["to"] for m in smtp.messages] == [[contact]]
        assert "remove 50 of the 60" in smtp.messages[0]["data"].replace("=\r\n", "")
        assert hook.seen[0]["dataset"] == DATASET and "xoá 50 trong 60" in hook.seen[0]["error"]["vi"]
    finally:
        hook.stop()
