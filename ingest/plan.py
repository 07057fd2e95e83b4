"""Which normaliser each schema field gets, derived from the schema alone (no per-dataset code).

type date -> dates; number/integer -> numbers; boolean -> booleans; geojson -> compact JSON; a foreign
key to admin-units -> commune codes; a name/title/alias about phones -> phones; enterprise_code ->
enterprise codes; the schema's geometry latitude/longitude -> coordinates; an enum with enumLabels ->
labels to slugs. Everything else is text.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.text import match_key

__all__ = ["plan_fields", "RULES"]

RULES = (
    "text",
    "date",
    "number",
    "integer",
    "boolean",
    "geojson",
    "commune",
    "phone",
    "enterprise",
    "latitude",
    "longitude",
    "enum",
)
_PHONE_KEYS = ("phone", "dienthoai", "sodt", "sdt", "tel", "hotline", "didong")
_ENTERPRISE_KEYS = ("enterprisecode", "taxcode", "masodoanhnghiep", "masothue")


def _commune_fields(schema: Mapping) -> set[str]:
    out: set[str] = set()
    for fk in schema.get("foreignKeys") or []:
        if (fk.get("reference") or {}).get("resource") == "admin-units":
            fields = fk.get("fields")
            out.update([fields] if isinstance(fields, str) else fields or [])
    return out


def plan_fields(schema: Mapping) -> dict[str, str]:
    """{field name: rule} for every field of the schema, in schema order."""
    geometry = schema.get("geometry") or {}
    communes = _commune_fields(schema)
    plan: dict[str, str] = {}
    for f in schema.get("fields", []):
        name, kind = f["name"], f.get("type", "string")
        words = [match_key(w) for w in (name, *(f.get("titles") or {}).values(), *(f.get("aliases") or []))]
        if geometry.get("type") == "point" and name == geometry.get("latitude"):
            rule = "latitude"
        elif geometry.get("type") == "point" and name == geometry.get("longitude"):
            rule = "longitude"
        elif kind == "date":
            rule = "date"
        elif kind in ("number", "integer", "boolean", "geojson"):
            rule = kind
        elif name in communes:
            rule = "commune"
        elif kind == "string" and match_key(name) in _ENTERPRISE_KEYS:
            rule = "enterprise"
        elif (
            kind == "string"
            and (f.get("format") in (None, "default"))
            and any(w.startswith(_PHONE_KEYS) or w.endswith(("phone", "dienthoai")) for w in words)
        ):
            rule = "phone"
        elif (f.get("constraints") or {}).get("enum") and kind == "string":
            rule = "enum"
        else:
            rule = "text"
        plan[name] = rule
    return plan
