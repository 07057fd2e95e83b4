"""hub/ is interfaces only: no SQL or DDL text in it, and the SQLAlchemy statements still there may only go.

Queries and loads live in publish/ (or lower); a front end parses the request, calls publish/ and renders.
SQL text (sa.text, exec_driver_sql, a string starting with a SQL verb) is refused everywhere in hub/. SQLAlchemy
Core statements (select(...), table.insert()/update()/delete()) are refused too, except in the files of
`NOT_MOVED_YET`, which may only shrink: a file listed there that no longer holds one fails the test, so the list
is kept true."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SQL_TEXT = re.compile(
    r"\bsa\.text\(|\bsqlalchemy\.text\(|from sqlalchemy import[^\n]*\btext\b|exec_driver_sql|"
    r"[\"'](?:SELECT|INSERT INTO|UPDATE|DELETE FROM|CREATE|DROP|ALTER|TRUNCATE|WITH)\s")
STATEMENTS = re.compile(r"\b(?:sa\.|sqlalchemy\.)?select\(|\.(?:insert|update|delete)\(\)|\bsa\.func\.|"
                        r"from sqlalchemy(?:\.dialects\.\w+)? import[^\n]*\b(?:select|insert|update|delete)\b")

# storage code still under hub/: none left (the CKAN federation's tables and the job table moved to publish/)
NOT_MOVED_YET: set[str] = set()


def _hub_files() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in sorted((ROOT / "hub").rglob("*.py"))}


def test_the_patterns_find_what_they_look_for() -> None:
    assert SQL_TEXT.search('conn.exec_driver_sql(f"CREATE TABLE {TABLE} (dataset text)")')
    assert SQL_TEXT.search('conn.execute(sa.text("SELECT 1"))')
    assert SQL_TEXT.search("stmt = text('DELETE FROM hub_loads')")
    assert STATEMENTS.search("conn.execute(sa.select(t.c.id).where(t.c.id == 1))")
    assert STATEMENTS.search("conn.execute(tables.jobs.insert().values(id=1))")
    assert not SQL_TEXT.search('flash("Select a file")') and not STATEMENTS.search("request.form.get('select')")


def test_no_sql_text_in_hub() -> None:
    found = [f"{path}:{text[:m.start()].count(chr(10)) + 1}: {m.group(0)}"
             for path, text in _hub_files().items() for m in SQL_TEXT.finditer(text)]
    assert found == [], "SQL text in hub/ (move it to publish/):\n" + "\n".join(found)


def test_no_sqlalchemy_statements_in_hub_beyond_the_files_not_moved_yet() -> None:
    holding = {path for path, text in _hub_files().items() if STATEMENTS.search(text)}
    assert holding - NOT_MOVED_YET == set(), "queries in hub/ (move them to publish/)"
    assert NOT_MOVED_YET - holding == set(), "no longer holds a query: take it off NOT_MOVED_YET"
