"""Match the headers of a source file to the fields of a schema.

District offices name columns in many ways. A field is matched by its name, its titles (vi/en) and its
`aliases`, all compared as folded keys (case, spacing, punctuation, underscores and diacritics ignored,
'đ' = 'd'). For multi-row headers the reader gives "Parent Child" plus the child alone as alternatives.
Columns holding VN-2000 plane coordinates ("X (VN-2000)", "Y VN2000") are recognised even when the
schema does not name them, so that the coordinate step can turn them into lat/lon.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from core.errors import HeaderError
from core.text import match_key

__all__ = ["HeaderMapping", "HeaderMatcher", "VN2000_X", "VN2000_Y", "map_headers"]

VN2000_X = "_vn2000_x"  # northing
VN2000_Y = "_vn2000_y"  # easting


def _vn2000_target(key: str) -> str | None:
    if "vn2000" not in key and "vn2k" not in key:
        return None
    rest = key.replace("vn2000", "").replace("toado", "").replace("vn2k", "")
    if rest.startswith("x"):
        return VN2000_X
    if rest.startswith("y"):
        return VN2000_Y
    return None


@dataclass
class HeaderMapping:
    mapping: dict[str, str] = field(default_factory=dict)  # source header -> schema field
    unknown_columns: list[str] = field(default_factory=list)
    missing_fields: list[str] = field(default_factory=list)


class HeaderMatcher:
    """Folded keys of every schema field, built once per schema."""

    def __init__(self, schema: Mapping, overrides: Mapping[str, str] | None = None) -> None:
        self.fields = [f["name"] for f in schema.get("fields", [])]
        geometry = schema.get("geometry") or {}
        self.point = geometry.get("type") == "point"
        self.point_fields = (geometry.get("latitude"), geometry.get("longitude")) if self.point else ()
        self.keys: dict[str, str] = {}
        for f in schema.get("fields", []):
            names = [f["name"], *(f.get("titles") or {}).values(), *(f.get("aliases") or [])]
            for name in names:
                key = match_key(str(name))
                if key:
                    self.keys.setdefault(key, f["name"])
        self.overrides = {match_key(k): v for k, v in (overrides or {}).items()}
        unknown = [v for v in self.overrides.values() if v not in self.fields and v not in (VN2000_X, VN2000_Y)]
        if unknown:
            raise HeaderError(
                f"header_overrides trỏ tới trường không có trong lược đồ: {', '.join(unknown)}",
                f"header_overrides name fields not in the schema: {', '.join(unknown)}",
                field=", ".join(unknown),
            )

    def field_for(self, header: str, alternatives: Iterable[str] = ()) -> str | None:
        """The schema field a source header names, or None."""
        for candidate in (header, *alternatives):
            key = match_key(candidate)
            if not key:
                continue
            if key in self.overrides:
                return self.overrides[key]
            if key in self.keys:
                return self.keys[key]
            if self.point:
                target = _vn2000_target(key)
                if target:
                    return target
        return None

    def score(self, cells: Sequence[object], alternatives: Sequence[Sequence[str]] | None = None) -> int:
        """How many distinct fields a candidate header row names (used to find the header row)."""
        found = set()
        for i, cell in enumerate(cells):
            if cell is None or not isinstance(cell, str):
                continue
            alts = alternatives[i] if alternatives else ()
            hit = self.field_for(cell, alts)
            if hit:
                found.add(hit)
        return len(found)


def map_headers(
    headers: Sequence[str],
    matcher: HeaderMatcher,
    alternatives: Mapping[str, Sequence[str]] | None = None,
) -> HeaderMapping:
    """Map source headers to fields; the first column naming a field wins, later ones are unknown."""
    result = HeaderMapping()
    taken: set[str] = set()
    for header in headers:
        target = matcher.field_for(header, (alternatives or {}).get(header, ()))
        if target is None or target in taken:
            result.unknown_columns.append(header)
            continue
        taken.add(target)
        result.mapping[header] = target
    has_plane = VN2000_X in taken and VN2000_Y in taken
    for name in matcher.fields:
        if name in taken:
            continue
        if has_plane and name in matcher.point_fields:
            continue
        result.missing_fields.append(name)
    return result
