"""The data dictionary of a dataset, derived from its Table Schema: no field is named anywhere else.

Only fields the viewer may see are described (publish.access.visible_fields): a field the public never gets
is not advertised either.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext, lazy_gettext

from core.catalog import Catalog, Dataset, Field
from hub.web.i18n import current_lang, pick
from publish.access import ANONYMOUS, Viewer, can_see_dataset, visible_fields
from validate.messages import pattern_example

TYPES = {
    "string": lazy_gettext("Text"),
    "integer": lazy_gettext("Whole number"),
    "number": lazy_gettext("Number"),
    "boolean": lazy_gettext("Yes / no"),
    "date": lazy_gettext("Date (YYYY-MM-DD)"),
    "datetime": lazy_gettext("Date and time"),
    "geojson": lazy_gettext("Geometry (GeoJSON)"),
}
STRING_FORMATS = {"email": lazy_gettext("e-mail address"), "uri": lazy_gettext("web address")}

__all__ = ["Entry", "dictionary", "foreign_targets"]


@dataclass
class Entry:
    field: Field
    title_vi: str
    title_en: str
    description: dict[str, str]
    type_label: str
    constraints: list[str]
    values: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)  # (value, label vi, label en)
    reference: str | None = None  # dataset id this field points at, when the public may open it
    reference_title: dict[str, str] = dataclasses.field(default_factory=dict)
    key: bool = False


def _constraints(f: Field) -> list[str]:
    c = f.constraints
    out: list[str] = []
    if c.get("required"):
        out.append(gettext("required"))
    if c.get("unique"):
        out.append(gettext("unique"))
    if "minimum" in c:
        out.append(gettext("at least %(value)s", value=c["minimum"]))
    if "maximum" in c:
        out.append(gettext("at most %(value)s", value=c["maximum"]))
    if "minLength" in c:
        out.append(gettext("at least %(n)s characters", n=c["minLength"]))
    if "maxLength" in c:
        out.append(gettext("at most %(n)s characters", n=c["maxLength"]))
    if "pattern" in c:
        words = pattern_words(f)
        if words:
            out.append(gettext("written as: %(form)s", form=words))
    return out


def pattern_words(f: Field) -> str | None:
    """What the field's pattern asks for, in words for people: the schema's `patternDescriptions` in the page's
    language, else an example the pattern accepts; never the regular expression itself (docs/schemas.md)."""
    words = f.descriptor.get("patternDescriptions")
    if words:
        return pick(words, current_lang())
    example = pattern_example(str(f.constraints["pattern"]))
    return gettext("like %(example)s", example=example) if example else None


def foreign_targets(dataset: Dataset, catalog: Catalog, viewer: Viewer = ANONYMOUS) -> dict[str, str]:
    """field name -> dataset id it refers to, for single-field foreign keys into datasets the viewer may see."""
    out: dict[str, str] = {}
    for fk in dataset.schema.foreign_keys:
        names = fk.get("fields")
        names = [names] if isinstance(names, str) else list(names or [])
        target = fk.get("reference", {}).get("resource")
        if len(names) == 1 and target in catalog.datasets and can_see_dataset(catalog.datasets[target], viewer):
            out[names[0]] = target
    return out


def dictionary(dataset: Dataset, catalog: Catalog, viewer: Viewer = ANONYMOUS) -> list[Entry]:
    shown = visible_fields(dataset, viewer)
    refs = foreign_targets(dataset, catalog, viewer)
    pk = set(dataset.schema.primary_key)
    out = []
    for name in shown:
        f = dataset.schema.field(name)
        kind = str(TYPES.get(f.type, f.type))
        fmt = f.descriptor.get("format")
        if fmt in STRING_FORMATS:
            kind += f" ({STRING_FORMATS[fmt]})"
        values: list[tuple[str, str, str]] = []
        for value in f.enum or []:
            values.append((str(value), f.enum_label(value, "vi"), f.enum_label(value, "en")))
        descriptions: dict[str, Any] = f.descriptor.get("descriptions") or {}
        ref = refs.get(name)
        ref_title = (catalog.datasets[ref].entry.get("title") or {}) if ref else {}
        out.append(Entry(f, f.title("vi"), f.title("en"), descriptions, kind, _constraints(f), values,
                         ref, ref_title, name in pk))
    return out
