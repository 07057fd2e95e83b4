"""What every API answer goes through: rate limits, ETag and 304, gzip, body size limits, headers, error bodies."""

from __future__ import annotations

import gzip
import uuid

import pytest

from publish import clients
from tests.hub.api.conftest import PERSONAL, Secured

REDIS_URL = "redis://127.0.0.1:6379/15"


def test_rate_limit_answers_429_with_retry_after_per_client(secured: Secured) -> None:
    client = secured.app(rate_limit=3).test_client()
    url = "/api/v1/datasets/heritage-sites/records?limit=1"
    statuses = [client.get(url, headers=secured.headers("department")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get(url, headers=secured.headers("department"))
    body = limited.get_json()
    assert limited.status_code == 429 and body["code"] == "rate-limited"
    assert int(limited.headers["Retry-After"]) >= 1 and body["message"]["vi"] and body["message"]["en"]
    # another client (and the anonymous public, counted by address) still gets answers
    assert client.get(url, headers=secured.headers("steward")).status_code == 200
    assert client.get(url).status_code == 200
    assert "Retry-After" not in client.get(url, headers=secured.headers("admin")).headers
    assert client.get("/healthz").status_code == 200  # not the API: not limited


def test_rate_limit_is_shared_by_workers_through_redis(secured: Secured) -> None:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    name = f"worker-test-{uuid.uuid4().hex[:8]}"  # fresh counters whatever ran before
    clients.create_client(secured.hub.store, name, actor="tests")
    headers = {"Authorization": f"Bearer {clients.issue_key(secured.hub.store, name, actor='tests').token}"}
    workers = [secured.app(rate_limit=4, redis_url=REDIS_URL).test_client() for _ in range(2)]
    statuses = [workers[i % 2].get("/api/v1/datasets", headers=headers).status_code for i in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_unchanged_answer_is_304_for_a_matching_etag(secured: Secured, secured_client) -> None:  # noqa: ANN001
    url = f"/api/v1/datasets/{PERSONAL}/records?limit=5"
    headers = secured.headers("department")
    first = secured_client.get(url, headers=headers)
    etag = first.headers["ETag"]
    again = secured_client.get(url, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    assert first.headers["Cache-Control"] == "private, no-cache"  # never in a shared cache
    other = secured_client.get(url + "&offset=5", headers={**headers, "If-None-Match": etag})
    assert other.status_code == 200
    # another caller's tag does not fit a differently shaped answer
    personal = secured_client.get(url, headers={**secured.headers("department-personal"), "If-None-Match": etag})
    assert personal.status_code == 200 and personal.headers["ETag"] != etag


def test_answers_are_gzipped_when_the_caller_accepts_it(secured: Secured, secured_client) -> None:  # noqa: ANN001
    url = "/api/v1/datasets/heritage-sites/records?limit=50"
    plain = secured_client.get(url)
    packed = secured_client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert "Content-Encoding" not in plain.headers and "Accept-Encoding" in plain.headers["Vary"]
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert len(packed.get_data()) < len(plain.get_data()) / 3
    with secured_client.get("/api/v1/datasets/heritage-sites/records?format=csv",
                            headers={"Accept-Encoding": "gzip"}) as streamed:
        text = gzip.decompress(streamed.get_data()).decode("utf-8")
    assert streamed.headers["Content-Encoding"] == "gzip" and text.count("\n") > 40 and "Mộ cự thạch" in text


def test_body_over_the_limit_is_413_with_our_error_body(secured: Secured, secured_client) -> None:  # noqa: ANN001
    answer = secured_client.post("/api/v1/admin/clients", data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                                 headers={**secured.headers("admin"), "Content-Type": "application/json"})
    assert answer.status_code == 413
    body = answer.get_json()
    assert body["code"] == "too-large" and "MB" in body["message"]["vi"] and "MB" in body["message"]["en"]
    assert secured_client.get("/api/v1/datasets?" + "x=1&" * 5000).status_code == 414


def test_security_headers_on_every_answer(secured_client) -> None:  # noqa: ANN001
    for url in ("/api/v1/datasets", "/api/v1/datasets/nope", "/healthz"):
        headers = secured_client.get(url).headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"]


def test_http_errors_on_the_api_use_our_bilingual_error_body(secured: Secured, secured_client) -> None:  # noqa: ANN001
    unknown = secured_client.get("/api/v1/no-such-endpoint")
    assert unknown.status_code == 404 and unknown.get_json()["message"]["vi"]
    wrong = secured_client.delete("/api/v1/datasets", headers=secured.headers("admin"))
    assert wrong.status_code == 405 and wrong.get_json()["code"] == "http-405" and "GET" in wrong.headers["Allow"]
