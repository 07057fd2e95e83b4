"""Labels for people, derived from the schemas and the referenced datasets, never typed twice.

- An enum value's label comes from the field's `enumLabels` (schema).
- A foreign key's label is the referenced record's name, read from the referenced dataset as published:
  `commune_code` 26068 -> "Phường Trấn Biên" from admin-units. Which name: the referenced dataset's
  `full_name` when it has one, else its `name`, else its first search field.
- A place can be found back from its name, accent- and case-insensitively ("tran bien", "Trấn Biên",
  "Phường Trấn Biên" all give 26068), and "Biên Hoà" and "Biên Hòa" are the same name.

Only datasets the viewer may see lend their names, and only values the viewer already has get a label: a
label never tells more than the row it is added to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from core.catalog import Catalog, Dataset, Field, Schema
from core.text import search_fold
from publish.access import ANONYMOUS, Viewer, can_see_dataset
from publish.lru import LruCache
from publish.store import Store

__all__ = ["Names", "Reference", "add_labels", "label_key", "names_for", "references", "text_for"]

# The referenced datasets' names, per worker, by (database, dataset, version): a new version is a new entry,
# and the time to live bounds what a restore from backup could leave stale.
_NAMES: LruCache[Names] = LruCache(32, ttl=60.0)


@dataclass(frozen=True)
class Reference:
    """A single-field foreign key: `field` of the dataset holds a key of `target`."""

    field: str
    target: str
    target_field: str

    @property
    def label_key(self) -> str:
        return label_key(self.field)


def label_key(name: str) -> str:
    """The key under which a foreign key's label is added: commune_code -> commune_name, x -> x_name."""
    return (name[: -len("_code")] if name.endswith("_code") else name) + "_name"


@dataclass
class Names:
    """Key -> names (vi, en) of one referenced dataset's records, and the way back from a name to its key."""

    names: dict[str, dict[str, str]] = field(default_factory=dict)
    _by_folded: dict[str, str] = field(default_factory=dict)

    def add(self, key: str, vi: str, en: str | None, *also: str | None) -> None:
        self.names[key] = {"vi": vi, "en": en or vi}
        for text in (vi, en, *also):
            if text:
                self._by_folded.setdefault(search_fold(text), key)

    def name(self, key: Any, lang: str = "vi") -> str | None:
        hit = self.names.get(str(key)) if key is not None else None
        return hit.get(lang) or hit["vi"] if hit else None

    def find(self, text: str) -> str | None:
        """The key whose name (short or full, either language) is `text`, ignoring case and accents; a key
        given as such is also accepted."""
        text = (text or "").strip()
        if text in self.names:
            return text
        return self._by_folded.get(search_fold(text))

    def choices(self, lang: str = "vi") -> list[tuple[str, str]]:
        """(key, name) sorted by the name as people sort it (accents ignored)."""
        return sorted(((k, v.get(lang) or v["vi"]) for k, v in self.names.items()), key=lambda kv: search_fold(kv[1]))


def references(dataset: Dataset, catalog: Catalog, viewer: Viewer = ANONYMOUS) -> list[Reference]:
    """The dataset's single-field foreign keys into datasets the viewer may see."""
    out = []
    for fk in dataset.schema.foreign_keys:
        names = fk.get("fields")
        names = [names] if isinstance(names, str) else list(names or [])
        ref = fk.get("reference", {})
        target, target_fields = ref.get("resource"), ref.get("fields")
        target_fields = [target_fields] if isinstance(target_fields, str) else list(target_fields or [])
        if (len(names) == 1 and target in catalog.datasets and catalog.datasets[target].schema.primary_key == target_fields
                and can_see_dataset(catalog.datasets[target], viewer)):
            out.append(Reference(names[0], target, target_fields[0]))
    return out


def _name_fields(schema: Schema) -> tuple[str, str | None, list[str]]:
    """(name field, its English counterpart, other names a record is known by) of a referenced dataset."""
    have = set(schema.field_names)
    public = {f.name for f in schema.fields if not f.personal and f.classification == "public"}
    main = next((n for n in ("full_name", "name") if n in public),
                next((n for n in schema.search_fields if n in public), schema.primary_key[0]))
    english = f"{main}_en" if f"{main}_en" in public else None
    others: list[str] = [n for n in ("name", "name_en") if n in have & public and n not in (main, english)]
    return main, english, others


def names_for(store: Store, target: Dataset) -> Names:
    """The names of `target`'s current records (its public fields only), remembered per version."""
    from publish.query import Query, iter_records

    version = store.current_version(target.id)
    cache_key = (store.read_engine.url.render_as_string(), target.id, version)
    hit = _NAMES.get(cache_key)
    if hit is not None:
        return hit
    main, english, others = _name_fields(target.schema)
    key_field = target.schema.primary_key[0]
    out = Names()
    if version is not None:
        wanted = list(dict.fromkeys([key_field, main, *([english] if english else []), *others]))
        for row in iter_records(store, target, Query(fields=wanted, version=version), ANONYMOUS):
            if row.get(key_field) is None or not row.get(main):
                continue
            out.add(str(row[key_field]), str(row[main]), row.get(english) if english else None,
                    *(row.get(n) for n in others))
    _NAMES.put(cache_key, out)
    return out


def reference_names(store: Store, dataset: Dataset, viewer: Viewer = ANONYMOUS) -> dict[str, Names]:
    """field -> names of the records it refers to, for the dataset's foreign keys the viewer may follow."""
    return {ref.field: names_for(store, store.catalog.datasets[ref.target])
            for ref in references(dataset, store.catalog, viewer)}


def text_for(value: Any, f: Field, lang: str = "vi", names: Names | None = None) -> str | None:
    """The label of a value for people: the enum label, the referenced record's name, else None."""
    if value is None or value == "":
        return None
    if f.enum:
        return f.enum_label(value, lang)
    if names is not None:
        return names.name(value, lang)
    return None


def add_labels(store: Store, dataset: Dataset, rows: Iterable[dict[str, Any]], viewer: Viewer = ANONYMOUS,
               lang: str = "vi") -> Iterator[dict[str, Any]]:
    """Rows with `<field>_label` after each enum field and `<x>_name` after each foreign key (commune_name),
    for the fields present in the row (what the viewer was given, already redacted)."""
    refs = reference_names(store, dataset, viewer)
    enums = [f for f in dataset.schema.fields if f.enum]
    for row in rows:
        out: dict[str, Any] = {}
        for name, value in row.items():
            out[name] = value
            if name in refs:
                out[label_key(name)] = refs[name].name(value, lang) if value is not None else None
        for f in enums:
            if f.name in row:
                out[f"{f.name}_label"] = text_for(row[f.name], f, lang)
        yield out


def label_fields(store: Store, dataset: Dataset, names: list[str], viewer: Viewer = ANONYMOUS) -> list[str]:
    """The field list of labelled rows (`add_labels`) in the same order."""
    refs = {r.field for r in references(dataset, store.catalog, viewer)}
    enums = {f.name for f in dataset.schema.fields if f.enum}
    out: list[str] = []
    for name in names:
        out.append(name)
        if name in refs:
            out.append(label_key(name))
    out += [f"{n}_label" for n in names if n in enums]
    return out


def resolve_filters(store: Store, dataset: Dataset, filters: list[Any], viewer: Viewer = ANONYMOUS) -> list[Any]:
    """Filters on a foreign key may name the referenced record instead of giving its key: `commune_code=Trấn Biên`
    (or `tran bien`, `Phường Trấn Biên`) is `commune_code=26041`. A name that matches no record is refused with
    a message rather than answered with nothing; a key as such passes unchanged. `filters` are
    publish.query.Filter; the list is changed in place and returned."""
    from publish.query import QueryError

    refs = {r.field: r for r in references(dataset, store.catalog, viewer)}
    for flt in filters:
        ref = refs.get(flt.field)
        if ref is None or flt.op not in ("eq", "ne", "in", "contains"):
            continue
        names = names_for(store, store.catalog.datasets[ref.target])
        values = flt.value if isinstance(flt.value, list) else [flt.value]
        pattern = dataset.schema.field(flt.field).constraints.get("pattern")
        keys = []
        for value in values:
            key = names.find(str(value))
            if key is None and pattern and re.fullmatch(pattern, str(value).strip()):
                key = str(value).strip()  # written as a key (a code no record has: no rows, as for any value)
            if key is None:
                target = store.catalog.datasets[ref.target]
                raise QueryError(f"Không có «{value}» trong «{target.title('vi')}» (trường «{flt.field}»)",
                                 f"No «{value}» in «{target.title('en')}» (field «{flt.field}»)", field=flt.field)
            keys.append(key)
        if flt.op == "contains":  # a key is a whole value: "contains" a name means that record
            flt.op = "eq"
        flt.value = keys if flt.op == "in" else keys[0]
    return filters


_OPS = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "in": "∈", "contains": "∋",
        "null": "= ∅", "notnull": "≠ ∅"}
_WORDS = {"q": {"vi": "Tìm", "en": "Search"}, "sort": {"vi": "Sắp xếp theo", "en": "Sorted by"},
          "desc": {"vi": "giảm dần", "en": "descending"}, "near": {"vi": "Cách", "en": "Within"},
          "of": {"vi": "quanh", "en": "of"}}


def describe_query(store: Store, dataset: Dataset, query: Any, lang: str = "vi", viewer: Viewer = ANONYMOUS) -> str:
    """The filters, search, place and sort of a publish.query.Query in words for people, with titles and labels:
    "Mã xã/phường = Phường Trấn Biên; Hạng sao ≥ 3; Tìm: «khách sạn»". Empty when nothing narrows the rows."""
    names = reference_names(store, dataset, viewer)
    parts = []
    for flt in query.filters:
        f = dataset.schema.field(flt.field)
        values = flt.value if isinstance(flt.value, list) else [flt.value]
        shown = [text_for(v, f, lang, names.get(f.name)) or str(v) for v in values if v is not None]
        parts.append(f"{f.title(lang)} {_OPS.get(flt.op, flt.op)} {', '.join(shown)}".strip())
    if query.q:
        parts.append(f"{_WORDS['q'][lang]}: «{query.q}»")
    if query.near:
        lat, lon, radius = query.near
        parts.append(f"{_WORDS['near'][lang]} {radius:g} m {_WORDS['of'][lang]} {lat:.5f}, {lon:.5f}")
    if query.sort:
        keys = [dataset.schema.field(n).title(lang) + (f" ({_WORDS['desc'][lang]})" if d else "")
                for n, d in query.sort if n in dataset.schema.field_names]
        if keys:
            parts.append(f"{_WORDS['sort'][lang]}: {', '.join(keys)}")
    return "; ".join(parts)


def summary_fields(dataset: Dataset, catalog: Catalog, viewer: Viewer = ANONYMOUS) -> list[str]:
    """The few fields that tell people what a record is, for a map's popup: enum fields (type, rank, status),
    foreign keys (the ward), an address, a phone, a small rating (stars); never a personal field."""
    from publish.access import visible_fields

    refs = {r.field for r in references(dataset, catalog, viewer)}
    out = []
    for name in visible_fields(dataset, viewer):
        f = dataset.schema.field(name)
        if f.personal or f.type == "geojson" or name in dataset.schema.primary_key:
            continue
        rating = f.type == "integer" and 0 < (f.constraints.get("maximum") or 99) <= 10
        if f.enum or name in refs or name == "address" or "phone" in name or rating:
            out.append(name)
    return out


def kind_field(dataset: Dataset) -> Field | None:
    """The field a map colours its markers by: the first enum field (the record's type)."""
    return next((f for f in dataset.schema.fields if f.enum and not f.personal), None)


def summary(dataset: Dataset, row: dict[str, Any], fields: list[str], names: dict[str, Names], lang: str = "vi"
            ) -> list[tuple[str, str, str | None]]:
    """(title, text, link) lines of a record for people: labels and names, a phone as a tel: link."""
    out = []
    for name in fields:
        value = row.get(name)
        if value is None or value == "":
            continue
        f = dataset.schema.field(name)
        text = text_for(value, f, lang, names.get(name)) or str(value)
        link = f"tel:{value}" if "phone" in name else None
        out.append((f.title(lang), text, link))
    return out
