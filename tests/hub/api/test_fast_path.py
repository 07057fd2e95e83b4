"""The cut per-request path (issue 20) keeps every rule on answers served from the answer cache: one record and
a change-feed page take the same path as a page (304 on a matching ETag without reading the dataset), and a
cached answer still carries the security headers, CORS for anonymous callers only, the caching rules, the
request id and the rate-limit headers."""

from __future__ import annotations

import pytest

from publish.response_cache import PREPARED, VersionReader
from tests.conftest import statements_reading
from tests.hub.api.conftest import PERSONAL, Secured


@pytest.mark.parametrize("what", ["record", "changes"])
def test_one_record_and_the_change_feed_answer_304_without_reading(secured: Secured, what: str) -> None:
    client = secured.app().test_client()
    headers = secured.headers("department")
    key_field = secured.hub.catalog.dataset(PERSONAL).schema.primary_key[0]
    first = client.get(f"/api/v1/datasets/{PERSONAL}/records?limit=1", headers=headers).get_json()
    url = {"record": f"/api/v1/datasets/{PERSONAL}/records/{first['records'][0][key_field]}",
           "changes": f"/api/v1/datasets/{PERSONAL}/changes?since=0&limit=3"}[what]
    answer = client.get(url, headers=headers)
    etag = answer.headers["ETag"]
    assert answer.status_code == 200 and etag
    store = secured.hub.store
    with statements_reading(store, store.table(PERSONAL).name) as seen:
        again = client.get(url, headers={**headers, "If-None-Match": etag})
        cached = client.get(url, headers=headers)
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    assert cached.get_data() == answer.get_data() and seen == []
    other = client.get(url, headers={**secured.headers("department-personal"), "If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag  # another class: another answer


@pytest.mark.parametrize("caller", ["anonymous", "department", "department-personal"])
def test_a_cached_answer_keeps_every_header_rule(secured: Secured, caller: str) -> None:
    client = secured.app(rate_limit=50).test_client()
    url = ("/api/v1/datasets/heritage-sites/records?limit=30" if caller == "anonymous"
           else f"/api/v1/datasets/{PERSONAL}/records?limit=30")
    headers = {**secured.headers(caller), "Accept-Encoding": "gzip", "X-Request-ID": "req-0123456789"}
    built, cached = client.get(url, headers=headers), client.get(url, headers=headers)
    for answer in (built, cached):
        h = answer.headers
        assert answer.status_code == 200 and h["Content-Encoding"] == "gzip"
        assert h["X-Content-Type-Options"] == "nosniff" and h["X-Frame-Options"] == "DENY"
        assert h["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert h["Referrer-Policy"] and h["Cross-Origin-Opener-Policy"] == "same-origin"
        vary = [v.strip().lower() for v in h["Vary"].split(",")]
        assert sorted(vary) == ["accept-encoding", "authorization"]  # each once
        assert h["X-Request-ID"] == "req-0123456789" and h["X-RateLimit-Limit"] == "50"
        assert len(h.getlist("Content-Security-Policy")) == 1 and "Retry-After" not in h
        if caller == "anonymous":
            assert h["Access-Control-Allow-Origin"] == "*" and h["Cache-Control"] == "no-cache"
        else:
            assert "Access-Control-Allow-Origin" not in h
            assert h["Cache-Control"] == ("no-store" if caller == "department-personal" else "private, no-cache")
    assert [a.headers["X-RateLimit-Remaining"] for a in (built, cached)] == ["49", "48"]
    assert cached.get_data() == built.get_data()


def test_a_request_without_a_session_cookie_gets_none_and_a_forged_one_opens_nothing(secured: Secured) -> None:
    """The session is opened without its signer when no cookie came (hub/app.py): such a request still gets
    an empty session (no Set-Cookie), and a cookie that came is still checked."""
    client = secured.app().test_client()
    answer = client.get("/api/v1/datasets/heritage-sites/records?limit=2", headers=secured.headers("department"))
    assert answer.status_code == 200 and "Set-Cookie" not in answer.headers
    client.set_cookie("session", "eyJjbGllbnQiOiJhZG1pbiJ9.forged.signature")
    assert client.get("/steward/").status_code == 303  # a forged cookie signs nobody in



class _VersionReads:
    """Runs of the current-versions statement on a VersionReader's connections: as PostgreSQL counts a prepared
    statement's executions in its session (pg_prepared_statements), as SQLite's trace of the connection sees them."""

    def __init__(self, reader: VersionReader) -> None:
        self.connections = list(reader._idle)
        self.traced = 0
        for conn in self.connections:
            if not hasattr(conn, "pgconn"):
                conn.set_trace_callback(self._seen)

    def _seen(self, statement: str) -> None:
        self.traced += "hub_loads" in statement

    def count(self) -> int:
        ran = self.traced
        for conn in self.connections:
            if hasattr(conn, "pgconn"):
                ran += int(conn.execute("SELECT coalesce(sum(generic_plans + custom_plans), 0) FROM "
                                        "pg_prepared_statements WHERE name = %s", (PREPARED.decode(),)).fetchone()[0])
        return ran

    def stop(self) -> None:
        for conn in self.connections:
            if not hasattr(conn, "pgconn"):
                conn.set_trace_callback(None)


@pytest.mark.parametrize("what", ["page", "record"])
def test_a_hot_keyed_answer_reads_the_current_versions_once(secured: Secured, what: str) -> None:
    """The key check reads the current versions of the dataset the URL names with the key generation, and the
    answer cache takes them from there: one round trip. The page of a dataset the OpenAPI document lists came
    through that dataset's own route, whose URL named no dataset_id, and read them a second time."""
    app = secured.app()
    client = app.test_client()
    headers = secured.headers("department")
    first = client.get("/api/v1/datasets/heritage-sites/records?limit=3", headers=headers).get_json()
    assert first["records"]
    url = {"page": "/api/v1/datasets/heritage-sites/records?limit=3",
           "record": f"/api/v1/datasets/heritage-sites/records/{first['records'][0]['code']}"}[what]
    assert client.get(url, headers=headers).status_code == 200  # now in the answer cache
    reads = _VersionReads(app.extensions["hub_versions"])
    try:
        before = reads.count()
        answers = [client.get(url, headers=headers) for _ in range(5)]
        ran = reads.count() - before
    finally:
        reads.stop()
    assert [a.status_code for a in answers] == [200] * 5
    # one round trip each, with the key check; none on PostgreSQL, where they are known from the answers
    # before and checked by the audit call (hub/optimistic.py)
    assert ran == (0 if secured.hub.store.dialect == "postgresql" else 5)


def test_query_parameters_answer_as_werkzeugs_without_raising_for_absent_names(secured: Secured) -> None:
    """hub/app.py's parameters skip werkzeug's exception for an absent name; every answer stays werkzeug's."""
    from flask import request
    from werkzeug.datastructures import ImmutableMultiDict

    with secured.app().test_request_context("/api/v1/datasets?a=1&b=x&a=2&e="):
        args = request.args
        assert isinstance(args, ImmutableMultiDict)
        assert args.get("c") is None and args.get("c", "d") == "d" and args.get("e") == ""
        assert args.get("a") == "1" and args.get("a", type=int) == 1 and args.getlist("a") == ["1", "2"]
        assert args.get("b", type=int) is None and args.get("b", 5, type=int) == 5 and args.get("c", 7, int) == 7
        assert "c" not in args and args["a"] == "1" and dict(args.items()) == {"a": "1", "b": "x", "e": ""}


def test_a_hook_made_for_one_request_runs_for_that_request_each_time(secured: Secured) -> None:
    """Whether a hook is a coroutine function is remembered (hub/app.py); a closure made per request (Flask's
    after_this_request) is still called, each request its own."""
    from flask import after_this_request

    app = secured.app()
    seen: list[int] = []

    @app.get("/__test/hook/<int:n>")
    def hooked(n: int) -> str:
        @after_this_request
        def mark(response):  # noqa: ANN001, ANN202 - Flask's hook
            seen.append(n)
            response.headers["X-Test-Hook"] = str(n)
            return response

        return "ok"

    client = app.test_client()
    assert [client.get(f"/__test/hook/{n}").headers["X-Test-Hook"] for n in (1, 2, 3)] == ["1", "2", "3"]
    assert seen == [1, 2, 3]


@pytest.mark.parametrize("caller", ["anonymous", "department", "department-personal"])
def test_a_cached_answer_is_the_built_answer_header_for_header(secured: Secured, caller: str) -> None:
    """Status, every header in order (but the rate limit's count) and the body of an answer from the answer
    cache are those of the answer built for the first caller, gzip or not."""
    client = secured.app(rate_limit=50).test_client()
    url = ("/api/v1/datasets/heritage-sites/records?limit=30" if caller == "anonymous"
           else f"/api/v1/datasets/{PERSONAL}/records?limit=30")
    for encoding in ("gzip", "identity"):
        headers = {**secured.headers(caller), "Accept-Encoding": encoding, "X-Request-ID": "req-0123456789"}
        client.application.extensions["hub_answers"].clear()
        built, cached = client.get(url, headers=headers), client.get(url, headers=headers)

        def shown(answer):  # noqa: ANN001, ANN202 - a test response
            return (answer.status_code, [(k, v) for k, v in answer.headers if k != "X-RateLimit-Remaining"],
                    answer.get_data())

        assert shown(built) == shown(cached)
        assert built.status_code == 200 and ("Content-Encoding" in built.headers) == (encoding == "gzip")
