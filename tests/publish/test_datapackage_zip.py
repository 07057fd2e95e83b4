"""The Data Package zip as unzip and file managers see it: readable files dated when the data was published."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from publish.context import Hub
from publish.exports import export_stream
from publish.metadata import dataset_facts


def test_zip_entries_are_0644_and_dated_when_the_version_was_published(sample_hub: Hub, tmp_path: Path) -> None:
    dataset = sample_hub.catalog.dataset("heritage-sites")
    published = dataset_facts(sample_hub.store, [dataset])[dataset.id].data_modified
    data = b"".join(export_stream(sample_hub.store, dataset, "zip"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = archive.infolist()
        assert [e.filename for e in entries] == ["data/heritage-sites.csv", "datapackage.json"]
        for entry in entries:
            assert (entry.external_attr >> 16) & 0o777 == 0o644, entry.filename
            local = published.replace(tzinfo=UTC).astimezone().replace(tzinfo=None)  # zip dates are local time
            assert abs(datetime(*entry.date_time) - local) < timedelta(seconds=2), entry.filename
    if shutil.which("unzip") is None:
        pytest.skip("no unzip on this machine")
    (tmp_path / "x.zip").write_bytes(data)
    subprocess.run(["unzip", "-q", str(tmp_path / "x.zip"), "-d", str(tmp_path / "out")], check=True)
    unpacked = tmp_path / "out" / "data" / "heritage-sites.csv"
    assert unpacked.stat().st_mode & 0o777 == 0o644
    assert abs(unpacked.stat().st_mtime - published.replace(tzinfo=UTC).timestamp()) < 2
