"""Personal data through the query layer: blanked values cannot be found by filtering, sorting or searching."""

from __future__ import annotations

import pytest

from publish import query
from publish.access import Viewer
from publish.context import Hub
from publish.query import Filter, Query, QueryError

DEPARTMENT = Viewer(name="so-ke-hoach", role="department")
GRANTED = Viewer(name="cong-an", role="department", personal=frozenset({"licences"}))


def _individual(sample_hub: Hub) -> dict:
    dataset = sample_hub.catalog.dataset("licences")
    rows = query.records(sample_hub.store, dataset, Query(limit=1000), GRANTED).rows
    return next(r for r in rows if r["holder_kind"] == "ca_nhan")


def test_individual_holder_names_are_blank_without_the_grant(sample_hub: Hub) -> None:
    dataset = sample_hub.catalog.dataset("licences")
    person = _individual(sample_hub)
    seen = query.get_record(sample_hub.store, dataset, person["number"], DEPARTMENT)
    assert seen["holder_name"] is None
    assert "holder_id_number" not in seen and "holder_phone" not in seen
    organisation = next(r for r in query.records(sample_hub.store, dataset, Query(limit=1000), DEPARTMENT).rows
                        if r["holder_kind"] == "to_chuc")
    assert organisation["holder_name"]


@pytest.mark.parametrize("probe", [
    Query(filters=[Filter("holder_name", "contains", "Nguyễn")]),
    Query(sort=[("holder_name", False)]),
    Query(filters=[Filter("holder_id_number", "eq", "0")]),
])
def test_blanked_personal_fields_cannot_be_probed_by_filter_or_sort(sample_hub: Hub, probe: Query) -> None:
    dataset = sample_hub.catalog.dataset("licences")
    with pytest.raises(QueryError):
        query.records(sample_hub.store, dataset, probe, DEPARTMENT)
    assert query.records(sample_hub.store, dataset, probe, GRANTED).rows is not None


def test_full_text_search_does_not_find_individuals_by_name(sample_hub: Hub) -> None:
    dataset = sample_hub.catalog.dataset("licences")
    person = _individual(sample_hub)
    found = query.records(sample_hub.store, dataset, Query(q=person["holder_name"]), GRANTED).rows
    assert person["number"] not in [r["number"] for r in found]
