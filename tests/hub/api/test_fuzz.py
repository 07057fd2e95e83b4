"""Fuzzing every operation of the OpenAPI document (schemathesis) against a live server: no 5xx, and every
status the API answers is one the document lists.

Bounded to a few examples per operation so the whole file stays well under two minutes. Calls are made mostly
with an admin key, which reaches every endpoint (stewards' and admins' too), some as a department and some
anonymous; the access rules themselves are the matrix's job (test_matrix.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from tests.conftest import LiveServer, drop_schema, free_port
from tests.hub.api.conftest import Secured, make_secured

EXAMPLES = 8  # per operation: enough to hit odd values in every parameter, small enough for CI


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Secured, LiveServer]]:
    secured, schema = make_secured("spatialite", Path(tmp_path_factory.mktemp("fuzz")))
    server = LiveServer(secured.app(), free_port()).start()
    yield secured, server
    server.stop()
    secured.hub.store.dispose()
    drop_schema(schema)


@pytest.fixture(scope="module")
def api_schema(fuzzed: tuple[Secured, LiveServer]):  # noqa: ANN201 - a schemathesis schema
    _, server = fuzzed
    return schemathesis.openapi.from_url(f"{server.url}/api/v1/swagger.json")


def test_no_operation_answers_5xx_or_an_undocumented_status(api_schema, fuzzed) -> None:  # noqa: ANN001
    # schemathesis's pytest plugin (from_fixture) does not run under pytest 9, so each operation's strategy is
    # driven by Hypothesis here, and every failure is collected before the test reports them all.
    secured, _ = fuzzed
    callers = itertools.cycle([secured.headers(c) for c in ("admin", "admin", "department", "anonymous")])
    failures: list[str] = []
    seen: list[tuple[str, int]] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case) -> None:  # noqa: ANN001
            response = case.call(headers=next(callers), timeout=30)
            seen.append((case.operation.label, response.status_code))
            case.validate_response(response, checks=[not_a_server_error, status_code_conformance])

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - gathered, reported together below
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert failures == [], "\n\n".join(failures)
    assert {label for label, _ in seen} == {op.label for op in operations}  # every operation was called
    assert any(status == 200 for _, status in seen) and any(status == 400 for _, status in seen)


def test_openapi_document_is_valid_and_describes_every_parameter_and_response(fuzzed) -> None:  # noqa: ANN001
    import jsonschema
    import requests
    from schemathesis.specs.openapi.definitions import SWAGGER_20

    _, server = fuzzed
    spec = requests.get(f"{server.url}/api/v1/swagger.json", timeout=30).json()
    assert list(jsonschema.Draft4Validator(SWAGGER_20).iter_errors(spec)) == []
    missing = []
    for path, operations in spec["paths"].items():
        shared = operations.get("parameters", [])
        for method, op in operations.items():
            if method == "parameters":
                continue
            where = f"{method.upper()} {path}"
            missing += [f"{where}: summary"] if not op.get("summary") else []
            missing += [f"{where}: parameter {p['name']}" for p in shared + op.get("parameters", [])
                        if not p.get("description")]
            missing += [f"{where}: response {code}" for code, r in op["responses"].items() if not r.get("description")]
            missing += [f"{where}: no {code}" for code in ("401", "429") if code not in op["responses"]]
    assert missing == []
