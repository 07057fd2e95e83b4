"""The in-process rate-limit store (hub/ratelimit.py): limits as before, with no thread started per request."""

from __future__ import annotations

import threading
from typing import Any

from tests.hub.api.conftest import Secured


def test_in_process_limit_refuses_at_its_limit_and_starts_no_thread(secured: Secured) -> None:
    client = secured.app(rate_limit=5).test_client()
    url = "/api/v1/datasets/heritage-sites/records?limit=2"
    client.get("/api/v1/datasets", headers=secured.headers("admin"))  # the app's first request: set-up done
    started: list[str] = []

    def seen(frame: Any, event: str, arg: Any) -> None:  # runs first in every thread `threading` starts
        started.append(threading.current_thread().name)

    threading.settrace(seen)
    try:
        statuses = [client.get(url, headers=secured.headers("department")).status_code for _ in range(8)]
    finally:
        threading.settrace(None)  # type: ignore[arg-type]  # None removes the hook
    assert statuses == [200] * 5 + [429] * 3
    assert started == []
