"""A Table Schema descriptor compiled once into what the vectorised checks need.

frictionless re-reads field properties per cell; we read them once per file. Only the parts of the
standard that our schemas use (docs/schemas.md) are compiled; anything else is ignored the way
frictionless ignores it (a constraint a type does not support is never checked, e.g. `pattern` on an
integer field).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Constraints checked per type, in the order frictionless reports them for one cell.
SUPPORTED_CONSTRAINTS: dict[str, tuple[str, ...]] = {
    "string": ("required", "minLength", "maxLength", "pattern", "enum"),
    "integer": ("required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"),
    "number": ("required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"),
    "date": ("required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"),
    "boolean": ("required", "enum"),
    "geojson": ("required", "enum"),
    "any": ("required", "enum"),
}

DEFAULT_TRUE_VALUES = ("true", "True", "TRUE", "1")
DEFAULT_FALSE_VALUES = ("false", "False", "FALSE", "0")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    number: int  # 1-based position, as frictionless's fieldNumber
    type: str
    format: str
    constraints: dict[str, Any]
    missing_values: frozenset[str]
    titles: dict[str, str]
    options: dict[str, Any]  # type-specific: trueValues, falseValues, bareNumber, groupChar, decimalChar
    enum_labels: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def checked_constraints(self) -> tuple[str, ...]:
        """Constraints present on the field that frictionless checks for its type, in report order."""
        supported = SUPPORTED_CONSTRAINTS.get(self.type, ("required", "enum"))
        return tuple(c for c in supported if self.constraints.get(c) is not None)

    @property
    def unique(self) -> bool:
        return bool(self.constraints.get("unique"))

    def title(self, lang: str) -> str:
        return self.titles.get(lang) or self.titles.get("vi") or self.titles.get("en") or self.name


@dataclass(frozen=True)
class ForeignKeySpec:
    fields: tuple[str, ...]
    resource: str  # "" for a reference to the same file
    reference_fields: tuple[str, ...]

    @property
    def self_reference(self) -> bool:
        return not self.resource


@dataclass(frozen=True)
class TableSpec:
    name: str
    fields: tuple[FieldSpec, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKeySpec, ...]
    titles: dict[str, str]

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def unique_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.unique)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def compile_schema(schema: dict[str, Any]) -> TableSpec:
    """Turn a Table Schema descriptor (a dict, as stored in schemas/<id>.json) into a TableSpec."""
    schema_missing = schema.get("missingValues", [""])
    fields: list[FieldSpec] = []
    for number, desc in enumerate(schema.get("fields", []), start=1):
        missing = desc.get("missingValues", schema_missing)
        missing = [m["value"] if isinstance(m, dict) else m for m in missing]
        options = {
            key: desc[key]
            for key in ("trueValues", "falseValues", "bareNumber", "groupChar", "decimalChar", "floatNumber")
            if key in desc
        }
        fields.append(
            FieldSpec(
                name=desc["name"],
                number=number,
                type=desc.get("type", "string"),
                format=desc.get("format", "default"),
                constraints=dict(desc.get("constraints", {})),
                missing_values=frozenset(missing),
                titles=dict(desc.get("titles", {})),
                options=options,
                enum_labels=dict(desc.get("enumLabels", {})),
            )
        )
    foreign_keys = []
    for fk in schema.get("foreignKeys", []):
        ref = fk.get("reference", {})
        foreign_keys.append(
            ForeignKeySpec(
                fields=_as_tuple(fk.get("fields")),
                resource=ref.get("resource", "") or "",
                reference_fields=_as_tuple(ref.get("fields")),
            )
        )
    return TableSpec(
        name=schema.get("name", ""),
        fields=tuple(fields),
        primary_key=_as_tuple(schema.get("primaryKey")),
        foreign_keys=tuple(foreign_keys),
        titles=dict(schema.get("titles", {})),
    )
