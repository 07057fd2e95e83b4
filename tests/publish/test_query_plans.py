"""How pages are read: a filtered page walks the key index in order and stops after its rows, rather than
sorting every matching row (at 100,000 rows on SpatiaLite, 24 ms a page instead of under 1)."""

from __future__ import annotations

import pytest

from publish import query
from publish.context import Hub
from publish.db import create_engine
from publish.query import Filter, Query
from tests.conftest import statements_reading


def test_a_filtered_page_is_read_in_key_order_from_the_index_without_sorting_the_matches(sample_hub: Hub) -> None:
    store = sample_hub.store
    dataset = store.catalog.dataset("accommodation")
    table = store.table(dataset).name
    with statements_reading(store, table) as seen:
        page = query.records(store, dataset, Query(filters=[Filter("type", "eq", "khach_san")], limit=5))
    keys = [r["code"] for r in page.rows]
    assert keys and keys == sorted(keys) and len(seen) == 1
    statement, parameters = seen[0]
    with store.read_engine.connect() as conn, conn.begin():
        if store.dialect == "sqlite":
            plan = " ".join(str(row) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
            assert f"USING INDEX ix_{table}_" in plan and "TEMP B-TREE" not in plan, plan  # _current or _key
        else:  # PostgreSQL plans by cost and sorts a table this small: read the plan with sorting priced out
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                conn.exec_driver_sql(f"SET LOCAL {setting} = off")
            plan = " ".join(str(row) for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))
            assert f"ix_{table}_" in plan and "Sort" not in plan, plan  # _current or _key


def test_a_cursors_page_starts_from_its_row_in_the_key_index(sample_hub: Hub) -> None:
    """A page of a cursor walk is a range of the key index from the previous page's last row, not the rows
    before it skipped one by one (an offset)."""
    store = sample_hub.store
    dataset = store.catalog.dataset("accommodation")
    table = store.table(dataset).name
    cursor = query.records(store, dataset, Query(limit=50)).next_cursor
    assert cursor
    second = Query(limit=50)
    query.decode_cursor(cursor, dataset, second)
    with statements_reading(store, table) as seen:
        page = query.records(store, dataset, second)
    keys = [r["code"] for r in page.rows]
    assert len(keys) == 50 and keys == sorted(keys) and len(seen) == 1
    statement, parameters = seen[0]
    with store.read_engine.connect() as conn, conn.begin():
        if store.dialect == "sqlite":
            plan = " ".join(str(row) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
            assert f"USING INDEX ix_{table}_current (_key>?)" in plan and "TEMP B-TREE" not in plan, plan
        else:
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                conn.exec_driver_sql(f"SET LOCAL {setting} = off")
            plan = " ".join(str(row) for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))
            assert f"ix_{table}_current" in plan and "Index Cond: (_key >" in plan and "Sort" not in plan, plan


def test_postgresql_connections_run_without_jit_and_keep_the_urls_own_options(sample_hub: Hub) -> None:
    """PostgreSQL compiled a radius search's statement for 40-70 ms of its 100-170 (JIT: its plan is costed past
    jit_above_cost); the hub's connections turn JIT off, and an operator's `options` in the URL still apply
    after it (the tests' own synchronous_commit is one)."""
    store = sample_hub.store
    if store.dialect == "sqlite":
        pytest.skip("JIT is PostgreSQL's")
    with store.read_engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"  # the URL's options kept
    wanted = create_engine(str(store.read_engine.url.render_as_string(hide_password=False)) + "%20-c%20jit%3Don")
    with wanted.connect() as conn:
        assert conn.exec_driver_sql("SHOW jit").scalar() == "on"  # the operator's own choice wins
    wanted.dispose()
