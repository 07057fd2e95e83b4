"""Quality suites: `schemas/<dataset>.quality.yaml`, read and checked against the dataset's schema.

A suite is a list of expectations about rows that already passed the schema: things a data steward would ask
for that a Table Schema cannot say (a homestay has no star rank, a licence expires after it is issued, a site
lies inside its commune, most rows have a phone number). Each expectation becomes one Great Expectations
expectation (validate/quality.py runs them). The file format, kept small on purpose so stewards can read it:

    expectations:
      - id: star-rank-not-applicable      # unique in the file; [a-z0-9-]
        type: star-rank-not-applicable    # problem category shown in reports (default: the id)
        check: empty                      # one of CHECKS below
        field: star_rank
        where: {type: {not_in: [khach_san, biet_thu_du_lich]}}   # optional: only rows where this holds
        severity: warn                    # warn (load, report it) or block (refuse the load); default warn
        weight: 1                         # share in the quality score; default 1
        description: {vi: "...", en: "..."}   # required, both languages

Checks and their parameters:
    filled            field, share (the least share of rows that must have a value; default 1)
    empty             field
    between           field, min and/or max (numbers, ISO dates, `today`, `this_year`), extract (a regex whose
                      first group is read as a number, e.g. the year inside a licence number)
    one_of            field, values
    matches           field, pattern (a regular expression searched from the start of the text)
    not_matches       field, pattern
    not_before        field, other (field must be >= other where both have a value)
    unique_together   fields (compared folded: case, spacing and diacritics ignored)
    inside_province   the schema's point, or lat/lon: inside the province's communes (admin-units boundaries)
    inside_commune    commune (default commune_code): the point lies inside that commune's boundary
    inside_own_boundary   lat, lon: the point lies inside the row's own boundary (admin-units)

`where` maps fields to conditions, all of which must hold: a value (equals), a list (one of), or one of
{not: v}, {not_in: [..]}, {empty: true}, {filled: true}, {before: v}, {after: v}, {at_least: v}, {at_most: v}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from core.catalog import Schema
from core.errors import CatalogError

CHECKS = ("filled", "empty", "between", "one_of", "matches", "not_matches", "not_before", "unique_together",
          "inside_province", "inside_commune", "inside_own_boundary")
GEO_CHECKS = ("inside_province", "inside_commune", "inside_own_boundary")
SEVERITIES = ("warn", "block")
OPERATORS = ("equals", "in", "not", "not_in", "empty", "filled", "before", "after", "at_least", "at_most")
TOKENS = ("today", "this_year")
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")

__all__ = ["CHECKS", "Condition", "Expectation", "Suite", "load_suite", "resolve", "suite_path"]


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class Expectation:
    id: str
    type: str
    check: str
    severity: str
    weight: float
    description: dict[str, str]
    field: str | None = None
    fields: tuple[str, ...] = ()
    other: str | None = None
    minimum: Any = None
    maximum: Any = None
    values: tuple[Any, ...] = ()
    pattern: str | None = None
    share: float = 1.0
    extract: str | None = None
    lat: str | None = None
    lon: str | None = None
    commune: str | None = None
    boundary: str | None = None
    code: str | None = None
    where: tuple[Condition, ...] = ()

    @property
    def report_fields(self) -> list[str]:
        """The fields a steward should look at: highlighted in reports, their values listed."""
        if self.check in GEO_CHECKS:
            return [f for f in (self.lat, self.lon) if f]
        if self.fields:
            return list(self.fields)
        return [f for f in (self.field, self.other) if f]

    @property
    def condition_fields(self) -> list[str]:
        return [c.field for c in self.where]

    @property
    def needs(self) -> list[str]:
        """Every field the check reads (the quality run keeps only these columns of the valid rows)."""
        names = [*self.report_fields, *self.condition_fields]
        names += [f for f in (self.commune, self.boundary, self.code) if f]
        return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Suite:
    dataset: str
    path: Path
    expectations: tuple[Expectation, ...] = ()

    @property
    def needs(self) -> list[str]:
        return list(dict.fromkeys(n for e in self.expectations for n in e.needs))

    @property
    def uses_geography(self) -> bool:
        return any(e.check in GEO_CHECKS for e in self.expectations)


def suite_path(schema: Schema) -> Path:
    """schemas/<id>.json -> schemas/<id>.quality.yaml"""
    return schema.path.with_name(f"{schema.path.stem}.quality.yaml")


def resolve(value: Any, today: date) -> Any:
    """`today` and `this_year` as of `today`; ISO date text as a date; anything else as written."""
    if value == "today":
        return today
    if value == "this_year":
        return today.year
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return date.fromisoformat(value)
    return value


def load_suite(schema: Schema) -> Suite | None:
    """The dataset's suite, or None when it has none. A mistake in the file is a CatalogError naming it."""
    path = suite_path(schema)
    if not path.is_file():
        return None
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CatalogError(f"Bộ kiểm tra chất lượng không phải YAML hợp lệ: {exc}",
                           f"The quality suite is not valid YAML: {exc}", file=str(path),
                           row=mark.line + 1 if mark else None) from None
    items = raw.get("expectations") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        raise _error(path, "cần mục «expectations» là một danh sách", "needs an «expectations» list")
    expectations = [_expectation(path, schema, item, n) for n, item in enumerate(items, start=1)]
    ids = [e.id for e in expectations]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise _error(path, f"trùng id: {', '.join(duplicates)}", f"duplicate ids: {', '.join(duplicates)}")
    return Suite(schema.descriptor.get("name") or path.stem, path, tuple(expectations))


def _error(path: Path, vi: str, en: str, **context: Any) -> CatalogError:
    return CatalogError(f"Bộ kiểm tra chất lượng {path.name}: {vi}", f"Quality suite {path.name}: {en}",
                        file=str(path), **context)


def _expectation(path: Path, schema: Schema, item: Any, n: int) -> Expectation:
    if not isinstance(item, dict):
        raise _error(path, f"mục thứ {n} phải là một bảng khoá: giá trị", f"item {n} must be a mapping")
    ident = str(item.get("id") or "")
    where = {"field": ident or f"#{n}"}
    if not _ID.fullmatch(ident):
        raise _error(path, f"mục thứ {n}: «id» phải gồm chữ thường, số và gạch nối",
                     f"item {n}: «id» must be lower-case letters, digits and hyphens", **where)
    check = item.get("check")
    if check not in CHECKS:
        raise _error(path, f"«{ident}»: «check» phải là một trong {', '.join(CHECKS)}",
                     f"«{ident}»: «check» must be one of {', '.join(CHECKS)}", **where)
    severity = item.get("severity", "warn")
    if severity not in SEVERITIES:
        raise _error(path, f"«{ident}»: «severity» phải là warn hoặc block", f"«{ident}»: «severity» must be warn or block",
                     **where)
    description = item.get("description") or {}
    if not isinstance(description, dict) or not description.get("vi") or not description.get("en"):
        raise _error(path, f"«{ident}»: cần «description» có cả vi và en",
                     f"«{ident}»: needs a «description» with both vi and en", **where)
    weight = item.get("weight", 1)
    share = item.get("share", 1)
    if not isinstance(weight, (int, float)) or weight <= 0 or not isinstance(share, (int, float)) or not 0 < share <= 1:
        raise _error(path, f"«{ident}»: «weight» phải > 0 và «share» trong (0, 1]",
                     f"«{ident}»: «weight» must be > 0 and «share» within (0, 1]", **where)
    geometry = schema.geometry or {}
    point = geometry if geometry.get("type") == "point" else {}
    expectation = Expectation(
        id=ident, type=str(item.get("type") or ident), check=check, severity=severity, weight=float(weight),
        description={"vi": str(description["vi"]), "en": str(description["en"])},
        field=item.get("field"), fields=tuple(item.get("fields") or ()), other=item.get("other"),
        minimum=item.get("min"), maximum=item.get("max"), values=tuple(item.get("values") or ()),
        pattern=item.get("pattern"), share=float(share), extract=item.get("extract"),
        lat=item.get("lat") or (point.get("latitude") if check in GEO_CHECKS else None),
        lon=item.get("lon") or (point.get("longitude") if check in GEO_CHECKS else None),
        commune=(item.get("commune") or "commune_code") if check == "inside_commune" else None,
        boundary=(item.get("boundary") or geometry.get("field")) if check == "inside_own_boundary" else None,
        code=(schema.primary_key[0] if schema.primary_key else None) if check == "inside_own_boundary" else None,
        where=_conditions(path, ident, item.get("where")),
    )
    _check_parameters(path, schema, expectation)
    return expectation


def _conditions(path: Path, ident: str, raw: Any) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise _error(path, f"«{ident}»: «where» phải là một bảng trường: điều kiện",
                     f"«{ident}»: «where» must map fields to conditions", field=ident)
    out = []
    for name, cond in raw.items():
        if isinstance(cond, list):
            out.append(Condition(str(name), "in", tuple(cond)))
        elif isinstance(cond, dict):
            for op, value in cond.items():
                if op not in OPERATORS:
                    raise _error(path, f"«{ident}»: điều kiện không hỗ trợ «{op}»", f"«{ident}»: unknown condition «{op}»",
                                 field=ident)
                out.append(Condition(str(name), op, tuple(value) if isinstance(value, list) else value))
        else:
            out.append(Condition(str(name), "equals", cond))
    return tuple(out)


def _check_parameters(path: Path, schema: Schema, e: Expectation) -> None:
    where = {"field": e.id}
    names = set(schema.field_names)
    missing = [n for n in e.needs if n not in names]
    if missing:
        raise _error(path, f"«{e.id}» nêu trường không có trong lược đồ: {', '.join(missing)}",
                     f"«{e.id}» names fields the schema does not have: {', '.join(missing)}", **where)
    required: dict[str, tuple[str, ...]] = {
        "filled": ("field",), "empty": ("field",), "between": ("field",), "one_of": ("field", "values"),
        "matches": ("field", "pattern"), "not_matches": ("field", "pattern"), "not_before": ("field", "other"),
        "unique_together": ("fields",), "inside_province": ("lat", "lon"), "inside_commune": ("lat", "lon", "commune"),
        "inside_own_boundary": ("lat", "lon", "boundary", "code"),
    }
    absent = [p for p in required[e.check] if not getattr(e, p)]
    if e.check == "between" and e.minimum is None and e.maximum is None:
        absent.append("min/max")
    if absent:
        raise _error(path, f"«{e.id}» ({e.check}) thiếu: {', '.join(absent)}", f"«{e.id}» ({e.check}) needs: {', '.join(absent)}",
                     **where)
    for pattern in (e.pattern, e.extract):
        if pattern is None:
            continue
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise _error(path, f"«{e.id}»: biểu thức chính quy sai: {exc}", f"«{e.id}»: bad regular expression: {exc}",
                         **where) from None
        if pattern is e.extract and compiled.groups < 1:
            raise _error(path, f"«{e.id}»: «extract» cần một nhóm (...)", f"«{e.id}»: «extract» needs a group (...)", **where)
