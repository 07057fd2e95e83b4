"""Cast a column of canonical text to typed values, the way frictionless reads cells, one column at a time.

Each type has a *reader*: `str -> value`, returning INVALID where frictionless reports a type error. The
readers follow frictionless 5.21's rules (frictionless/fields/*.py), which are Python's own parsers, so we
call the same parsers: `int(text.strip())` (accepts "+5", "1_000", " 5", non-ASCII digits),
`Decimal(text.strip())` (accepts "NaN", "inf", "1e3"), `strptime(text, "%Y-%m-%d")` (accepts "2020-1-5",
refuses " 2020-01-05"), exact trueValues/falseValues (no stripping, case-sensitive), the `validators` and
`rfc3986` packages for emails and URIs, and the GeoJSON JSON Schema that frictionless ships.

Speed comes from working per column rather than per row: missing values are found with numpy, cheap readers
are mapped over the present values with `map`, and expensive ones (dates, emails, URIs, GeoJSON) run once per
distinct value (`pandas.factorize`).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from .column import CastColumn
from .schema import DEFAULT_FALSE_VALUES, DEFAULT_TRUE_VALUES, FieldSpec

__all__ = ["INVALID", "CastColumn", "cast_column", "column_reader", "read_value", "reader_for", "texts_and_none",
           "texts_of"]


class _Invalid:
    """Marker for a value that does not match the field's type (frictionless: a type-error)."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = _Invalid()
Reader = Callable[[str], Any]

#: readers that are cheap enough to call on every value; the others run once per distinct value.
_CHEAP_TYPES = {"integer", "number", "boolean"}
_CHEAP_FORMATS = {"uri", "email"}  # fast readers, mostly distinct values: no memory of what they read


def _integer_reader(field: FieldSpec) -> Reader:
    strip_chars = None if field.options.get("bareNumber", True) else re.compile(r"((^[^-\d]*)|(\D*$))")

    def read(text: str) -> Any:
        text = text.strip()
        if strip_chars is not None:
            text = strip_chars.sub("", text)
        try:
            return int(text)
        except ValueError:
            return INVALID

    return read


def _number_reader(field: FieldSpec) -> Reader:
    opts = field.options
    bare = opts.get("bareNumber", True)
    group_char = opts.get("groupChar", "")
    decimal_char = opts.get("decimalChar", ".")
    # frictionless only pre-processes the text when one of these properties is written in the schema
    preprocess = any(key in opts for key in ("bareNumber", "groupChar", "decimalChar"))
    strip_chars = None if bare else re.compile(r"((^[^-\d]*)|(\D*$))")

    def read(text: str) -> Any:
        text = text.strip()
        if preprocess:
            if strip_chars is not None:
                text = strip_chars.sub("", text)
            text = text.replace(group_char, "")
            if decimal_char != "." and "." in text:
                return INVALID
            text = text.replace(decimal_char, ".")
        try:
            return Decimal(text)
        except ArithmeticError:
            return INVALID
        except ValueError:
            return INVALID

    return read


def _boolean_reader(field: FieldSpec) -> Reader:
    mapping: dict[str, bool] = {}
    for text in field.options.get("trueValues", DEFAULT_TRUE_VALUES):
        mapping[text] = True
    for text in field.options.get("falseValues", DEFAULT_FALSE_VALUES):
        mapping[text] = False  # a word in both lists reads as false, as in frictionless

    def read(text: str) -> Any:
        return mapping.get(text, INVALID)

    return read


def _is_plain_iso_date(text: str) -> bool:
    return (
        len(text) == 10
        and text.isascii()
        and text[4] == "-"
        and text[7] == "-"
        and text[:4].isdigit()
        and text[5:7].isdigit()
        and text[8:].isdigit()
    )


def _date_reader(field: FieldSpec) -> Reader:
    fmt = field.format
    if fmt == "any":
        from dateutil import parser as dateutil_parser

        def read_any(text: str) -> Any:
            try:
                return dateutil_parser.parse(text).date()
            except Exception:  # noqa: BLE001 - dateutil raises many kinds; all are a type error
                return INVALID

        return read_any
    pattern = "%Y-%m-%d" if fmt == "default" else fmt

    def read(text: str) -> Any:
        try:
            if pattern == "%Y-%m-%d" and _is_plain_iso_date(text):
                return date.fromisoformat(text)  # same result as strptime for YYYY-MM-DD, 10x faster
            return datetime.strptime(text, pattern).date()
        except ValueError:
            return INVALID

    return read


@lru_cache(maxsize=1)
def _geojson_validators() -> dict[str, Any]:
    from frictionless import settings  # the GeoJSON / TopoJSON profiles frictionless validates against
    from jsonschema.validators import validator_for

    return {
        "default": validator_for(settings.GEOJSON_PROFILE)(settings.GEOJSON_PROFILE),
        "topojson": validator_for(settings.TOPOJSON_PROFILE)(settings.TOPOJSON_PROFILE),
    }


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positions(value: Any, minimum: int) -> bool:
    # frictionless's GeoJSON profile: a position is exactly two numbers (additionalItems: false)
    return isinstance(value, list) and len(value) >= minimum and all(
        isinstance(p, list) and len(p) == 2 and _is_number(p[0]) and _is_number(p[1]) for p in value
    )


_GEOMETRY_CHECKS = {
    "Point": lambda c: _positions([c], 1),
    "MultiPoint": lambda c: _positions(c, 0),
    "LineString": lambda c: _positions(c, 2),
    "MultiLineString": lambda c: isinstance(c, list) and all(_positions(line, 2) for line in c),
    "Polygon": lambda c: isinstance(c, list) and all(_positions(ring, 4) for ring in c),
    "MultiPolygon": lambda c: isinstance(c, list) and all(
        isinstance(poly, list) and all(_positions(ring, 4) for ring in poly) for poly in c),
}


def _plain_geometry_ok(value: dict[str, Any]) -> bool | None:
    """The GeoJSON profile's answer for a plain geometry, computed directly (True), or None to ask jsonschema.

    jsonschema walks its $ref/oneOf tree for every coordinate pair: a commune boundary of a few thousand
    points takes a quarter of a second that way. Only the clear valid case is decided here; anything unusual
    (crs, GeometryCollection, Feature, a failing shape) goes to jsonschema so the verdict stays the profile's.
    """
    check = _GEOMETRY_CHECKS.get(value.get("type"))  # type: ignore[arg-type]  # no "type": None finds no check
    if check is None or "crs" in value or "coordinates" not in value:
        return None
    bbox = value.get("bbox")
    if bbox is not None and not (isinstance(bbox, list) and all(_is_number(b) for b in bbox)):
        return None
    return True if check(value["coordinates"]) else None


def _geojson_reader(field: FieldSpec) -> Reader:
    fmt = field.format

    def read(text: str) -> Any:
        try:
            value = json.loads(text)
        except ValueError:
            return INVALID
        if not isinstance(value, dict):
            return INVALID
        if fmt == "default" and _plain_geometry_ok(value) is True:
            return value
        if fmt in ("default", "topojson"):
            try:
                _geojson_validators()[fmt].validate(value)
            except Exception:  # noqa: BLE001 - any schema failure is a type error
                return INVALID
        return value

    return read


# RFC 5322 dot-atom: a subset of the local parts the `validators` package accepts
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")


def _email_reader() -> Reader:
    """`validators.email`, with its domain half decided once per domain.

    The library accepts an address when it has one "@", a local part of at most 64 characters matching its
    pattern, and a domain that passes `hostname()`. The domain check is the slow part (~25 µs) and does not
    depend on the local part, so it is cached per domain ("a@" + domain asks exactly that); a local part
    that is not a plain dot-atom goes to the library whole.
    """
    import validators

    domains: dict[str, bool] = {}

    def read(text: str) -> Any:
        if text.count("@") != 1:
            return INVALID
        user, domain = text.split("@")
        if len(user) > 64 or not _DOT_ATOM.match(user):
            return text if validators.email(text) else INVALID
        ok = domains.get(domain)
        if ok is None:
            ok = bool(validators.email("a@" + domain))
            if len(domains) < 100_000:
                domains[domain] = ok
        return text if ok else INVALID

    return read


def _string_reader(field: FieldSpec) -> Reader | None:
    fmt = field.format
    if fmt == "email":
        return _email_reader()
    if fmt == "uri":
        import rfc3986
        from rfc3986 import exceptions as rfc_exceptions
        from rfc3986 import validators as rfc_validators
        from rfc3986.misc import URI_MATCHER

        def read_uri_fully(text: str) -> Any:
            checker = rfc_validators.Validator().require_presence_of("scheme")
            try:
                checker.validate(rfc3986.uri_reference(text))
            except rfc_exceptions.ValidationError:
                return INVALID
            return text

        def read_uri(text: str) -> Any:
            # rfc3986's validator refuses only a missing scheme or a password in the userinfo (which needs an
            # "@" in the authority): decided here from the same parsing regex; the rest goes the full way
            if not text.isascii():
                return read_uri_fully(text)
            match = URI_MATCHER.match(text)
            if match.group("scheme") is None:
                return INVALID
            authority = match.group("authority")
            return text if authority is None or "@" not in authority else read_uri_fully(text)

        return read_uri
    if fmt == "uuid":
        import validators

        return lambda text: text if validators.uuid(text) else INVALID
    if fmt == "binary":

        def read_binary(text: str) -> Any:
            try:
                base64.b64decode(text)
            except ValueError:
                return INVALID
            return text

        return read_binary
    return None  # plain text: every value is valid


def reader_for(field: FieldSpec) -> Reader | None:
    """The cell reader for a field; None means the text itself is the value (plain strings, unknown types)."""
    if field.type == "integer":
        return _integer_reader(field)
    if field.type == "number":
        return _number_reader(field)
    if field.type == "boolean":
        return _boolean_reader(field)
    if field.type == "date":
        return _date_reader(field)
    if field.type == "geojson":
        return _geojson_reader(field)
    if field.type == "string":
        return _string_reader(field)
    return None


def read_value(field: FieldSpec, value: Any) -> Any:
    """Read one constraint or reference value (text or already typed) as the field's type."""
    if isinstance(value, str):
        reader = reader_for(field)
        return value if reader is None else reader(value)
    if field.type == "number" and isinstance(value, float):
        return Decimal(str(value))
    return value


def object_array(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def texts_of(series: pd.Series) -> np.ndarray:
    """The column as an object array of str/None (pandas' str dtype stores missing as NaN)."""
    return texts_and_none(series)[0]


def texts_and_none(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """texts_of(series) and where it is None."""
    arr = series.to_numpy(dtype=object, copy=True)
    none = pd.isna(arr)
    arr[none] = None
    return arr, none


_MISS: Any = object()  # "not given", told apart from None by identity
_CACHE_SIZE = 200_000


def cached(reader: Reader) -> Reader:
    """The reader with a memory of the texts it has read (bounded), for readers that are slow per value."""
    memory: dict[str, Any] = {}

    def read(text: str) -> Any:
        value = memory.get(text, _MISS)
        if value is _MISS:
            value = reader(text)
            if len(memory) < _CACHE_SIZE:
                memory[text] = value
        return value

    return read


def column_reader(field: FieldSpec) -> Reader | None:
    """The reader to use across the batches of a file: slow readers remember what they read."""
    reader = reader_for(field)
    if reader is None or field.type in _CHEAP_TYPES or field.format in _CHEAP_FORMATS:
        return reader
    return cached(reader)


def cast_column(
    field: FieldSpec, texts: np.ndarray, absent: np.ndarray | None = None, reader: Reader | None = _MISS,
    none: np.ndarray | None = None,
) -> CastColumn:
    """Read one column. `absent` marks cells the source row did not have (short rows): always missing;
    `none`, if known, marks the None cells of `texts`."""
    # numpy compares with None cell by cell (its stubs take no None)
    missing = np.equal(texts, None) if none is None else none.copy()  # type: ignore[call-overload]  # texts_of() leaves only None as missing
    extra_missing = [m for m in field.missing_values if m != ""]
    if "" in field.missing_values:
        missing |= texts == ""
    if extra_missing:
        missing |= pd.Series(texts, dtype=object).isin(extra_missing).to_numpy()
    if absent is not None:
        missing |= absent
    values = texts.copy()
    values[missing] = None
    type_error = np.zeros(len(texts), dtype=bool)
    if reader is _MISS:
        reader = reader_for(field)
    if reader is not None:
        present = np.flatnonzero(~missing)
        if len(present):
            subset = texts[present]
            if field.type in _CHEAP_TYPES or field.format in _CHEAP_FORMATS:
                parsed = object_array(list(map(reader, subset)))
            else:
                codes, uniques = pd.factorize(subset)
                parsed = object_array(list(map(reader, uniques)))[codes]
            bad = np.asarray(parsed == INVALID, dtype=bool)  # _Invalid compares by identity
            parsed[bad] = None
            values[present] = parsed
            type_error[present[bad]] = True
    return CastColumn(field=field, texts=texts, values=values, missing=missing, type_error=type_error)
