"""The catalogue search also looks inside the records: "Biên Hòa" names no dataset, but 21 heritage sites and
several hotels mention it, and a ward of that name holds some of them.

For each dataset the viewer may see, two counts (each from publish.query.records, so access rules, personal-data
rules and the versioned count cache apply as everywhere):
- records whose search text holds every word of the query (the preview's `q`);
- when the query is the name of a referenced record (a ward or commune: publish.labels), the records whose
  foreign key points at it (`<field>=<key>`, the preview's filter spelt as the API's), the exact answer to "in
  this ward".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.catalog import Catalog, Dataset
from core.text import search_words
from publish.access import ANONYMOUS, Viewer, can_see_dataset, sees_personal
from publish.labels import names_for, references
from publish.query import Filter, Query, QueryError, records
from publish.store import Store

__all__ = ["PlaceMatch", "RecordMatches", "record_matches"]


@dataclass(frozen=True)
class PlaceMatch:
    """The records of `dataset` whose `field` is `key` (the referenced record named `name`)."""

    dataset: Dataset
    field: str
    key: str
    name: str
    count: int


@dataclass
class RecordMatches:
    text: list[tuple[Dataset, int]] = field(default_factory=list)  # (dataset, records matching the words)
    places: list[PlaceMatch] = field(default_factory=list)


def _searchable(dataset: Dataset, viewer: Viewer) -> bool:
    """The API refuses a full-text search over personal fields to a caller without the grant: so does this."""
    return sees_personal(dataset, viewer) or not any(
        dataset.schema.field(n).personal for n in dataset.schema.search_fields)


def record_matches(store: Store, catalog: Catalog, q: str | None, viewer: Viewer = ANONYMOUS,
                   lang: str = "vi") -> RecordMatches:
    """Per dataset, how many records match `q`: by their words, and by the place `q` names (see module)."""
    out = RecordMatches()
    if not search_words(q):
        return out
    for dataset in catalog:
        if not can_see_dataset(dataset, viewer) or not _searchable(dataset, viewer):
            continue
        try:
            total = records(store, dataset, Query(q=q, limit=1, fields=dataset.schema.primary_key), viewer).total
        except QueryError:
            continue
        if total:
            out.text.append((dataset, total))
        for ref in references(dataset, catalog, viewer):
            names = names_for(store, catalog.datasets[ref.target])
            key = names.find(q or "")
            if key is None or key == (q or "").strip():  # a name, not a code typed in the search box
                continue
            query = Query(filters=[Filter(ref.field, "eq", key)], limit=1, fields=dataset.schema.primary_key)
            count = records(store, dataset, query, viewer).total or 0
            if count:
                out.places.append(PlaceMatch(dataset, ref.field, key, names.name(key, lang) or key, count))
    out.text.sort(key=lambda pair: -pair[1])
    out.places.sort(key=lambda m: -m.count)
    return out
