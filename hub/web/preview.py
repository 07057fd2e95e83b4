"""The dataset page's preview table: its query string turned into a publish.query.Query, and back into links.

Everything is server-side and plain GET, so paging, column filters and sorting work without JavaScript:
`?q=words&name__contains=value&sort=-field&page=2&per=20`. Filters are spelt as in the sharing API and read by
the same parser (publish.filters): the column boxes give enum fields the exact value (`rank=...`, a select list),
text fields "contains" (`name__contains=...`), numbers and dates ranges (`star_rank__gte=3`,
`decision_date__lte=2000-12-31`), a foreign key the referenced record's name (`commune_code=Trấn Biên`, see
publish.labels.resolve_filters); any other API operator typed into the address works too. `near=lat,lon,radius_m`
keeps the records within that distance, with their distance shown and `sort=distance_m` as an order. A filter the
preview cannot apply (a field it does not show or may not filter on, an unknown operator) is named in a notice,
not silently dropped. Links of the earlier spelling (`f.<field>=value`) are read as the column box would send them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from math import ceil
from urllib.parse import urlencode

from core.catalog import Dataset, Field
from publish.access import ANONYMOUS, Viewer, conditional_personal, visible_fields
from publish.context import Hub
from publish.filters import parse_filter
from publish.labels import references, resolve_filters
from publish.query import DISTANCE, Query, QueryError
from publish.store import Store

PAGE_SIZES = (10, 20, 50, 100)
MAX_RADIUS = 50_000  # metres: "near" on the site reaches across the province at most
RADII = (1000, 2000, 5000, 10000, 20000)  # the choices offered next to "near me"
RANGE_OPS = ("gte", "lte")  # the preview's range boxes: from, to
PREVIEW_PARAMS = ("q", "sort", "page", "per", "lang", "near", "near_r")  # the rest of the query string: filters
RANGE_TYPES = ("integer", "number", "date", "datetime", "year")
DEFAULT_PAGE_SIZE = 20
MAX_PAGE = 100_000

__all__ = ["Preview", "columns", "parse_preview"]


def columns(dataset: Dataset, viewer: Viewer = ANONYMOUS) -> list[Field]:
    """Fields shown as table columns: what the viewer may see, minus geometries (those go on the map)."""
    return [dataset.schema.field(n) for n in visible_fields(dataset, viewer)
            if dataset.schema.field(n).type != "geojson"]


def protected(dataset: Dataset, viewer: Viewer = ANONYMOUS) -> set[str]:
    """Fields blanked on some rows (personalWhen): shown, but never filtered or sorted on, since the matching
    rows or their order would give away the blanked values."""
    return {name for name, _, _ in conditional_personal(dataset, viewer)}


@dataclass
class Preview:
    dataset: Dataset
    q: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    sort: tuple[str, bool] | None = None  # (field, descending)
    page: int = 1
    per: int = DEFAULT_PAGE_SIZE
    near: tuple[float, float, float] | None = None  # lat, lon, radius in metres: "near me", "near this place"
    refused: list[str] = field(default_factory=list)  # filters asked for that the preview cannot apply
    references: frozenset[str] = frozenset()  # foreign keys: filtered on the whole value (a name or a key)

    def query(self) -> Query:
        out = Query(q=self.q or None, limit=self.per, offset=(self.page - 1) * self.per)
        out.filters = [parse_filter(key, value, self.dataset) for key, value in self.filters.items()]
        if self.sort:
            out.sort = [self.sort]
        out.near = self.near
        return out

    def resolved_query(self, store: Store) -> Query:
        """query() with the referenced records' names turned into their keys (an unknown name: QueryError)."""
        out = self.query()
        resolve_filters(store, self.dataset, out.filters)
        return out

    def args(self, **changes: object) -> dict[str, str]:
        """The query string of this preview with some parts changed (None removes a part)."""
        current: dict[str, object] = {"q": self.q, "sort": self._sort_arg(self.sort), "page": self.page,
                                      "per": self.per, "near": near_arg(self.near)}
        current.update(self.filters)
        current.update(changes)
        defaults = {"page": 1, "per": DEFAULT_PAGE_SIZE}
        return {k: str(v) for k, v in current.items() if v not in (None, "") and defaults.get(k) != v}

    def filter_args(self) -> dict[str, str]:
        """The search words, filters and distance alone (what the map follows)."""
        return {k: v for k, v in self.args().items() if k in ("q", "near") or k in self.filters}

    def param(self, f: Field) -> str:
        """The parameter of a column's filter box: `name__contains` for free text, `name` otherwise."""
        return column_param(f, self.references)

    def value(self, key: str) -> str:
        return self.filters.get(key, "")

    def hidden_filters(self, shown: Iterable[Field]) -> dict[str, str]:
        """Filters no column box holds (another operator typed into the address): kept as hidden form fields, so
        applying the boxes does not drop them."""
        boxes: set[str] = set()
        for f in shown:  # as _preview.html draws them: a list, a name box, a range, a text box
            if f.type in RANGE_TYPES and not f.enum and f.name not in self.references:
                boxes.update(f"{f.name}__{op}" for op in RANGE_OPS)
            else:
                boxes.add(self.param(f))
        return {k: v for k, v in self.filters.items() if k not in boxes}

    def url(self, base: str, **changes: object) -> str:
        args = self.args(**changes)
        return base + ("?" + urlencode(args) if args else "")

    def sort_link_value(self, name: str) -> str:
        """Clicking a column header: ascending first, then descending, then back to ascending."""
        if self.sort == (name, False):
            return "-" + name
        return name

    def aria_sort(self, name: str) -> str | None:
        if self.sort and self.sort[0] == name:
            return "descending" if self.sort[1] else "ascending"
        return None

    def pages(self, total: int | None) -> int:
        return max(1, ceil((total or 0) / self.per))

    @property
    def active(self) -> bool:
        return bool(self.q or self.filters or self.sort or self.near)

    @staticmethod
    def _sort_arg(sort: tuple[str, bool] | None) -> str | None:
        if not sort:
            return None
        return ("-" if sort[1] else "") + sort[0]


def parse_near(raw: str | None) -> tuple[float, float, float] | None:
    """`lat,lon,radius_m` within the map's reach (radius 10 m to MAX_RADIUS), else None."""
    try:
        lat, lon, radius = (float(v) for v in (raw or "").split(","))
    except ValueError:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 10 <= radius <= MAX_RADIUS):
        return None
    return lat, lon, radius


def near_arg(near: tuple[float, float, float] | None) -> str | None:
    return f"{near[0]:.6f},{near[1]:.6f},{near[2]:g}" if near else None


def column_param(f: Field, references: Collection[str] = ()) -> str:
    """A column box's parameter: free text (a string that is not an enum or a foreign key) is searched inside
    (`name__contains`), anything else matched whole (`name`)."""
    return f"{f.name}__contains" if f.type == "string" and not f.enum and f.name not in references else f.name


def reference_fields(hub: Hub, dataset: Dataset, viewer: Viewer = ANONYMOUS) -> list[str]:
    """The dataset's foreign keys the viewer may follow (filtered by the referenced record's name or key)."""
    return [r.field for r in references(dataset, hub.catalog, viewer)]


def _int(raw: str | None, default: int, low: int, high: int) -> int:
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        return default
    return min(max(value, low), high)


def parse_preview(dataset: Dataset, args: Mapping[str, str], viewer: Viewer = ANONYMOUS,
                  references: Iterable[str] = ()) -> Preview:
    """Read the preview's state. A filter on a field not shown or not queryable, or one publish.filters refuses
    (no such field, an unknown operator), is left out and listed in `refused` (the page says so); a bad sort or page size falls back
    to the default. `references`: the foreign-key fields (filtered on the whole value, by name or key)."""
    shown = {f.name for f in columns(dataset, viewer)} - protected(dataset, viewer)
    preview = Preview(dataset, q=(args.get("q") or "").strip()[:200], references=frozenset(references))
    for key, value in args.items():
        if key in PREVIEW_PARAMS or not value.strip():
            continue
        if key.startswith("f."):  # the earlier spelling: f.<field> as its column box, f.<field>__op as the API's
            name, _, op = key[2:].partition("__")
            key = f"{name}__{op}" if op else (column_param(dataset.schema.field(name), preview.references)
                                              if name in dataset.schema.field_names else name)
        try:
            parse_filter(key, value.strip(), dataset)
        except QueryError:
            preview.refused.append(key[:100])
            continue
        if key.partition("__")[0] not in shown:
            preview.refused.append(key[:100])
            continue
        preview.filters[key] = value.strip()[:200]
    preview.near = parse_near(args.get("near"))
    if preview.near and args.get("near_r"):  # the distance chosen again next to the form's button
        radius = parse_near(f"0,0,{args['near_r']}")
        preview.near = (preview.near[0], preview.near[1], radius[2]) if radius else preview.near
    if args.get("near") and preview.near is None:
        preview.refused.append("near")
    sort = (args.get("sort") or "").strip()
    if sort.lstrip("-") in shown or (preview.near and sort.lstrip("-") == DISTANCE):
        preview.sort = (sort.lstrip("-"), sort.startswith("-"))
    per = _int(args.get("per"), DEFAULT_PAGE_SIZE, 1, max(PAGE_SIZES))
    preview.per = per if per in PAGE_SIZES else DEFAULT_PAGE_SIZE
    preview.page = _int(args.get("page"), 1, 1, MAX_PAGE)
    return preview
