"""Faults end in one clear line and the documented exit status, and leave the published data as it was, byte
for byte (tests/publish/snapshot.py): a held SQLite write lock (exit 7), a full disk and a read-only folder
(exit 4). The held dataset lock on both backends and kill -9 at each stage of a load are in
tests/publish/test_crash_stages.py. Under CI a missing capability (root for tmpfs) fails instead of skipping."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.config import Settings
from publish import pipeline
from publish.context import Hub
from tests.ops.conftest import require
from tests.publish.conftest import ROOT, SAMPLES
from tests.publish.snapshot import download, later_rows, version_bytes


def hub_run(hub: Hub, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ, HUB_DATABASE_URL=hub.settings.database_url, HUB_STORAGE_DIR=str(hub.settings.storage_dir),
                   HUB_SECRET_KEY="test-secret", HUB_LOG_LEVEL="WARNING", **env)
    return subprocess.run([sys.executable, "-m", "hub", *args], env=environ, cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def test_sqlite_load_while_another_process_holds_the_write_lock_exits_7(tmp_path: Path) -> None:
    import sqlean

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'hub.db'}", storage_dir=tmp_path / "storage",
                        secret_key="test-secret")
    hub = Hub.open(settings, init=True)
    pipeline.run(hub.store, "admin-units", SAMPLES / "admin-units.geojson")
    assert pipeline.run(hub.store, "sports-venues", SAMPLES / "sports-venues.csv").status == "committed"
    served = version_bytes(hub.store, "sports-venues", 1)
    holder = sqlean.connect(str(tmp_path / "hub.db"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer (a load, a backup, sqlite3 in a terminal) holds the lock
    try:
        done = hub_run(hub, "ingest", "sports-venues", str(SAMPLES / "messy" / "sports-venues.csv"),
                       HUB_LOCK_TIMEOUT="2")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 7, done.stderr
    line = one_line(done)
    assert "đang được nạp bởi tiến trình khác" in line and "try again later" in line
    assert version_bytes(hub.store, "sports-venues", 1) == served
    assert later_rows(hub.store, "sports-venues", 1) == 0
    with hub.store.engine.connect() as conn:
        running = conn.exec_driver_sql("SELECT count(*) FROM hub_loads WHERE status = 'running'").scalar()
    assert running == 0
    hub.store.dispose()


@contextmanager
def small_disk(folder: Path, size: str = "1m", *, read_only: bool = False) -> Iterator[Path]:
    """A tmpfs of `size` at `folder`, unmounted afterwards. Mounting needs root: without it the test is skipped,
    and fails under CI (tests/ops/conftest.py `require`), so `make test` there never passes without it."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        require("mounting a small tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        require(f"mounting a small tmpfs failed: {mounted.stderr.strip()}")
    try:
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(folder: Path) -> None:
    """Use up every free byte of the file system under `folder`."""
    try:
        with (folder / "filler").open("wb") as handle:
            while True:
                handle.write(b"\0" * (1 << 16))
                handle.flush()
    except OSError:  # full (perhaps already: then not even the file can be made)
        pass
    for size in (4096, 512, 1):  # the last few blocks too
        try:
            with (folder / f"filler-{size}").open("wb") as handle:
                while True:
                    handle.write(b"\0" * size)
                    handle.flush()
        except OSError:
            pass


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if "part" in p.name)


@pytest.fixture
def venues(hub: Hub) -> Hub:
    pipeline.run(hub.store, "admin-units", SAMPLES / "admin-units.geojson")
    assert pipeline.run(hub.store, "sports-venues", SAMPLES / "sports-venues.csv").status == "committed"
    return hub


def test_full_disk_and_read_only_folder_end_in_one_line_and_exit_4(venues: Hub, tmp_path: Path) -> None:
    edited = tmp_path / "venues.csv"
    edited.write_text((SAMPLES / "sports-venues.csv").read_text(encoding="utf-8").replace("Sân vận động Đồng Nai",
                      "Sân vận động tỉnh Đồng Nai", 1), encoding="utf-8")
    served = version_bytes(venues.store, "sports-venues", 1)
    with small_disk(tmp_path / "full") as full:
        fill(full)
        report = hub_run(venues, "ingest", "sports-venues", str(edited), "--out", str(full / "out"))
        assert report.returncode == 4 and "disk is full" in one_line(report)
        export = hub_run(venues, "export", "sports-venues", "-o", str(full / "venues.csv"))
        assert export.returncode == 4 and "disk is full" in one_line(export)
        backup = hub_run(venues, "backup", str(full) + "/backups/")
        assert backup.returncode == 4 and "disk is full" in one_line(backup)
        assert leftovers(full) == [] and not (full / "venues.csv").exists()
        assert not list(full.rglob("*.zip"))
        from hub.ops import check_storage  # `hub check-config`'s storage check

        assert check_storage(full).startswith("error") and not (full / ".write-probe").exists()
    with small_disk(tmp_path / "ro", read_only=True) as read_only:
        export = hub_run(venues, "export", "sports-venues", "-o", str(read_only / "venues.csv"))
        assert export.returncode == 4 and "read-only" in one_line(export)
    # the database was never the problem: the load committed whole (then its report could not be written), and
    # version 1 is as it was, byte for byte
    assert venues.store.current_version("sports-venues") == 2
    assert version_bytes(venues.store, "sports-venues", 1) == served
    assert "Sân vận động tỉnh Đồng Nai" in download(venues.store, "sports-venues", 2).decode("utf-8")
    assert later_rows(venues.store, "sports-venues", 2) == 0


def test_upload_with_storage_full_answers_507_and_leaves_nothing(venues: Hub, tmp_path: Path) -> None:
    from hub.app import create_app
    from tests.ops.conftest import api_key, bearer

    with small_disk(tmp_path / "storage") as storage:
        settings = venues.settings.replace(storage_dir=storage)
        app = create_app(settings, hub=Hub(settings, venues.catalog, venues.store))
        app.config["TESTING"] = True
        key = api_key(venues, "steward")
        fill(storage)
        before = version_bytes(venues.store, "sports-venues", 1)
        answer = app.test_client().post(
            "/api/v1/datasets/sports-venues/uploads", headers=bearer(key), content_type="multipart/form-data",
            data={"file": (io.BytesIO((SAMPLES / "sports-venues.csv").read_bytes() * 40), "venues.csv")})
        assert answer.status_code == 507, answer.json
        assert answer.json["code"] == "storage-error" and "disk is full" in answer.json["message"]["en"]
        assert leftovers(storage) == [] and not list((storage / "uploads").rglob("*.csv"))
        assert version_bytes(venues.store, "sports-venues", 1) == before
        assert later_rows(venues.store, "sports-venues", 1) == 0


def test_sqlite_database_or_disk_is_full_exits_4_and_keeps_the_version(tmp_path: Path) -> None:
    with small_disk(tmp_path / "db", size="48m") as folder:
        settings = Settings(database_url=f"sqlite:///{folder / 'hub.db'}", storage_dir=tmp_path / "storage",
                            secret_key="test-secret")
        hub = Hub.open(settings, init=True)
        try:
            pipeline.run(hub.store, "admin-units", SAMPLES / "admin-units.geojson")
            assert pipeline.run(hub.store, "sports-venues", SAMPLES / "sports-venues.csv").status == "committed"
            before = version_bytes(hub.store, "sports-venues", 1)
            with hub.store.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            fill(folder)
            done = hub_run(hub, "ingest", "accommodation", str(SAMPLES / "accommodation.csv"))
            assert done.returncode == 4, done.stderr
            assert "disk is full" in one_line(done)
            for name in ("filler", "filler-4096", "filler-512", "filler-1"):
                (folder / name).unlink(missing_ok=True)
            assert version_bytes(hub.store, "sports-venues", 1) == before
            assert hub.store.current_version("accommodation") is None
        finally:
            hub.store.dispose()


def test_sqlite_wal_is_cut_back_after_a_load(tmp_path: Path) -> None:
    """A load's write-ahead log does not stay on disk at its size (it grew to 556 MB after large loads)."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'hub.db'}", storage_dir=tmp_path / "storage",
                        secret_key="test-secret")
    hub = Hub.open(settings, init=True)
    try:
        assert pipeline.run(hub.store, "admin-units", SAMPLES / "admin-units.geojson").status == "committed"
        wal = tmp_path / "hub.db-wal"
        assert not wal.exists() or wal.stat().st_size == 0  # the communes' boundaries: megabytes of WAL, cut
        assert pipeline.run(hub.store, "sports-venues", SAMPLES / "sports-venues.csv").status == "committed"
        assert not wal.exists() or wal.stat().st_size == 0
    finally:
        hub.store.dispose()
