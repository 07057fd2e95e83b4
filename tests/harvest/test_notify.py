"""A failed harvest tells the dataset's steward: an e-mail through a local SMTP server and a webhook POST."""

from __future__ import annotations

import base64
import json
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from publish.harvest import run
from tests.conftest import free_port
from tests.harvest.conftest import DATASET, Served, sample_rows
from tests.harvest.test_folder import drop


class SmtpSink(socketserver.ThreadingTCPServer):
    """Just enough SMTP to receive messages (the debugging server of the tests)."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.logins: list[tuple[str, str]] = []  # (user, password) of AUTH PLAIN
        super().__init__(("127.0.0.1", 0), SmtpHandler)


class SmtpHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        sink: SmtpSink = self.server  # type: ignore[assignment]
        self.wfile.write(b"220 sink\r\n")
        rcpt: list[str] = []
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-sink\r\n250 AUTH PLAIN\r\n")
            elif verb == b"HELO":
                self.wfile.write(b"250 sink\r\n")
            elif verb == b"AUTH":
                _, user, password = base64.b64decode(line.split()[2]).decode().split("\0")
                sink.logins.append((user, password))
                self.wfile.write(b"235 ok\r\n")
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
        monkeypatch.setenv("HUB_TEST_HARVEST_WEBHOOK", hook.url + "/hook")
        inbox = tmp_path / "inbox"
        inbox.mkdir()
        hub = harvest_hub({"kind": "folder", "path": str(inbox), "stable_seconds": 1,
                           "notify": {"email": True, "webhook_env": "HUB_TEST_HARVEST_WEBHOOK"}})
        # the SMTP server comes from the settings (HUB_SMTP_*), its password from the environment only
        settings = hub.settings.replace(smtp_host="127.0.0.1", smtp_port=smtp.server_address[1],
                                        smtp_from="du-lieu@dongnai.example.vn", smtp_user="hub",
                                        smtp_password="smtp-pa55")
        drop(inbox, "one.csv", sample_rows())
        assert run.harvest(hub.store, DATASET, settings=settings)["status"] == "committed"
        assert smtp.messages == [] and hook.seen == []  # a success sends nothing
        drop(inbox, "half.csv", sample_rows()[:10])
        row = run.harvest(hub.store, DATASET, settings=settings)
        assert row["status"] == "failed" and len(row["notified"]) == 2
        contact = hub.catalog.dataset(DATASET).entry["contact"]["email"]
        assert [m["to"] for m in smtp.messages] == [[contact]] and smtp.logins == [("hub", "smtp-pa55")]
        assert "From: du-lieu@dongnai.example.vn" in smtp.messages[0]["data"]
        assert "remove 50 of the 60" in smtp.messages[0]["data"].replace("=\r\n", "")
        assert hook.seen[0]["dataset"] == DATASET and "xoá 50 trong 60" in hook.seen[0]["error"]["vi"]
    finally:
        hook.stop()


def test_check_config_shows_the_smtp_settings_and_reaches_the_server(smtp: SmtpSink, tmp_path: Path) -> None:
    from core.config import read_env
    from hub.ops import environment_checks
    from tests.ops.conftest import hub_env, run_hub

    smtp_env = {"HUB_SMTP_HOST": "127.0.0.1", "HUB_SMTP_PORT": str(smtp.server_address[1]), "HUB_SMTP_USER": "hub",
                "HUB_SMTP_PASSWORD": "smtp-pa55-do-not-print"}
    env = {**hub_env(database_url=f"sqlite:///{tmp_path / 'hub.db'}", storage_dir=tmp_path / "storage"), **smtp_env}
    result = run_hub("check-config", env=env, cwd=tmp_path)  # exit 3: the database is not migrated
    assert "✓ smtp: ok" in result.stdout and smtp.logins == [("hub", "smtp-pa55-do-not-print")]
    assert "smtp-pa55-do-not-print" not in result.stdout and "environment: HUB_SMTP_PASSWORD" in result.stdout
    wrong = read_env(environ={**smtp_env, "HUB_SMTP_PORT": str(free_port()), "HUB_SMTP_TLS": "tls",
                              "HUB_SMTP_PASSWORD": ""})
    problems = " | ".join(en for _, en in wrong.problems)
    assert "HUB_SMTP_TLS must be none, starttls or ssl" in problems
    assert "HUB_SMTP_USER and HUB_SMTP_PASSWORD must be set together" in problems
    assert environment_checks(wrong.settings)["smtp"].startswith("error: ConnectionRefusedError")
