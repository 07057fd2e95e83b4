"""The statistics dataset of a report definition: a catalogue dataset generated from the definition.

Every produced period of a periodic report is published as rows of one dataset per definition (same id as
the report), so the sharing API, CKAN, DCAT, exports, feeds and the web site serve it like any other
dataset. Nothing of it is typed into catalog.yaml: its Table Schema and its catalogue entry are derived here
from the definition and the datasets it reads (docs/reports.md, "The statistics dataset").

Access: as restricted as the most restricted dataset it reads, unless the definition says
`aggregate_only: true` with a `min_cell`: then it is open, and a cell counting fewer than `min_cell` records
is not published at all (the schema's `records` minimum refuses one, whoever loads it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.errors import CatalogError
from core.reports import KIND_TITLES, ReportDefinition

if TYPE_CHECKING:
    from core.catalog import Catalog

ACCESS_ORDER = ("open", "shared", "restricted")
#: period kind -> catalogue frequency (the slugs of catalog.yaml, DCAT's EU frequency names)
FREQUENCIES = {"month": "monthly", "quarter": "quarterly", "half-year": "biannual", "year": "annual"}


def access_of(catalog: Catalog, definition: ReportDefinition) -> str:
    """open, shared or restricted: the most restricted source's level, unless aggregate-only with a minimum."""
    if definition.aggregate_only and definition.min_cell > 0:
        return "open"
    levels = [catalog.datasets[ds].access for ds in definition.datasets if ds in catalog.datasets]
    return max(levels, key=ACCESS_ORDER.index, default="open")


def minimum_records(definition: ReportDefinition) -> int:
    """The fewest records a published cell may count (0 unless aggregate-only)."""
    return definition.min_cell if definition.aggregate_only else 0


def schema_descriptor(definition: ReportDefinition) -> dict[str, Any]:
    """The statistics table's Table Schema: one row per period × indicator × breakdown category."""
    minimum = minimum_records(definition)

    def f(name: str, type_: str, vi: str, en: str, descriptions: tuple[str, str] | None = None,
          **extra: Any) -> dict[str, Any]:
        out = {"name": name, "type": type_, "titles": {"vi": vi, "en": en}, "classification": "public", **extra}
        if descriptions:
            out["descriptions"] = {"vi": descriptions[0], "en": descriptions[1]}
        return out

    withheld = (f"Không công bố ô đếm ít hơn {minimum} bản ghi.", f"No cell counting fewer than {minimum} records is published.") \
        if minimum else ("", "")
    return {
        "fields": [
            f("period", "string", "Kỳ báo cáo", "Period", ("Kỳ: 2026-09, 2026-Q3, 2026-H2 hoặc 2026.",
                                                          "The period: 2026-09, 2026-Q3, 2026-H2 or 2026."),
              constraints={"required": True, "pattern": r"\d{4}(?:-(?:0[1-9]|1[0-2]|Q[1-4]|H[12]))?"},
              patternDescriptions={"vi": "năm (4 chữ số), có thể thêm gạch ngang và tháng (01 đến 12), quý (Q1 đến Q4) "
                                         "hoặc nửa năm (H1, H2), ví dụ 2026, 2026-09, 2026-Q3",
                                   "en": "the year (4 digits), possibly a hyphen and the month (01 to 12), quarter "
                                         "(Q1 to Q4) or half (H1, H2), e.g. 2026, 2026-09, 2026-Q3"},
              aliases=["Kỳ"]),
            f("period_start", "date", "Ngày đầu kỳ", "First day of the period",
              ("Ngày đầu tiên của kỳ báo cáo (giờ Việt Nam).", "The period's first day (Vietnam time)."),
              constraints={"required": True},
              aliases=["Từ ngày"]),
            f("period_end", "date", "Ngày cuối kỳ", "Last day of the period",
              ("Ngày cuối cùng của kỳ báo cáo: số liệu tính theo dữ liệu đã công bố hết ngày này.",
               "The period's last day: the figures are those of the data as published at its end."),
              constraints={"required": True},
              aliases=["Đến ngày"]),
            f("indicator", "string", "Mã chỉ tiêu", "Indicator code",
              ("Mã của chỉ tiêu trên biểu báo cáo (cột «Mã số»).", "The indicator's code on the report form."),
              constraints={"required": True, "enum": [i.code for i in definition.indicators]},
              enumLabels={i.code: i.name for i in definition.indicators}),
            f("label", "string", "Chỉ tiêu", "Indicator or category",
              ("Tên chỉ tiêu ở dòng tổng; ở dòng chia nhóm: các trường chia theo và giá trị của nhóm.",
               "The indicator's name on its total; on a breakdown line, the fields and the category's values."),
              aliases=["Tên chỉ tiêu"]),
            f("unit", "string", "Đơn vị tính", "Unit", ("Đơn vị tính của chỉ tiêu (tiếng Việt).",
                                                        "The indicator's unit (in Vietnamese)."), aliases=["ĐVT"]),
            f("breakdown", "string", "Chia theo", "Breakdown",
              ("Trống ở dòng tổng của chỉ tiêu; tên các trường nối bằng '|'.",
               "Empty on the indicator's total; field names joined by '|'."), aliases=["Chia theo (trường)"]),
            f("category", "string", "Nhóm", "Category",
              ("Giá trị các trường chia theo, nối bằng '|'; trống ở dòng tổng và khi không ghi.",
               "The breakdown fields' values joined by '|'; empty on the total and where not stated."),
              aliases=["Mã nhóm"]),
            f("value", "number", "Số lượng", "Figure", ("Số liệu của chỉ tiêu trong kỳ. " + withheld[0],
                                                        "The indicator's figure for the period. " + withheld[1]),
              constraints={"required": True}, aliases=["Giá trị"]),
            f("records", "integer", "Số bản ghi", "Records counted",
              ("Số bản ghi của bộ dữ liệu nguồn mà số liệu đếm. " + withheld[0],
               "How many records of the source dataset the figure counts. " + withheld[1]),
              constraints={"required": True, "minimum": minimum}),
        ],
        "primaryKey": ["period", "indicator", "breakdown", "category"],
        "missingValues": [""],
        "report": definition.id,
        "form": definition.form,
    }


def _clients(sources: list[Any]) -> list[str]:
    """The departments named for every restricted source: only they may see figures computed from all of them."""
    named = [set(ds.clients) for ds in sources if ds.access == "restricted"]
    return sorted(set.intersection(*named)) if named else []


def dataset_entry(catalog: Catalog, definition: ReportDefinition) -> dict[str, Any]:
    """The catalogue entry: titles and description from the definition; publisher, licence and themes from
    the definition when it names them, else from the datasets it reads."""
    sources = [catalog.datasets[ds] for ds in definition.datasets if ds in catalog.datasets]
    counted = [catalog.datasets[i.dataset] for i in definition.indicators]
    where = {"file": str(definition.path)}
    publisher = str(definition.raw.get("publisher") or counted[0].publisher)
    licence = str(definition.raw.get("licence") or counted[0].licence)
    themes = list(definition.raw.get("themes") or dict.fromkeys(t for ds in counted for t in ds.themes))
    if publisher not in catalog.publishers:
        raise CatalogError(f"Định nghĩa báo cáo: không có đơn vị xuất bản «{publisher}»",
                           f"Report definition: unknown publisher «{publisher}»", **where)
    if licence not in catalog.licences:
        raise CatalogError(f"Định nghĩa báo cáo: không có giấy phép «{licence}»",
                           f"Report definition: unknown licence «{licence}»", **where)
    for theme in themes:
        if theme not in catalog.themes:
            raise CatalogError(f"Định nghĩa báo cáo: không có chủ đề «{theme}»", f"Report definition: unknown theme «{theme}»",
                               **where)
    access = access_of(catalog, definition)
    kind = KIND_TITLES[definition.period_kind]
    minimum = minimum_records(definition)
    names = {lang: ", ".join(ds.title(lang) for ds in sources) for lang in ("vi", "en")}
    description = {
        "vi": f"Số liệu {definition.form} «{definition.title('vi')}», lập theo kỳ {kind['vi']} từ dữ liệu đã công bố "
              f"tại thời điểm cuối mỗi kỳ ({names['vi']}): mỗi dòng là tổng của một chỉ tiêu hoặc một nhóm của chỉ "
              "tiêu trong một kỳ.",
        "en": f"The figures of {definition.form} “{definition.title('en')}”, produced {kind['en']} from the data as "
              f"published at the end of each period ({names['en']}): each row is an indicator's total or one "
              "category of it for one period.",
    }
    if minimum:
        description["vi"] += f" Chỉ công bố số liệu tổng hợp: ô đếm ít hơn {minimum} bản ghi không được công bố."
        description["en"] += f" Aggregate figures only: cells counting fewer than {minimum} records are not published."
    return {
        "id": definition.id,
        "title": {"vi": f"Thống kê: {definition.title('vi')}", "en": f"Statistics: {definition.title('en')}"},
        "description": description,
        "publisher": publisher,
        "access": access,
        "clients": _clients(sources) if access == "restricted" else [],
        "licence": licence,
        "themes": themes,
        "keywords": {"vi": ["thống kê", "báo cáo định kỳ", definition.form],
                     "en": ["statistics", "periodic report", definition.form]},
        "frequency": FREQUENCIES[definition.period_kind],
        "policy": "reject",
        "report": definition.id,
    }
