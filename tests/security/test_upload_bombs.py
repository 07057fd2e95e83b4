"""Finding 2: crafted uploads are refused before parsing, with a clear bilingual 4xx, and the server stays up.

A JSON nesting bomb (ijson's memory grows with the square of the depth) and a workbook of many shared strings
(openpyxl holds them all) are counted first (ingest/readers/_jsoncheck.py, _zipcheck.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from core.config import PROJECT_ROOT
from tests.security.conftest import PERSONAL
from tests.security.workbooks import shared_strings_workbook


def post_file(client, headers: dict[str, str], path: Path, name: str):  # noqa: ANN001, ANN201
    with path.open("rb") as handle:
        return client.post(f"/api/v1/datasets/{PERSONAL}/uploads", headers=headers,
                           data={"file": (handle, name)}, content_type="multipart/form-data")


def assert_refused(answer, code: str) -> None:  # noqa: ANN001
    assert answer.status_code == 400, answer.get_data(as_text=True)[:500]
    body = answer.json
    assert body["code"] == code
    assert body["message"]["vi"] and body["message"]["en"] and body["message"]["vi"] != body["message"]["en"]


def test_json_nesting_bomb_is_refused_and_the_server_answers_after(attacked, attacked_client, tmp_path) -> None:
    bomb = tmp_path / "bomb.json"
    bomb.write_bytes(b"[" * 5000 + b"]" * 5000)
    assert_refused(post_file(attacked_client, attacked.headers("steward"), bomb, "bomb.json"), "json-too-deep")
    nested = tmp_path / "nested.json"  # a bomb inside a record, after a first good-looking one
    nested.write_bytes(b'[{"number": "1", "holder_name": "' + b"[" * 100 + b'"}, {"x": ' + b"{\"a\": " * 3000 +
                       b"1" + b"}" * 3000 + b"}]")
    assert_refused(post_file(attacked_client, attacked.headers("steward"), nested, "n.json"), "json-too-deep")
    assert attacked_client.get("/api/v1/datasets").status_code == 200


def test_json_bomb_of_the_finding_stays_within_a_small_memory_limit(tmp_path) -> None:
    """The 400 KB file of the report (200,000 deep), read by the JSON reader in a process limited to 1 GB of
    address space: refused cleanly instead of growing until the kernel kills it."""
    bomb = tmp_path / "bomb.json"
    bomb.write_bytes(b"[" * 200_000 + b"]" * 200_000)
    script = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from pathlib import Path
        from core.errors import InputError
        from ingest.headers import HeaderMatcher
        from ingest.readers.json import read_json
        try:
            read_json(Path({str(bomb)!r}), HeaderMatcher(dict(fields=[dict(name="a")])))
        except InputError as e:
            print(e.code)
            sys.exit(0)
        sys.exit(3)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "json-too-deep"


def test_workbook_of_too_many_shared_strings_is_refused(attacked, attacked_client, tmp_path) -> None:
    path = shared_strings_workbook(tmp_path / "strings.xlsx", 1_100_000)
    assert path.stat().st_size < 5 * 1024**2  # small, and under the zip-ratio cap
    assert_refused(post_file(attacked_client, attacked.headers("steward"), path, "strings.xlsx"), "xlsx-too-large")
    assert attacked_client.get("/api/v1/datasets").status_code == 200
