"""Enum cells: offices write the label ("Khách sạn", "Di tích quốc gia"), the schema stores the slug
("khach_san"). Labels (vi/en) and slugs are compared folded; an unknown word is left for validation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.text import match_key

__all__ = ["enum_index", "normalise_enum"]


def enum_index(values: Sequence[str], labels: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, str]:
    """Folded slug and labels -> slug."""
    index: dict[str, str] = {}
    for value in values:
        index.setdefault(match_key(value), value)
    for value, names in (labels or {}).items():
        for name in names.values():
            index.setdefault(match_key(name), value)
    return index


def normalise_enum(text: str, index: Mapping[str, str]) -> str | None:
    """'Khách sạn' -> 'khach_san' with the index of the field; None when no label matches."""
    return index.get(match_key(text))
