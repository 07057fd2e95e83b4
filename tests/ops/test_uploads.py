"""POST /api/v1/datasets/<id>/uploads on the embedded default: the steward gets the load and its report."""

from __future__ import annotations

import uuid
from io import BytesIO
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from core.config import PROJECT_ROOT
from hub.app import create_app
from publish.context import Hub
from tests.ops.conftest import api_key, bearer

SAMPLES = PROJECT_ROOT / "samples"


@pytest.fixture
def client(communes_hub: Hub) -> FlaskClient:
    app = create_app(communes_hub.settings, hub=communes_hub)
    app.config["TESTING"] = True
    return app.test_client()


def send(client: FlaskClient, key: str | None, dataset: str, path: Path, name: str | None = None, **form: str):  # noqa: ANN201
    data = {"file": (BytesIO(path.read_bytes()), name or path.name), **form}
    return client.post(f"/api/v1/datasets/{dataset}/uploads", data=data, headers=bearer(key) if key else {},
                       content_type="multipart/form-data")


def test_steward_upload_is_loaded_and_reported(communes_hub: Hub, client: FlaskClient) -> None:
    steward = api_key(communes_hub, "steward")
    first = send(client, steward, "heritage-sites", SAMPLES / "heritage-sites.csv", name="Danh sách di tích.csv")
    assert first.status_code == 201, first.json
    assert first.json["load"]["version"] == 1 and first.json["load"]["rows_added"] == first.json["load"]["rows_loaded"]
    assert first.json["report"]["valid"] is True and first.json["job"]["status"] == "finished"
    assert first.json["job"]["params"]["source_name"] == "Danh sách di tích.csv"
    stored = Path(communes_hub.settings.storage_dir) / first.json["job"]["params"]["path"]
    assert stored.read_bytes() == (SAMPLES / "heritage-sites.csv").read_bytes()  # the load's provenance, kept
    again = send(client, steward, "heritage-sites", SAMPLES / "heritage-sites.csv")
    assert again.status_code == 200 and again.json["load"]["status"] == "unchanged"
    records = client.get("/api/v1/datasets/heritage-sites/records?limit=1").json
    assert records["version"] == 1 and records["total"] == first.json["load"]["rows_loaded"]


def test_refused_file_answers_422_with_the_report(communes_hub: Hub, client: FlaskClient) -> None:
    steward = api_key(communes_hub, "steward")
    refused = send(client, steward, "licences", SAMPLES / "messy" / "licences.csv")  # policy: reject
    assert refused.status_code == 422
    assert refused.json["code"] == "validation-failed" and refused.json["load"]["status"] == "rejected"
    errors = refused.json["report"]["tasks"][0]["errors"]
    assert errors and all(e["messages"]["vi"] for e in errors)
    assert client.get("/api/v1/datasets/licences", headers=bearer(steward)).json["version"] is None


def test_only_stewards_and_admins_may_upload(communes_hub: Hub, client: FlaskClient) -> None:
    source = SAMPLES / "sports-venues.csv"
    uploads = Path(communes_hub.settings.storage_dir) / "uploads" / "sports-venues"
    assert send(client, None, "sports-venues", source).status_code == 401
    assert send(client, api_key(communes_hub, "department"), "sports-venues", source).status_code == 403
    assert send(client, "hub_nothing_wrongkey", "sports-venues", source).status_code == 401
    assert not uploads.exists()  # refused before the file is read
    assert send(client, api_key(communes_hub, "admin"), "sports-venues", source).status_code == 201
    assert len(list(uploads.iterdir())) == 1


def test_bad_uploads_are_one_clear_answer(communes_hub: Hub, client: FlaskClient, tmp_path: Path) -> None:
    steward = api_key(communes_hub, "steward")
    unknown = send(client, steward, "no-such-dataset", SAMPLES / "heritage-sites.csv")
    assert unknown.status_code == 404
    missing = client.post("/api/v1/datasets/heritage-sites/uploads", headers=bearer(steward), data={},
                          content_type="multipart/form-data")
    assert missing.status_code == 400 and missing.json["context"]["field"] == "file"
    garbage = tmp_path / "di-tich.xlsx"
    garbage.write_bytes(b"not a workbook")
    unreadable = send(client, steward, "heritage-sites", garbage)
    assert unreadable.status_code == 400 and unreadable.json["message"]["vi"] and unreadable.json["message"]["en"]


def test_upload_over_the_limit_is_413(communes_hub: Hub, tmp_path: Path) -> None:
    app = create_app(communes_hub.settings.replace(max_upload_mb=1), hub=communes_hub)
    app.config["TESTING"] = True
    big = tmp_path / "big.csv"
    big.write_bytes(b"code,name\n" + b"DT-0001,x\n" * 150_000)
    answer = send(app.test_client(), api_key(communes_hub, "steward"), "heritage-sites", big)
    assert answer.status_code == 413
    assert "1 MB" in answer.json["message"]["en"]


def test_upload_is_documented_in_openapi(client: FlaskClient) -> None:
    spec = client.get("/api/v1/swagger.json").json
    post = spec["paths"]["/datasets/{dataset_id}/uploads"]["post"]
    assert {"201", "200", "202", "401", "403", "413", "422"} <= set(post["responses"])
    assert any(p["name"] == "file" and p["in"] == "formData" for p in post["parameters"])
    assert "/jobs/{job_id}" in spec["paths"]


def test_upload_that_would_empty_or_shrink_a_dataset_is_refused(communes_hub: Hub, client: FlaskClient,
                                                                 tmp_path: Path) -> None:
    steward = api_key(communes_hub, "steward")
    source = SAMPLES / "sports-venues.csv"
    assert send(client, steward, "sports-venues", source).status_code in (200, 201)
    total = client.get("/api/v1/datasets/sports-venues/records?limit=1").json["total"]
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    header_only = tmp_path / "header.csv"
    header_only.write_text(lines[0], encoding="utf-8")
    empty = send(client, steward, "sports-venues", header_only)
    assert empty.status_code == 422 and empty.json["code"] == "no-valid-rows"
    assert empty.json["message"]["vi"] and "no valid row" in empty.json["message"]["en"]
    part = tmp_path / "part.csv"
    part.write_text("".join(lines[:6]), encoding="utf-8")
    shrink = send(client, steward, "sports-venues", part)
    assert shrink.status_code == 422 and shrink.json["code"] == "shrink-refused", shrink.json
    assert shrink.json["context"]["removed"] == total - 5 and shrink.json["context"]["first_removed"]
    assert shrink.json["load"]["status"] == "rejected"
    assert client.get("/api/v1/datasets/sports-venues/records?limit=1").json["total"] == total  # still served
    upsert = send(client, steward, "sports-venues", part, mode="upsert")
    assert upsert.status_code == 200 and upsert.json["load"]["rows_removed"] == 0
    confirmed = send(client, steward, "sports-venues", part, allow_shrink="true")
    assert confirmed.status_code == 201 and confirmed.json["load"]["rows_removed"] == total - 5
    bad_scope = send(client, steward, "sports-venues", part, scope="nowhere=1")
    assert bad_scope.status_code == 400 and bad_scope.json["context"]["field"] == "scope"


def test_upload_that_cannot_be_queued_leaves_no_file(communes_hub: Hub, tmp_path: Path) -> None:
    # Redis configured but not answering: the job is recorded failed (503) and its file, which nothing will
    # ever read, is not kept in storage/uploads/.
    from tests.conftest import free_port

    settings = communes_hub.settings.replace(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    app = create_app(settings, hub=Hub(settings, communes_hub.catalog, communes_hub.store))
    app.config["TESTING"] = True
    name = f"unqueued-{uuid.uuid4().hex[:8]}.csv"
    answer = send(app.test_client(), api_key(communes_hub, "steward"), "heritage-sites",
                  SAMPLES / "heritage-sites.csv", name=name)
    assert answer.status_code == 503, answer.json
    assert "Redis" in answer.json["message"]["en"]
    uploads = Path(communes_hub.settings.storage_dir) / "uploads" / "heritage-sites"
    assert [p.name for p in uploads.glob(f"*{name}*")] == []
