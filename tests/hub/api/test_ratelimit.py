"""Rate limits (hub/ratelimit.py): a sliding window counter that refuses at its limit, in process and in Redis
(one round trip a request), whose Retry-After is the wait that works, and that keeps limiting while Redis is down."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from hub.ratelimit import MemoryCounter, RedisCounter
from publish import clients
from tests.hub.api.conftest import Secured


def _counters() -> list[Any]:
    from tests.ops.conftest import redis_db_url

    return [MemoryCounter(), RedisCounter(redis_db_url())]


@pytest.mark.parametrize("where", ["memory", "redis"])
def test_the_window_slides_and_retry_after_is_the_wait_that_works(where: str) -> None:
    counter = _counters()[where == "redis"]
    key, start = f"client:{uuid.uuid4().hex}/api.records", 6_000_000.0  # a window boundary (a multiple of 60)
    allowed = [counter.acquire(key, 10, 60, start + i).allowed for i in range(12)]
    assert allowed == [True] * 10 + [False] * 2  # refused requests are not counted
    refused = counter.acquire(key, 10, 60, start + 20)
    assert not refused.allowed and refused.remaining == 0
    # half-way through the next window the previous one weighs half: 5 more, then refused again
    later = [counter.acquire(key, 10, 60, start + 90 + i / 10).allowed for i in range(6)]
    assert later == [True] * 5 + [False]
    wait = counter.acquire(key, 10, 60, start + 91).retry_after
    assert wait >= 1
    assert not counter.acquire(key, 10, 60, start + 91 + wait - 2).allowed
    assert counter.acquire(key, 10, 60, start + 91 + wait).allowed
    # a key of its own counts on its own
    assert counter.acquire(key + "-other", 10, 60, start + 91).allowed


def test_redis_and_the_process_agree() -> None:
    memory, redis = _counters()
    key, start = f"client:{uuid.uuid4().hex}/api.records", 6_000_000.0
    for t in [0, 1, 2, 3, 30, 59, 60, 61, 75, 80, 100, 119, 120, 150, 200, 201, 202, 203]:
        ours, shared = memory.acquire(key, 3, 60, start + t), redis.acquire(key, 3, 60, start + t)
        assert ours == shared, t


def test_with_redis_a_request_is_limited_in_one_round_trip(secured: Secured) -> None:
    from tests.ops.conftest import redis_db_url

    app = secured.app(rate_limit=3, redis_url=redis_db_url())
    limiter = app.extensions["hub_limiter"].redis
    sent: list[Any] = []
    execute = limiter._redis.execute_command

    def counted(*args: Any, **kwargs: Any) -> Any:
        sent.append(args[0])
        return execute(*args, **kwargs)

    limiter._redis.execute_command = counted
    client = app.test_client()
    client.get("/api/v1/datasets", headers=secured.headers("department"))  # the first loads the script
    sent.clear()
    name = f"one-trip-{uuid.uuid4().hex[:8]}"
    clients.create_client(secured.hub.store, name, actor="tests")
    headers = {"Authorization": f"Bearer {clients.issue_key(secured.hub.store, name, actor='tests').token}"}
    statuses = [client.get("/api/v1/datasets/heritage-sites/records?limit=1", headers=headers).status_code
                for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert sent == ["EVALSHA"] * 5


def test_while_redis_is_down_the_limit_still_refuses(secured: Secured) -> None:
    from tests.conftest import free_port

    client = secured.app(rate_limit=3, redis_url=f"redis://127.0.0.1:{free_port()}/0").test_client()
    url = "/api/v1/datasets/heritage-sites/records?limit=1"
    statuses = [client.get(url, headers=secured.headers("department")).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_answers_say_how_many_requests_are_left(secured: Secured) -> None:
    client = secured.app(rate_limit=5).test_client()
    url = "/api/v1/datasets/heritage-sites/records?limit=1"
    answers = [client.get(url, headers=secured.headers("steward")) for _ in range(6)]
    assert [a.headers.get("X-RateLimit-Remaining") for a in answers] == ["4", "3", "2", "1", "0", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"5"}
    assert answers[-1].status_code == 429 and int(answers[-1].headers["Retry-After"]) >= 1
    assert "Retry-After" not in answers[0].headers
    assert "X-RateLimit-Limit" not in client.get("/healthz").headers  # probes are not limited
