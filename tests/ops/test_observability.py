"""Request ids, JSON logs and Prometheus metrics, as an operator reads them."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hub.observability import JsonFormatter


def samples(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:  # noqa: ANN001
    text = client.get("/metrics").get_data(as_text=True)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def json_lines() -> list[str]:
    """What the hub's loggers write, formatted as in production."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Keep()
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("hub.request")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_request_id_is_echoed_or_made(sample_client) -> None:  # noqa: ANN001
    given = sample_client.get("/healthz", headers={"X-Request-ID": "so-vhttdl-20261127-0001"})
    assert given.headers["X-Request-ID"] == "so-vhttdl-20261127-0001"
    made = sample_client.get("/healthz")
    assert len(made.headers["X-Request-ID"]) == 32
    made_id = uuid.UUID(hex=made.headers["X-Request-ID"])  # a version 4 UUID's hex, as uuid.uuid4().hex gives
    assert made_id.version == 4 and made_id.variant == uuid.RFC_4122 and made_id.hex == made.headers["X-Request-ID"]
    hostile = sample_client.get("/healthz", headers={"X-Request-ID": "x\" onload=alert(1) " + "a" * 200})
    assert hostile.headers["X-Request-ID"] != hostile.request.headers["X-Request-ID"]
    assert len({given.headers["X-Request-ID"], made.headers["X-Request-ID"], hostile.headers["X-Request-ID"]}) == 3


def test_each_request_is_one_json_log_line_with_its_id(sample_client, json_lines: list[str]) -> None:  # noqa: ANN001
    answer = sample_client.get("/api/v1/datasets/heritage-sites/records?limit=2", headers={"X-Request-ID": "trace-123456"})
    [line] = [json.loads(x) for x in json_lines if "trace-123456" in x]
    assert line["request_id"] == "trace-123456" and line["status"] == answer.status_code == 200
    assert line["route"] == "/api/v1/datasets/heritage-sites/records" and line["method"] == "GET"
    assert line["level"] == "INFO" and line["ts"].endswith("Z") and line["duration_ms"] >= 0


def test_a_log_line_keeps_what_json_can_write(json_lines: list[str]) -> None:
    # orjson writes the lines; what it refuses (an integer past 64 bits) still makes its line, as json wrote it
    log = logging.getLogger("hub.request")
    log.info("Đã nạp %s", "di tích", extra={"rows": 2**70, "when": uuid.UUID(int=7)})
    log.info("ok", extra={"rows": 3, "ratio": 0.5})
    first, second = (json.loads(x) for x in json_lines)
    assert first["message"] == "Đã nạp di tích" and first["rows"] == 2**70 and first["when"] == str(uuid.UUID(int=7))
    assert second["rows"] == 3 and second["ratio"] == 0.5


def test_metrics_count_requests_by_route_and_status(sample_client) -> None:  # noqa: ANN001
    before = samples(sample_client)
    for _ in range(3):
        sample_client.get("/api/v1/datasets/heritage-sites/records/DT-9999")
    sample_client.get("/no/such/page/anywhere")
    after = samples(sample_client)
    route = "/api/v1/datasets/<string:dataset_id>/records/<path:key>"
    labels = {"method": "GET", "route": route, "status": "404"}
    assert value(after, "hub_http_requests_total", **labels) - value(before, "hub_http_requests_total", **labels) == 3
    timed = {"method": "GET", "route": route}
    assert value(after, "hub_http_request_duration_seconds_count", **timed) >= 3
    assert not any("/no/such/page" in str(key) for key in after)  # unknown paths share one series
    assert value(after, "hub_http_requests_total", method="GET", route="<unmatched>", status="404") >= 1


def test_metrics_count_loads_and_rows_from_the_database(sample_client, sample_hub) -> None:  # noqa: ANN001
    found = samples(sample_client)
    assert value(found, "hub_store_up") == 1
    for dataset in sample_hub.catalog:  # a scrape without an admin key names only open datasets (issue 23)
        if dataset.report:  # a report's statistics dataset: no report produced in the sample hub
            continue
        if dataset.access != "open":
            assert value(found, "hub_loads_total", dataset=dataset.id, status="committed") == 0.0
            continue
        assert value(found, "hub_loads_total", dataset=dataset.id, status="committed") == 1
        assert value(found, "hub_dataset_version", dataset=dataset.id) == 1
    loaded = value(found, "hub_load_rows_total", dataset="heritage-sites", kind="loaded")
    assert loaded == sample_client.get("/api/v1/datasets/heritage-sites/records?limit=1").json["total"]
