"""A local stand-in for the reporting system: an HTTP server that refuses a set number of requests (503),
then accepts each report once per idempotency key and answers with a receipt."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.conftest import free_port


class Receiver:
    def __init__(self, *, refuse: int = 0, token: str = "report-token") -> None:
        self.refuse = refuse
        self.token = token
        self.requests: list[dict[str, Any]] = []
        self.accepted: dict[str, dict[str, Any]] = {}  # idempotency key -> body
        self.lock = threading.Lock()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/bao-cao"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = self.headers.get("Idempotency-Key", "")
                with receiver.lock:
                    receiver.requests.append({"headers": dict(self.headers), "body": body})
                    if self.headers.get("Authorization") != f"Bearer {receiver.token}":
                        status, answer = 401, {"error": "unauthorised"}
                    elif receiver.refuse > 0:
                        receiver.refuse -= 1
                        status, answer = 503, {"error": "busy"}
                    else:
                        first = key not in receiver.accepted
                        if first:
                            receiver.accepted[key] = json.loads(body)
                        status = 201 if first else 200
                        answer = {"receipt": f"BC-{list(receiver.accepted).index(key) + 1:04d}", "key": key,
                                  "duplicate": not first}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
