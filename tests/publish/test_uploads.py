"""One upload saver (publish.uploads.save_upload) for the API and the steward workspace: a file the hub cannot
read, or an empty one, is refused the same way on both, before anything is kept; the readable formats come from
ingest's own list."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from core.errors import InputError
from hub.app import create_app
from ingest.pipeline import FORMATS, READABLE
from publish import clients, workspace
from publish.context import Hub
from publish.uploads import SUFFIXES, safe_name, save_upload
from tests.publish.conftest import SAMPLES


def test_safe_names_keep_vietnamese_names_readable_and_stay_in_their_folder() -> None:
    assert safe_name("Di tích (bản 2).csv") == "Di_tich_ban_2_.csv"
    assert safe_name("Đình.xlsx") == "Dinh.xlsx"
    assert safe_name("..\\..\\etc/passwd.csv") == "passwd.csv"
    assert safe_name("的.json") == "upload.json"
    assert len(safe_name("x" * 300 + ".csv")) == 200 and safe_name("x" * 300 + ".csv").endswith(".csv")


def test_the_readable_formats_are_ingests() -> None:
    assert set(READABLE) == set(FORMATS.values()) == {"csv", "xlsx", "xls", "json", "geojson"}
    assert SUFFIXES == tuple(FORMATS)


def test_save_upload_refuses_before_keeping_anything(tmp_path: Path) -> None:
    with pytest.raises(InputError) as refused:
        save_upload(io.BytesIO(b"%PDF-1.7"), "ghi chú.pdf", tmp_path / "a")
    assert refused.value.code == "unsupported-format" and "CSV, XLSX, XLS, JSON, GeoJSON" in str(refused.value.to_dict())
    assert not (tmp_path / "a").exists()
    with pytest.raises(InputError, match="empty|rỗng"):
        save_upload(io.BytesIO(b""), "di-tich.csv", tmp_path / "b")
    assert list((tmp_path / "b").iterdir()) == []
    saved = save_upload(io.BytesIO(b"a;b\n1;2\n"), "Bảng.tsv", tmp_path / "c", prefix="1-")
    assert saved.path == tmp_path / "c" / "1-Bang.tsv" and saved.format == "csv" and saved.source_name == "Bảng.tsv"
    assert saved.path.read_bytes() == b"a;b\n1;2\n" and [p.name for p in saved.path.parent.iterdir()] == ["1-Bang.tsv"]


def test_api_and_workspace_refuse_an_unreadable_file_with_the_same_words(hub: Hub) -> None:
    clients.create_client(hub.store, "so-vhttdl", "steward")
    token = clients.issue_key(hub.store, "so-vhttdl").token
    app = create_app(hub.settings, hub=hub)
    app.config["TESTING"] = True
    answer = app.test_client().post("/api/v1/datasets/heritage-sites/uploads",
                                    headers={"Authorization": f"Bearer {token}"},
                                    data={"file": (io.BytesIO(b"%PDF-1.7"), "ghi chú.pdf")},
                                    content_type="multipart/form-data")
    assert answer.status_code == 400
    api_message = answer.get_json()["message"]
    with pytest.raises(InputError) as refused:
        workspace.create(hub, "heritage-sites", io.BytesIO(b"%PDF-1.7"), "ghi chú.pdf", "so-vhttdl")
    assert refused.value.to_dict()["message"] == api_message
    assert "Unsupported file format" in api_message["en"] and "Không hỗ trợ" in api_message["vi"]
    storage = Path(hub.settings.storage_dir)
    kept = [p for p in storage.rglob("*") if p.is_file() and "uploads" in p.parts]
    assert kept == []  # neither kept the refused file

    # a readable file is kept by both, under the same safe name
    item = workspace.create(hub, "heritage-sites", (SAMPLES / "heritage-sites.csv").open("rb"), "Di tích.csv",
                            "so-vhttdl")
    assert item.file == "source/Di_tich.csv" and item.source_name == "Di tích.csv"
