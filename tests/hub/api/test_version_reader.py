"""The current-version reader of the answer cache (publish/response_cache.py's VersionReader), on both backends:
it answers as the store does, for datasets without a version too, and a lost connection costs no answer."""

from __future__ import annotations

from publish.response_cache import VersionReader, current_versions
from tests.hub.api.conftest import Secured


def test_the_version_reader_agrees_with_the_store_and_survives_a_lost_connection(secured: Secured) -> None:
    store = secured.hub.store
    reader = VersionReader(store.read_engine)
    ids = [d.id for d in secured.hub.catalog] + ["no-such-dataset", 'odd "name" \\ here']
    expected = current_versions(store, ids)
    assert reader(store, ids) == expected and expected["heritage-sites"] >= 1 and expected["no-such-dataset"] == 0
    assert reader(store, ["heritage-sites"]) == {"heritage-sites": expected["heritage-sites"]}
    reader._local.conn.close()  # the kept connection is gone (a database restart, an idle timeout)
    assert reader(store, ids) == expected  # answered through the pool
    assert reader(store, ids) == expected  # and on a new kept connection
    assert reader._local.conn is not None
