"""Fuzzing every operation of the OpenAPI document (schemathesis, every check it has) against a live server:
no 5xx, every status and content type the API answers is one the document lists, every JSON answer matches its
documented schema (nullable fields declared so), values the document allows are accepted and values it forbids
are refused (positive and negative data).

Three runs, each with the document that caller is served: anonymous, a department's key and an admin's key
(which reaches the stewards' and admins' operations). Bounded to a few examples per operation and mode so the
file stays well under two minutes; the access rules themselves are the matrix's job (test_matrix.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import LiveServer, drop_schema, free_port
from tests.hub.api.conftest import Secured, make_secured

# caller -> examples per operation and generation mode: enough to hit odd values in every parameter
EXAMPLES = {"anonymous": 5, "department": 5, "admin": 3}
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
# The one operation whose valid requests are judged by content the document cannot describe: a file is
# readable and valid only by what is inside it (400 unreadable, 422 refused, both documented).
JUDGED_BY_CONTENT = "POST /datasets/{dataset_id}/uploads"


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Secured, LiveServer]]:
    secured, schema = make_secured("spatialite", Path(tmp_path_factory.mktemp("fuzz")))
    server = LiveServer(secured.app(), free_port()).start()
    yield secured, server
    server.stop()
    secured.hub.store.dispose()
    drop_schema(schema)


def _as_issued(current: dict[str, int | None]) -> Any:
    """Rules the document states in words that OpenAPI 2 cannot state in a schema, kept by positive cases: a
    cursor is only what an answer gave (forged ones are refused: tests/security), `since` is at most `until`
    (by default the dataset's current version, `current`), a grant of personal data names its purpose."""
    def keep(case: Any) -> Any:
        body = case.body if isinstance(case.body, dict) else {}
        if body.get("personal") is True and not str(body.get("purpose") or "").strip():
            body["purpose"] = "Kiểm thử / testing"
        query = case.query or {}
        query.pop("cursor", None)
        since = query.get("since")
        until = query.get("until", current.get((case.path_parameters or {}).get("dataset_id", "")) or 0)
        if isinstance(since, int) and isinstance(until, int) and since > until:
            query["since"] = until
        return case
    return keep


def _text_is_valid(text: str, param: dict[str, Any]) -> bool:
    """Whether one query value, as the text sent, keeps to its Swagger 2 parameter: type, enum, range, pattern,
    length, date format; arrays as comma-separated items (collectionFormat csv). Anything not understood here
    counts as invalid, so the guard below can only keep a failure, never invent a pass."""
    kind = param.get("type", "string")
    if kind == "array":
        items = text.split(",")
        return (param.get("collectionFormat", "csv") == "csv" and len(items) >= param.get("minItems", 0)
                and all(_text_is_valid(item, param.get("items", {})) for item in items))
    value: Any = text
    if kind == "integer":
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            return False
        value = int(text)
    elif kind == "number":
        try:
            value = float(text)
        except ValueError:
            return False
        if not math.isfinite(value):
            return False
    elif kind == "boolean":
        return text in ("true", "false") and ("enum" not in param or text in map(str, param["enum"]))
    elif kind != "string":
        return False
    if "enum" in param and value not in param["enum"]:
        return False
    if "minimum" in param and value < param["minimum"] or "maximum" in param and value > param["maximum"]:
        return False
    if kind == "string":
        if len(text) < param.get("minLength", 0) or len(text) > param.get("maxLength", len(text)):
            return False
        if "pattern" in param and not re.search(param["pattern"], text):
            return False
        if param.get("format") == "date":
            try:
                date.fromisoformat(text)
            except ValueError:
                return False
    return True


def _sent_as_valid(response: Any, parameters: dict[str, dict[str, Any]]) -> bool:
    """Whether the query actually sent keeps to the document, whatever invalid value was generated: a one-item
    list of numbers goes out as one number, an object given to a list of strings goes out as one string. Those
    are valid requests, and accepting them is right (schemathesis 4.32 misses the case where two such
    parameters are mutated in one request)."""
    sent = parse_qs(urlsplit(response.request.url).query, keep_blank_values=True)
    for name, texts in sent.items():
        param = parameters.get(name)
        if param is None or (len(texts) > 1 and param.get("type") != "array"):
            return False
        if not all(_text_is_valid(text, param) for text in texts):
            return False
    return True


def _query_parameters(spec: dict[str, Any], path: str, method: str) -> dict[str, dict[str, Any]]:
    item = spec["paths"].get(path, {})
    listed = item.get("parameters", []) + item.get(method.lower(), {}).get("parameters", [])
    return {p["name"]: p for p in listed if p.get("in") == "query"}


def _drive(strategy: Any, examples: int, headers: dict[str, str], excluded: list[Any],
           seen: list[tuple[str, int]], spec: dict[str, Any]) -> None:
    """Call the API with `examples` cases of `strategy` and run every check on each answer."""
    @given(case=strategy)
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        response = case.call(headers=headers, timeout=30)
        seen.append((case.operation.label, response.status_code))
        try:
            case.validate_response(response, headers=headers, excluded_checks=excluded)
        except BaseExceptionGroup as group:
            parameters = _query_parameters(spec, case.operation.path, case.operation.method)
            accepted_valid = all(isinstance(f, AcceptedNegativeData) for f in group.exceptions)
            if not (accepted_valid and _sent_as_valid(response, parameters)):
                raise

    check()


@pytest.mark.parametrize("caller", list(EXAMPLES))
def test_every_operation_keeps_to_the_document(fuzzed, caller: str) -> None:  # noqa: ANN001
    import requests

    # schemathesis's pytest plugin (from_fixture) does not run under pytest 9, so each operation's strategy is
    # driven by Hypothesis here, and every failure is collected before the test reports them all.
    secured, server = fuzzed
    headers = secured.headers(caller)
    api_schema = schemathesis.openapi.from_url(f"{server.url}/api/v1/swagger.json", headers=headers, timeout=30)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= (15 if caller == "admin" else 10)
    failures: list[str] = []
    seen: list[tuple[str, int]] = []
    current = {ds.id: secured.hub.store.current_version(ds.id) for ds in secured.hub.catalog}
    spec = requests.get(f"{server.url}/api/v1/swagger.json", headers=headers, timeout=30).json()

    for operation in operations:
        excluded = [positive_data_acceptance] if operation.label == JUDGED_BY_CONTENT else []
        for mode in MODES:
            strategy = operation.as_strategy(generation_mode=mode, headers=headers or None)  # the key: not fuzzed
            if mode is GenerationMode.POSITIVE:
                strategy = strategy.map(_as_issued(current))
            try:
                _drive(strategy, EXAMPLES[caller], headers, excluded, seen, spec)
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to make invalid: an operation without parameters
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - gathered, reported together below
                failures.append(f"{caller} {mode.value} {operation.label}: {str(exc)[:2000]}")
    assert failures == [], "\n\n".join(failures)
    assert {label for label, _ in seen} == {op.label for op in operations}  # every operation was called
    assert any(status == 200 for _, status in seen) and any(status == 400 for _, status in seen)


def test_the_document_types_parameters_and_records_from_the_schemas(fuzzed) -> None:  # noqa: ANN001
    import requests

    secured, server = fuzzed
    spec = requests.get(f"{server.url}/api/v1/swagger.json", timeout=30).json()
    params = {p["name"]: p for p in spec["paths"]["/datasets/accommodation/records"]["get"]["parameters"]}
    assert params["star_rank__gte"]["type"] == "integer" and params["lat__lt"]["type"] == "number"
    assert params["type"]["enum"][:2] == ["khach_san", "biet_thu_du_lich"]
    assert params["type__in"]["items"]["enum"] == params["type"]["enum"]
    assert params["limit"]["type"] == "integer" and params["limit"]["minimum"] == 1
    assert params["format"]["enum"] == ["json", "geojson", "csv"] and params["labels"]["enum"][:2] == ["on", "vi"]
    assert "-star_rank" in params["sort"]["items"]["enum"] and params["sort"]["collectionFormat"] == "csv"
    assert params["near"]["pattern"].startswith("^") and params["bom"]["type"] == "boolean"
    heritage = {p["name"]: p for p in spec["paths"]["/datasets/heritage-sites/records"]["get"]["parameters"]}
    assert heritage["decision_date__gte"]["format"] == "date"
    record = spec["definitions"]["Record_accommodation"]["properties"]
    assert record["star_rank"] == {**record["star_rank"], "type": "integer", "minimum": 1, "maximum": 5,
                                   "x-nullable": True}
    assert "x-nullable" not in record["name"] and record["type"]["enum"][0] == "khach_san"
    assert record["commune_name"]["x-nullable"] is True and record["distance_m"]["type"] == "number"
    produces = spec["paths"]["/datasets/accommodation/records"]["get"]["produces"]
    assert produces == ["application/json", "application/geo+json", "text/csv"]
    # open data needs no key, the admins' operations do
    assert {} in spec["security"] and "security" not in spec["paths"]["/datasets/accommodation/records"]["get"]
    assert spec["paths"]["/admin/clients"]["get"]["security"] == [{"bearer": []}]
    keyed = requests.get(f"{server.url}/api/v1/swagger.json", headers=secured.headers("department"), timeout=30)
    licences = {p["name"] for p in keyed.json()["paths"]["/datasets/licences/records"]["get"]["parameters"]}
    assert "holder_kind" in licences and not {"holder_id_number", "holder_name"} & licences  # hidden, blanked


def test_openapi_document_is_valid_and_describes_every_parameter_and_response(fuzzed) -> None:  # noqa: ANN001
    import jsonschema
    import requests
    from schemathesis.specs.openapi.definitions import SWAGGER_20

    secured, server = fuzzed
    for caller in ("anonymous", "admin"):
        spec = requests.get(f"{server.url}/api/v1/swagger.json", headers=secured.headers(caller), timeout=30).json()
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
                missing += [f"{where}: response {code}" for code, r in op["responses"].items()
                            if not r.get("description")]
                missing += [f"{where}: no {code}" for code in ("401", "429") if code not in op["responses"]]
        assert missing == []


def test_the_docs_page_fits_a_phone_speaks_vietnamese_and_leads_home(fuzzed) -> None:  # noqa: ANN001
    import requests

    _, server = fuzzed
    page = requests.get(f"{server.url}/api/v1/docs", timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert '<html lang="vi">' in html and '<meta name="viewport" content="width=device-width' in html
    assert 'id="home-link"' in html and 'href="/"' in html
    assets = [a for a in html.split('"') if a.endswith((".js", ".css"))]
    assert assets and all(a.startswith("/swaggerui/") for a in assets)  # flask-restx's own copy: no CDN
    for asset in assets:
        assert requests.get(f"{server.url}{asset}", timeout=30).status_code == 200


def test_the_docs_page_on_a_phone_shows_the_operations_without_sideways_scroll(fuzzed, browser) -> None:  # noqa: ANN001
    from tests.steward.browser import new_page, screenshot

    _, server = fuzzed
    phone = new_page(browser, viewport={"width": 360, "height": 740})
    try:
        phone.goto(f"{server.url}/api/v1/docs")
        phone.wait_for_selector(".opblock-tag")  # swagger-ui ran and read the document
        screenshot(phone, "api-docs-phone")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
        assert phone.problems == []  # no script error, no asset refused by the page's policy
        phone.locator("#home-link").click()  # back to the catalogue
        phone.wait_for_url(f"{server.url}/")
    finally:
        phone.context.close()
