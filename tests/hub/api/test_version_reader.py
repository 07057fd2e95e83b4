"""The current-version reader of the answer cache (publish/response_cache.py's VersionReader), on both backends:
it answers as the store does, for datasets without a version too, and a lost connection costs no answer."""

from __future__ import annotations

import threading

from publish.response_cache import VersionReader, current_versions
from tests.hub.api.conftest import Secured


def test_the_version_reader_agrees_with_the_store_and_survives_a_lost_connection(secured: Secured) -> None:
    store = secured.hub.store
    reader = VersionReader(store.read_engine)
    ids = [d.id for d in secured.hub.catalog] + ["no-such-dataset", 'odd "name" \\ here']
    expected = current_versions(store, ids)
    assert reader(store, ids) == expected and expected["heritage-sites"] >= 1 and expected["no-such-dataset"] == 0
    assert reader(store, ["heritage-sites"]) == {"heritage-sites": expected["heritage-sites"]}
    assert len(reader._idle) == 1  # one caller at a time: one connection, put back after each statement
    reader._idle[0].close()  # the kept connection is gone (a database restart, an idle timeout)
    assert reader(store, ids) == expected  # answered through the pool
    assert reader(store, ids) == expected  # and on a new kept connection
    assert len(reader._idle) == 1 and reader._idle[0] is not None


def test_threads_share_the_readers_connections(secured: Secured) -> None:
    """Threads asking one after another use the same connection (a worker holds as many as ask at once, not one
    per thread); on SQLite too, whose connections are made for the thread that opened them."""
    store = secured.hub.store
    reader = VersionReader(store.read_engine)
    expected = current_versions(store, ["heritage-sites"])
    got = [reader(store, ["heritage-sites"])]
    first = reader._idle[0]
    for _ in range(3):
        thread = threading.Thread(target=lambda: got.append(reader(store, ["heritage-sites"])))
        thread.start()
        thread.join()
    assert got == [expected] * 4 and reader._idle == [first]
