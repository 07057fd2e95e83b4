"""Periodic report definitions: schemas/reports/*.yaml, named in catalog.yaml under `reports:`.

A definition says what a periodic sector report is (title, form code "Biểu số …", reporting and receiving
units, period kind, deadline) and how each of its indicators is computed over one published dataset: a
count of records, a sum of a numeric field, or a count of records whose date field falls inside the period,
with filters and breakdowns by fields. The format is documented in docs/reports.md. Definitions are checked
against the catalogue's schemas when the catalogue loads, so a misspelt field is one clear error naming the
file, the indicator and the field.

Periods are written `2026-09` (month), `2026-Q3` (quarter), `2026-H2` (half-year) and `2026` (year). Their
bounds are local dates (Asia/Ho_Chi_Minh, UTC+7, no daylight saving); `Period.end_utc` is the instant the
period ends, naive UTC like every stored timestamp.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import yaml

from core.errors import CatalogError, InputError

if TYPE_CHECKING:
    from core.catalog import Catalog

PERIOD_KINDS = ("month", "quarter", "half-year", "year")
MEASURES = ("count", "sum", "count_in_period")
LOCAL_OFFSET = timedelta(hours=7)  # Vietnam: UTC+7 all year
#: when the scheduler produces each kind of report: 01:00 local on the first day after the period (cron)
PERIOD_CRON = {
    "month": "0 1 1 * *",
    "quarter": "0 1 1 1,4,7,10 *",
    "half-year": "0 1 1 1,7 *",
    "year": "0 1 1 1 *",
}
_PERIOD_RE = re.compile(r"^(\d{4})(?:-(?:(0[1-9]|1[0-2])|Q([1-4])|H([12])))?$")


@dataclass(frozen=True, order=True)
class Period:
    """One reporting period: its kind and its local dates [start, end)."""

    start: date
    end: date  # first day after the period
    kind: str

    @property
    def code(self) -> str:
        y = self.start.year
        if self.kind == "month":
            return f"{y}-{self.start.month:02d}"
        if self.kind == "quarter":
            return f"{y}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "half-year":
            return f"{y}-H{1 if self.start.month == 1 else 2}"
        return f"{y}"

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def end_utc(self) -> datetime:
        """The instant the period ends (local midnight of `end`), as naive UTC."""
        return datetime.combine(self.end, datetime.min.time()) - LOCAL_OFFSET

    def label(self, lang: str = "vi") -> str:
        y = self.start.year
        if self.kind == "month":
            return f"Tháng {self.start.month:02d} năm {y}" if lang == "vi" else f"{self.start:%B} {y}"
        if self.kind == "quarter":
            q = (self.start.month - 1) // 3 + 1
            return f"Quý {['I', 'II', 'III', 'IV'][q - 1]} năm {y}" if lang == "vi" else f"Quarter {q} {y}"
        if self.kind == "half-year":
            h = 1 if self.start.month == 1 else 2
            return f"{'6 tháng đầu' if h == 1 else '6 tháng cuối'} năm {y}" if lang == "vi" else \
                f"{'First' if h == 1 else 'Second'} half of {y}"
        return f"Năm {y}" if lang == "vi" else f"Year {y}"

    def next(self) -> Period:
        return period_containing(self.end, self.kind)

    def previous(self) -> Period:
        return period_containing(self.start - timedelta(days=1), self.kind)

    def __str__(self) -> str:
        return self.code


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_containing(day: date, kind: str) -> Period:
    """The period of `kind` that holds the local date `day`."""
    size = {"month": 1, "quarter": 3, "half-year": 6, "year": 12}[kind]
    first_month = (day.month - 1) // size * size + 1
    start = date(day.year, first_month, 1)
    return Period(start, _add_months(start, size), kind)


def parse_period(text: str, kind: str | None = None) -> Period:
    """'2026-Q3' -> Period; with `kind`, the text must be a period of that kind."""
    m = _PERIOD_RE.match((text or "").strip().upper())
    if not m:
        raise InputError(f"Kỳ báo cáo không hợp lệ «{text}» (ví dụ: 2026-09, 2026-Q3, 2026-H2, 2026)",
                         f"Not a reporting period: «{text}» (e.g. 2026-09, 2026-Q3, 2026-H2, 2026)", field="period")
    year, month, quarter, half = m.groups()
    y = int(year)
    if month:
        found = period_containing(date(y, int(month), 1), "month")
    elif quarter:
        found = period_containing(date(y, (int(quarter) - 1) * 3 + 1, 1), "quarter")
    elif half:
        found = period_containing(date(y, 1 if half == "1" else 7, 1), "half-year")
    else:
        found = period_containing(date(y, 1, 1), "year")
    if kind and found.kind != kind:
        raise InputError(f"Báo cáo này theo kỳ {KIND_TITLES[kind]['vi']}; «{text}» không phải kỳ như vậy",
                         f"This report is {KIND_TITLES[kind]['en']}; «{text}» is not such a period", field="period")
    return found


KIND_TITLES = {
    "month": {"vi": "tháng", "en": "monthly"},
    "quarter": {"vi": "quý", "en": "quarterly"},
    "half-year": {"vi": "6 tháng", "en": "half-yearly"},
    "year": {"vi": "năm", "en": "yearly"},
}


@dataclass(frozen=True)
class Indicator:
    code: str
    name: dict[str, str]
    unit: dict[str, str]
    dataset: str
    measure: str  # count, sum, count_in_period
    field: str | None  # summed field, or the date field of count_in_period
    where: dict[str, Any]
    breakdowns: tuple[tuple[str, ...], ...]  # each a tuple of field names; the total is always produced
    note: dict[str, str] = dataclasses.field(default_factory=dict)  # dataclasses.field: `field` is a column here
    #: fields whose every value is listed (0 where no record has it) even in a crossed breakdown, or, for a
    #: field naming records of another dataset (commune_code), every record of it: see `listed`
    all_values: tuple[str, ...] = ()
    #: {field: dataset whose keys are its values}, for the fields of all_values that reference another dataset
    references: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)

    def listed(self, breakdown: tuple[str, ...], fixed: dict[str, list[str]]) -> bool:
        """Whether every value (combination) of `breakdown` gets a line, 0 where no record has it: a breakdown
        by one field with a fixed list of values (an enum: type, rank, status; a bounded integer: star rank),
        or one whose every field the definition names in `all_values`. `fixed`: field -> its values."""
        if len(breakdown) == 1 and breakdown[0] in fixed:
            return True
        return all(f in self.all_values for f in breakdown)

    def text(self, lang: str = "vi") -> str:
        return self.name.get(lang) or self.name["vi"]

    def unit_text(self, lang: str = "vi") -> str:
        return self.unit.get(lang) or self.unit.get("vi", "")


@dataclass(frozen=True)
class ReportDefinition:
    id: str
    path: Path
    raw: dict[str, Any]
    indicators: tuple[Indicator, ...]

    def text(self, key: str, lang: str = "vi") -> str:
        value = self.raw.get(key) or ""
        if isinstance(value, dict):
            return value.get(lang) or value.get("vi") or ""
        return str(value)

    def title(self, lang: str = "vi") -> str:
        return self.text("title", lang)

    @property
    def form(self) -> str:
        return str(self.raw["form"])

    @property
    def period_kind(self) -> str:
        return cast(str, self.raw["period"])

    @property
    def deadline_days(self) -> int:
        return int(self.raw.get("deadline_days", 0))

    @property
    def first_period(self) -> Period:
        """The first period the scheduler produces (earlier ones only on request)."""
        return parse_period(str(self.raw["first_period"]), self.period_kind)

    @property
    def cron(self) -> str:
        return str(self.raw.get("schedule") or PERIOD_CRON[self.period_kind])

    @property
    def datasets(self) -> list[str]:
        """Every dataset the report reads: those its indicators count, and those listing the values of an
        `all_values` field (the communes of admin-units), each as of the period's end."""
        return sorted({i.dataset for i in self.indicators}
                      | {ref for i in self.indicators for ref, _ in i.references.values()})

    @property
    def aggregate_only(self) -> bool:
        return bool(self.raw.get("aggregate_only", False))

    @property
    def min_cell(self) -> int:
        return int(self.raw.get("min_cell", 0))

    def deadline(self, period: Period) -> date:
        """The last local day to file the report: day N after the period."""
        return period.last_day + timedelta(days=self.deadline_days)

    def deadline_utc(self, period: Period) -> datetime:
        """The end of the deadline day, as naive UTC."""
        return datetime.combine(self.deadline(period) + timedelta(days=1), datetime.min.time()) - LOCAL_OFFSET

    def indicator(self, code: str) -> Indicator:
        for ind in self.indicators:
            if ind.code == code:
                return ind
        raise KeyError(code)

    @property
    def sha256(self) -> str:
        """A digest of the definition as read (recorded with each produced report)."""
        return hashlib.sha256(json.dumps(self.raw, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


FIXED_RANGE = 50  # an integer field with minimum and maximum this close has a fixed list of values (star rank)


def fixed_values(field: Any) -> list[str] | None:  # noqa: ANN401 - core.catalog.Field (which imports this module)
    """The values a field can take, as stored text, when the schema fixes them: an enum, or an integer with a
    small minimum..maximum range (star rank 1-5). None otherwise."""
    enum = field.enum
    if enum:
        return [str(v) for v in enum]
    low, high = field.constraints.get("minimum"), field.constraints.get("maximum")
    if field.type == "integer" and isinstance(low, int) and isinstance(high, int) and 0 <= high - low <= FIXED_RANGE:
        return [str(v) for v in range(low, high + 1)]
    return None


def _bilingual(value: Any) -> dict[str, str] | None:
    if isinstance(value, str) and value:
        return {"vi": value, "en": value}
    if isinstance(value, dict) and value.get("vi"):
        return {"vi": str(value["vi"]), "en": str(value.get("en") or value["vi"])}
    return None


def load_definition(path: Path, catalog: Catalog) -> ReportDefinition:
    """Read and check one definition file against the catalogue's datasets and schemas."""
    where: dict[str, Any] = {"file": str(path)}

    def fail(vi: str, en: str, **extra: Any) -> CatalogError:
        return CatalogError(f"Định nghĩa báo cáo: {vi}", f"Report definition: {en}", **where, **extra)

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise fail(f"không tìm thấy tệp {path}", f"file not found: {path}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise fail(f"không phải YAML hợp lệ ({getattr(exc, 'problem', exc)})",
                   f"not valid YAML ({getattr(exc, 'problem', exc)})",
                   row=mark.line + 1 if mark else None) from None
    if not isinstance(raw, dict):
        raise fail("tệp phải là một đối tượng YAML", "the file must hold a YAML mapping")
    for key in ("id", "title", "form", "reporting_unit", "receiving_unit", "period", "first_period", "indicators"):
        if not raw.get(key):
            raise fail(f"thiếu «{key}»", f"«{key}» is missing", field=key)
    report_id = str(raw["id"])
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", report_id):
        raise fail(f"«id» chỉ gồm chữ thường, số và dấu gạch ngang: {report_id!r}",
                   f"«id» must be lower-case letters, digits and hyphens: {report_id!r}", field="id")
    for key in ("title", "reporting_unit", "receiving_unit"):
        if _bilingual(raw[key]) is None:
            raise fail(f"«{key}» cần vi (và en)", f"«{key}» needs vi (and en)", field=key)
    if raw["period"] not in PERIOD_KINDS:
        raise fail(f"«period» phải là một trong {', '.join(PERIOD_KINDS)}",
                   f"«period» must be one of {', '.join(PERIOD_KINDS)}", field="period")
    try:
        parse_period(str(raw["first_period"]), raw["period"])
    except InputError as exc:
        raise fail(exc.vi, exc.en, field="first_period") from None
    deadline = raw.get("deadline_days", 0)
    if not isinstance(deadline, int) or deadline < 0:
        raise fail("«deadline_days» phải là số nguyên không âm", "«deadline_days» must be a whole number ≥ 0",
                   field="deadline_days")
    if raw.get("schedule"):
        from croniter import croniter

        if not croniter.is_valid(str(raw["schedule"])):
            raise fail(f"«schedule» không phải biểu thức cron: {raw['schedule']!r}",
                       f"«schedule» is not a cron expression: {raw['schedule']!r}", field="schedule")
    if not isinstance(raw["indicators"], list):
        raise fail("«indicators» phải là một danh sách", "«indicators» must be a list", field="indicators")
    indicators = []
    for number, item in enumerate(raw["indicators"], start=1):
        indicators.append(_indicator(item, number, catalog, fail))
    codes = [i.code for i in indicators]
    duplicate = next((c for c in codes if codes.count(c) > 1), None)
    if duplicate:
        raise fail(f"mã chỉ tiêu «{duplicate}» lặp lại", f"indicator code «{duplicate}» is used twice", field="code")
    return ReportDefinition(report_id, path, raw, tuple(indicators))


def _indicator(item: Any, number: int, catalog: Catalog, fail: Any) -> Indicator:
    if not isinstance(item, dict):
        raise fail(f"chỉ tiêu thứ {number} phải là một đối tượng", f"indicator {number} must be a mapping")
    code = str(item.get("code") or "")
    label = f"chỉ tiêu «{code or number}»"
    label_en = f"indicator «{code or number}»"
    for key in ("code", "name", "unit", "dataset"):
        if not item.get(key):
            raise fail(f"{label} thiếu «{key}»", f"{label_en} has no «{key}»", field=key)
    name, unit = _bilingual(item["name"]), _bilingual(item["unit"])
    if name is None or unit is None:
        raise fail(f"{label}: «name» và «unit» cần vi (và en)", f"{label_en}: «name» and «unit» need vi (and en)")
    if item["dataset"] not in catalog.datasets:
        raise fail(f"{label}: không có bộ dữ liệu «{item['dataset']}»",
                   f"{label_en}: no dataset «{item['dataset']}»", field="dataset")
    schema = catalog.datasets[item["dataset"]].schema
    measure = item.get("measure", "count")
    if measure not in MEASURES:
        raise fail(f"{label}: «measure» phải là một trong {', '.join(MEASURES)}",
                   f"{label_en}: «measure» must be one of {', '.join(MEASURES)}", field="measure")

    def known(name: str, what: str) -> str:
        if name not in schema.field_names:
            raise fail(f"{label}: {what} nêu trường không có trong lược đồ «{item['dataset']}»: {name}",
                       f"{label_en}: {what} names a field not in the «{item['dataset']}» schema: {name}", field=name)
        if schema.field(name).personal:
            raise fail(f"{label}: không được dùng trường cá nhân «{name}»",
                       f"{label_en}: personal field «{name}» cannot be used", field=name)
        return name

    target = item.get("field")
    if measure == "sum":
        if not target or schema.field(known(target, "field")).type not in ("integer", "number"):
            raise fail(f"{label}: «sum» cần «field» là trường số", f"{label_en}: «sum» needs a numeric «field»",
                       field="field")
    elif measure == "count_in_period":
        if not target or schema.field(known(target, "field")).type not in ("date", "datetime"):
            raise fail(f"{label}: «count_in_period» cần «field» là trường ngày",
                       f"{label_en}: «count_in_period» needs a date «field»", field="field")
    elif target:
        known(target, "field")
    where = item.get("where") or {}
    if not isinstance(where, dict):
        raise fail(f"{label}: «where» phải là một đối tượng", f"{label_en}: «where» must be a mapping", field="where")
    for filtered, condition in where.items():
        known(filtered, "where")
        if isinstance(condition, dict) and not set(condition) <= {"not", "present"}:
            raise fail(f"{label}: điều kiện của «{filtered}» chỉ nhận not, present",
                       f"{label_en}: the condition on «{filtered}» takes only not, present", field=filtered)
    breakdowns: list[tuple[str, ...]] = []
    for entry in item.get("by") or []:
        fields_ = (entry,) if isinstance(entry, str) else tuple(entry)
        breakdowns.append(tuple(known(f, "by") for f in fields_))
    listed = item.get("all_values") or []
    if not isinstance(listed, list):
        raise fail(f"{label}: «all_values» phải là danh sách trường", f"{label_en}: «all_values» must be a list of fields",
                   field="all_values")
    references: dict[str, tuple[str, str]] = {}
    for listed_field in listed:
        if not any(listed_field in b for b in breakdowns):
            raise fail(f"{label}: «all_values» nêu trường không có trong «by»: {listed_field}",
                       f"{label_en}: «all_values» names a field not in «by»: {listed_field}", field=listed_field)
        ref = _reference(schema, listed_field)
        if ref is not None and ref[0] in catalog.datasets:
            references[listed_field] = ref
        elif fixed_values(schema.field(listed_field)) is None:
            raise fail(f"{label}: không liệt kê được mọi giá trị của «{listed_field}» (không phải danh mục enum, "
                       "khoảng số nguyên nhỏ hay khoá ngoại)",
                       f"{label_en}: the values of «{listed_field}» cannot all be listed (not an enum, a small integer range "
                       "or a foreign key)", field=listed_field)
    return Indicator(code=code, name=name, unit=unit, dataset=item["dataset"], measure=measure, field=target,
                     where=dict(where), breakdowns=tuple(breakdowns), note=_bilingual(item.get("note")) or {},
                     all_values=tuple(listed), references=references)


def _reference(schema: Any, name: str) -> tuple[str, str] | None:  # noqa: ANN401 - core.catalog.Schema
    """(dataset, key field) that a one-field foreign key on `name` points at, or None."""
    for fk in schema.foreign_keys:
        fields = fk.get("fields")
        ref = fk.get("reference") or {}
        keys = ref.get("fields")
        named = [fields] if isinstance(fields, str) else list(fields or [])
        if named == [name] and ref.get("resource") and keys:
            return ref["resource"], keys if isinstance(keys, str) else keys[0]
    return None


def load_definitions(catalog: Catalog, paths: list[Any]) -> dict[str, ReportDefinition]:
    out: dict[str, ReportDefinition] = {}
    for relative in paths:
        definition = load_definition(catalog.resolve(str(relative)), catalog)
        if definition.id in out:
            raise CatalogError(f"Báo cáo «{definition.id}» khai báo hai lần", f"Report «{definition.id}» is declared twice",
                               file=str(definition.path))
        out[definition.id] = definition
    return out
