"""Versions, diff, rollback and the change feed, on both backends, through the library, real HTTP and the CLI."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hub.app import create_app
from publish import changes, clients, query, versions
from publish.access import Viewer
from publish.context import Hub
from publish.query import Query
from publish.rollback import rollback
from tests.conftest import LiveServer, free_port
from tests.publish.conftest import SAMPLES, hub_command, ingest, read_rows, write_rows

SITES = SAMPLES / "heritage-sites.csv"


def _rows_as_of(hub: Hub, dataset: str, version: int) -> list[tuple[Any, ...]]:
    """Every stored value of the rows of `version` (geometry as text), in key order."""
    table = hub.store.table(dataset)
    geometry = sa.func.ST_AsText(table.c._geom) if hub.store.dialect == "postgresql" else sa.func.AsText(table.c._geom)
    columns = [c for c in table.c if c.name not in ("_id", "_from", "_to", "_geom")]
    with hub.store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            sa.select(*columns, geometry).where(query.version_clause(table, version)).order_by(table.c._key))]


@pytest.fixture
def edited(units_loaded: Hub, tmp_path: Path) -> Hub:
    """heritage-sites v1 = the sample; v2 = three names edited, one site removed, one added."""
    hub = units_loaded
    assert ingest(hub, "heritage-sites", SITES).load.version == 1
    rows = read_rows(SITES)
    for row in rows[:3]:
        row["name"] += " (đã sửa)"
    rows.pop()
    added = dict(rows[5], code="DT-9001", name="Đình Mới Thêm")
    rows.append(added)
    assert ingest(hub, "heritage-sites", write_rows(tmp_path / "heritage-sites.csv", rows)).load.version == 2
    return hub


def test_change_feed_after_editing_three_rows_lists_exactly_those_three(units_loaded: Hub, tmp_path: Path) -> None:
    hub = units_loaded
    ingest(hub, "heritage-sites", SITES)
    rows = read_rows(SITES)
    for row in rows[10:13]:
        row["name"] += " (đã sửa)"
    ingest(hub, "heritage-sites", write_rows(tmp_path / "heritage-sites.csv", rows))
    page = changes.changes(hub.store, "heritage-sites", since=1)
    assert (page.since, page.until, page.next_cursor) == (1, 2, None)
    assert [(c.op, c.key, c.fields, c.version) for c in page.changes] == [
        ("changed", r["code"], ["name"], 2) for r in rows[10:13]]
    assert [c.record["name"] for c in page.changes] == [r["name"] for r in rows[10:13]]
    assert [c.before["name"] for c in page.changes] == [r["name"].removesuffix(" (đã sửa)") for r in rows[10:13]]


def test_rollback_restores_exactly_the_rows_of_the_earlier_version(edited: Hub) -> None:
    hub = edited
    result = rollback(hub.store, "heritage-sites", 1, user="steward")
    assert (result.status, result.version) == ("committed", 3)
    assert (result.rows_changed, result.rows_added, result.rows_removed) == (3, 1, 1)
    assert _rows_as_of(hub, "heritage-sites", 3) == _rows_as_of(hub, "heritage-sites", 1)
    assert _rows_as_of(hub, "heritage-sites", 2) != _rows_as_of(hub, "heritage-sites", 1)  # history kept
    latest = versions.versions(hub.store, "heritage-sites")[0]
    assert (latest["version"], latest["note"], latest["created_by"]) == (3, "rollback to 1", "steward")
    undo = changes.diff(hub.store, "heritage-sites", 2, 3)
    assert sorted(c.op for c in undo) == ["added", "changed", "changed", "changed", "removed"]
    again = rollback(hub.store, "heritage-sites", 1)
    assert (again.status, again.version) == ("unchanged", None)
    assert hub.store.current_version("heritage-sites") == 3


def test_change_feed_pages_keep_a_copy_in_sync(edited: Hub) -> None:
    hub = edited
    dataset = hub.catalog.dataset("heritage-sites")
    copy: dict[str, dict[str, Any]] = {}
    for since in (0, 1):  # a full copy of version 1, then what changed since
        page = changes.changes(hub.store, dataset, since, 1 if since == 0 else None, limit=7)
        while True:
            for change in page.changes:
                if change.op == "removed":
                    del copy[change.key]
                else:
                    copy[change.key] = change.record
            if not page.next_cursor:
                break
            page = changes.changes(hub.store, dataset, 0, limit=7, cursor=page.next_cursor)
    current = query.records(hub.store, dataset, Query(limit=1000)).rows
    assert copy == {r["code"]: r for r in current}


def test_rolling_back_to_a_version_that_does_not_exist_is_refused(edited: Hub) -> None:
    with pytest.raises(Exception, match="No version 7"):
        rollback(edited.store, "heritage-sites", 7)
    assert edited.store.current_version("heritage-sites") == 2


@pytest.fixture
def served(edited: Hub) -> Iterator[tuple[Hub, str]]:
    server = LiveServer(create_app(edited.settings, hub=edited), free_port()).start()
    yield edited, server.url
    server.stop()


def _get(url: str, key: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_change_feed_over_http_lists_changes_and_pages_with_a_cursor(served: tuple[Hub, str]) -> None:
    hub, url = served
    status, body = _get(f"{url}/api/v1/datasets/heritage-sites/changes?since=1&limit=3")
    assert status == 200 and (body["since"], body["until"]) == (1, 2)
    first = body["changes"]
    status, more = _get(body["next"])
    assert status == 200 and more["next_cursor"] is None
    ops = sorted(c["op"] for c in first + more["changes"])
    assert ops == ["added", "changed", "changed", "changed", "removed"]
    changed = [c for c in first + more["changes"] if c["op"] == "changed"]
    assert all(c["fields"] == ["name"] and c["record"]["name"].endswith("(đã sửa)") for c in changed)
    status, listing = _get(f"{url}/api/v1/datasets/heritage-sites/versions")
    assert status == 200 and [v["version"] for v in listing["versions"]] == [2, 1]
    assert listing["versions"][0]["source_sha256"] and listing["versions"][0]["rows_changed"] == 3
    assert _get(f"{url}/api/v1/datasets/heritage-sites/changes")[0] == 400  # since is required
    assert _get(f"{url}/api/v1/datasets/heritage-sites/changes?since=0&until=9")[0] == 404


def test_change_feed_hides_what_the_caller_may_not_see(served: tuple[Hub, str], tmp_path: Path) -> None:
    hub, url = served
    ingest(hub, "licences", SAMPLES / "licences.csv")
    assert _get(f"{url}/api/v1/datasets/licences/changes?since=0")[0] == 404  # shared: not for anonymous
    clients.create_client(hub.store, "so-ke-hoach")
    token = clients.issue_key(hub.store, "so-ke-hoach").token
    status, body = _get(f"{url}/api/v1/datasets/licences/changes?since=0&limit=1000", token)
    assert status == 200 and body["changes"]
    records = [c["record"] for c in body["changes"]]
    assert all("holder_id_number" not in r and "holder_phone" not in r for r in records)
    assert all(r["holder_name"] is None for r in records if r["holder_kind"] == "ca_nhan")
    assert any(r["holder_name"] for r in records if r["holder_kind"] != "ca_nhan")
    # a change to a personal field only is no change for a caller who cannot see it
    rows = read_rows(SAMPLES / "licences.csv")
    person = next(r for r in rows if r["holder_kind"] == "ca_nhan" and r["holder_id_number"])
    person["holder_id_number"] = "0" + person["holder_id_number"][1:] if person["holder_id_number"][0] != "0" \
        else "1" + person["holder_id_number"][1:]
    assert ingest(hub, "licences", write_rows(tmp_path / "licences.csv", rows)).load.rows_changed == 1
    status, body = _get(f"{url}/api/v1/datasets/licences/changes?since=1", token)
    assert (status, body["changes"]) == (200, [])
    granted = Viewer(name="so-cong-an", role="department", personal=frozenset({"licences"}))
    assert [c.fields for c in changes.changes(hub.store, "licences", 1, viewer=granted).changes] == [["holder_id_number"]]


def test_versions_diff_and_rollback_commands(edited: Hub) -> None:
    hub = edited
    listed = hub_command(hub, "versions", "heritage-sites").stdout
    assert "heritage-sites.csv" in listed
    diff = hub_command(hub, "diff", "heritage-sites", "1", "2").stdout
    assert "thêm/added 1, đổi/changed 3, xoá/removed 1" in diff and "(đã sửa)" in diff
    done = hub_command(hub, "rollback", "heritage-sites", "1", "--yes", "--user", "steward").stdout
    assert "3" in done and hub.store.current_version("heritage-sites") == 3
    missing = hub_command(hub, "rollback", "heritage-sites", "9", "--yes", check=False)
    assert missing.returncode == 8 and "No version 9" in missing.stderr
