"""An audit entry written on condition (publish.audit.append_if): only if the key generation and the current
versions it names are still those when it is committed, in the same transaction under the chain's lock; else
nothing is written and the caller learns what the database holds. PostgreSQL's append function only: anywhere
else nothing is written on condition (the caller answers the way that needs none)."""

from __future__ import annotations

import sqlalchemy as sa

from publish import audit, audit_writer, tables
from publish.context import Hub


def _generation(hub: Hub) -> int:
    with hub.store.engine.connect() as conn:
        return int(conn.execute(sa.select(tables.key_generation.c.n).where(tables.key_generation.c.id == 1))
                   .scalar_one())


def _entry(path: str) -> dict[str, object]:
    return {"client": "tests", "method": "GET", "path": path, "status": 200, "dataset": "heritage-sites"}


def test_an_entry_on_condition_is_written_only_while_its_condition_holds(hub: Hub) -> None:
    audit.append(hub.store, **_entry("/first"))  # opens the writer's connection
    generation = _generation(hub)
    if not audit_writer.conditional(hub.store.audit_engine):  # SQLite: nothing is written on condition
        assert audit.append_if(hub.store, generation, {"heritage-sites": 0}, **_entry("/if")) == (None, None)
        assert [e["path"] for e in audit.entries(hub.store)] == ["/first"]
        return
    held = audit.append_if(hub.store, generation, {"heritage-sites": 0}, **_entry("/held"))
    assert held[0] is not None and held[1] == (generation, {"heritage-sites": 0})
    stale_key = audit.append_if(hub.store, generation - 1, {"heritage-sites": 0}, **_entry("/stale-key"))
    assert stale_key == (None, (generation, {"heritage-sites": 0}))
    stale_version = audit.append_if(hub.store, generation, {"heritage-sites": 1, "licences": 0},
                                    **_entry("/stale-version"))
    assert stale_version == (None, (generation, {"heritage-sites": 0, "licences": 0}))
    # one batch of entries with and without conditions: the chain holds those written, in order, and verifies
    conn = audit_writer._Connection(hub.store.audit_engine)
    try:
        written, state = conn.write([audit._clean(_entry(f"/batch{n}")) for n in range(4)], audit.key_of(hub.store),
                                    [None, (generation + 1, {}), (generation, {"heritage-sites": 0}), None])
    finally:
        conn.close()
    assert [w is not None for w in written] == [True, False, True, True] and state == (generation, {"heritage-sites": 0})
    logged = audit.entries(hub.store)[::-1]  # (newest first)
    assert [e["path"] for e in logged] == ["/first", "/held", "/batch0", "/batch2", "/batch3"]
    assert audit.verify(hub.store).ok
