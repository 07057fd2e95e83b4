"""A produced report as offices file it: an XLSX in the layout of a Vietnamese periodic report form, and the
same as a printable HTML page (no PDF: the browser prints it).

The form's parts, top to bottom: the form code and the reporting and receiving units (left), the national
motto (right); the title and the period; the indicator table (code, indicator, unit, figure), each
indicator's total followed by its breakdowns; notes (the definition's, and the dataset versions the figures
come from); place and date; the "Người lập biểu" and "Thủ trưởng đơn vị" signature blocks.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa

from core.reports import LOCAL_OFFSET, ReportDefinition, parse_period
from publish.reports.compute import Cell, Produced, number
from publish.store import Store

NATION = {"vi": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "en": "SOCIALIST REPUBLIC OF VIET NAM"}
MOTTO = {"vi": "Độc lập - Tự do - Hạnh phúc", "en": "Independence - Freedom - Happiness"}
WORDS = {
    "code": {"vi": "Mã số", "en": "Code"},
    "machine": {"vi": "Dữ liệu cho máy (không sửa; đọc lại bằng hub ingest)", "en": "For machines (do not edit; read back by hub ingest)"},
    "period_code": {"vi": "Kỳ báo cáo", "en": "Period"},
    "from": {"vi": "Từ ngày", "en": "First day of the period"},
    "to": {"vi": "Đến ngày", "en": "Last day of the period"},
    "indicator_code": {"vi": "Mã chỉ tiêu", "en": "Indicator code"},
    "breakdown": {"vi": "Chia theo", "en": "Breakdown"},
    "category": {"vi": "Mã nhóm", "en": "Category"},
    "records": {"vi": "Số bản ghi", "en": "Records counted"},
    "indicator": {"vi": "Chỉ tiêu", "en": "Indicator"},
    "unit": {"vi": "Đơn vị tính", "en": "Unit"},
    "value": {"vi": "Số lượng", "en": "Figure"},
    "reporting": {"vi": "Đơn vị báo cáo", "en": "Reporting unit"},
    "receiving": {"vi": "Đơn vị nhận báo cáo", "en": "Receiving unit"},
    "period": {"vi": "Kỳ báo cáo", "en": "Reporting period"},
    "deadline": {"vi": "Hạn gửi báo cáo", "en": "Due by"},
    "by": {"vi": "Chia theo", "en": "By"},
    "notes": {"vi": "Ghi chú", "en": "Notes"},
    "sources": {"vi": "Số liệu tính tại thời điểm cuối kỳ từ các bộ dữ liệu (phiên bản)",
                "en": "Figures as at the end of the period, from the datasets (version)"},
    "place": {"vi": "Đồng Nai, ngày {d:%d} tháng {d:%m} năm {d:%Y}", "en": "Đồng Nai, {d:%d %B %Y}"},
    "preparer": {"vi": "Người lập biểu", "en": "Prepared by"},
    "head": {"vi": "Thủ trưởng đơn vị", "en": "Head of unit"},
    "sign": {"vi": "(Ký, ghi rõ họ tên)", "en": "(Signature, full name)"},
    "sign_seal": {"vi": "(Ký, họ tên, đóng dấu)", "en": "(Signature, full name, seal)"},
    "not_stated": {"vi": "(không ghi)", "en": "(not stated)"},
    "withheld": {"vi": "Ô có ít hơn {n} bản ghi không công bố (…).", "en": "Cells counting fewer than {n} records are withheld (…)."},
}


def word(key: str, lang: str, **kw: Any) -> str:
    return WORDS[key][lang].format(**kw)


@dataclass
class FormLine:
    code: str
    text: str
    unit: str
    value: int | float | None  # None: a heading line, or a withheld cell
    level: int  # 0 indicator total, 1 breakdown heading, 2 category
    records: int | None = None
    cell: Cell | None = None  # the statistics row of a figure's line (None on a heading)
    label: str = ""  # what the line counts, read alone: the statistics dataset's `label`


class Labels:
    """Titles of fields and of their values: enum labels from the schema, names of referenced records (a
    commune code becomes the commune's name) read with one query per referenced dataset."""

    def __init__(self, store: Store, definition: ReportDefinition, cells: list[Cell]) -> None:
        self.store = store
        self.catalog = store.catalog
        self.definition = definition
        self.names: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
        wanted: dict[tuple[str, str], set[str]] = {}
        for cell in cells:
            if not cell.breakdown:
                continue
            dataset = definition.indicator(cell.indicator).dataset
            for name, value in zip(cell.breakdown.split("|"), cell.category.split("|"), strict=True):
                if value:
                    wanted.setdefault((dataset, name), set()).add(value)
        for (dataset, name), values in wanted.items():
            self._referenced_names(dataset, name, values)

    def _referenced_names(self, dataset: str, name: str, values: set[str]) -> None:
        schema = self.catalog.dataset(dataset).schema
        for fk in schema.foreign_keys:
            fields = fk.get("fields")
            if (fields if isinstance(fields, str) else (fields or [None])[0]) != name:
                continue
            ref = fk["reference"]
            target = self.catalog.datasets.get(ref.get("resource"))
            key = ref["fields"] if isinstance(ref["fields"], str) else ref["fields"][0]
            names = target.schema.field_names if target is not None else []
            title = next((n for n in ("full_name", "name") if n in names), None)
            if target is None or title is None:
                return
            table = self.store.table(target)
            columns = [table.c[key], table.c[title]]
            if f"{title}_en" in names:
                columns.append(table.c[f"{title}_en"])
            with self.store.read_engine.connect() as conn:
                found = conn.execute(sa.select(*columns).where(table.c._to.is_(None),
                                                               table.c[key].in_(sorted(values)))).all()
            self.names[(dataset, name)] = {str(r[0]): {"vi": r[1], "en": r[2] if len(r) > 2 and r[2] else r[1]}
                                           for r in found}
            return

    def field(self, dataset: str, name: str, lang: str) -> str:
        return self.catalog.dataset(dataset).schema.field(name).title(lang)

    def value(self, dataset: str, name: str, value: str, lang: str) -> str:
        if value == "":
            return word("not_stated", lang)
        named = self.names.get((dataset, name), {}).get(value)
        if named:
            return f"{named[lang]} ({value})"
        return self.catalog.dataset(dataset).schema.field(name).enum_label(value, lang)

    def heading(self, indicator: str, breakdown: str, lang: str = "vi") -> str:
        """The fields of a breakdown, by their titles: "Loại hình × Hạng sao"."""
        dataset = self.definition.indicator(indicator).dataset
        return " × ".join(self.field(dataset, n, lang) for n in breakdown.split("|"))

    def category(self, indicator: str, breakdown: str, category: str, lang: str = "vi") -> str:
        """A category's values, by their labels: "Khách sạn - 3"."""
        dataset = self.definition.indicator(indicator).dataset
        return " - ".join(self.value(dataset, f, v, lang)
                          for f, v in zip(breakdown.split("|"), category.split("|"), strict=True))

    def line(self, indicator: str, breakdown: str, category: str, lang: str = "vi") -> str:
        """What a statistics row is about, for people: the indicator's name on its total, else the breakdown
        and the category ("Loại hình × Hạng sao: Khách sạn - 3"), so a row read alone says what it counts."""
        if not breakdown:
            return self.definition.indicator(indicator).text(lang)
        return f"{self.heading(indicator, breakdown, lang)}: {self.category(indicator, breakdown, category, lang)}"


def form_lines(store: Store, definition: ReportDefinition, produced: Produced, lang: str = "vi", *,
               min_cell: int = 0) -> list[FormLine]:
    """The indicator table: per indicator its total, then per breakdown a heading and one line per category.
    With `min_cell`, a figure counting fewer records is withheld (None)."""
    labels = Labels(store, definition, produced.cells)
    lines: list[FormLine] = []
    numbering: dict[str, int] = {}
    last_breakdown: tuple[str, str] | None = None
    for cell in produced.cells:
        indicator = definition.indicator(cell.indicator)
        unit = indicator.unit_text(lang)
        value = None if cell.records < min_cell and cell.breakdown else number(cell.value)
        if not cell.breakdown:
            lines.append(FormLine(indicator.code, indicator.text(lang), unit, number(cell.value), 0, cell.records, cell,
                                  indicator.text(lang)))
            continue
        if last_breakdown != (cell.indicator, cell.breakdown):
            last_breakdown = (cell.indicator, cell.breakdown)
            heading = labels.heading(cell.indicator, cell.breakdown, lang)
            lines.append(FormLine("", f"{word('by', lang)} {heading.lower() if lang == 'vi' else heading}", "", None, 1))
        n = numbering[cell.indicator] = numbering.get(cell.indicator, 0) + 1
        lines.append(FormLine(f"{indicator.code}.{n}", labels.category(cell.indicator, cell.breakdown, cell.category, lang),
                              unit, value, 2, None if value is None else cell.records, cell,
                              labels.line(cell.indicator, cell.breakdown, cell.category, lang)))
    return lines


def _produced_on(produced: Produced) -> Any:
    at = produced.computed_at
    return (at + LOCAL_OFFSET).date() if at else produced.period_end


def form_context(store: Store, definition: ReportDefinition, produced: Produced, lang: str = "vi", *,
                 min_cell: int = 0) -> dict[str, Any]:
    period = parse_period(produced.period, definition.period_kind)
    return {
        "lang": lang,
        "form": definition.form,
        "title": definition.title(lang),
        "reporting_unit": definition.text("reporting_unit", lang),
        "receiving_unit": definition.text("receiving_unit", lang),
        "period": period.label(lang),
        "period_dates": f"{period.start:%d/%m/%Y} - {period.last_day:%d/%m/%Y}",
        "deadline": definition.deadline(period).strftime("%d/%m/%Y"),
        "lines": form_lines(store, definition, produced, lang, min_cell=min_cell),
        "notes": [n for n in [definition.text("notes", lang)] if n]
        + ([word("withheld", lang, n=min_cell)] if min_cell else [])
        + [word("sources", lang) + ": " + ", ".join(
            f"{store.catalog.dataset(ds).title(lang)} ({v})" for ds, v in sorted(produced.versions.items()))],
        "place_date": word("place", lang, d=_produced_on(produced)),
        "words": {k: v[lang] for k, v in WORDS.items()},
        "nation": NATION[lang],
        "motto": MOTTO[lang],
    }


# -- XLSX -----------------------------------------------------------------------------------------------------
#: the statistics row's fields beside each figure of the XLSX form (WORDS keys, the headers' titles)
MACHINE = ("period_code", "from", "to", "indicator_code", "breakdown", "category", "records")


def xlsx(store: Store, definition: ReportDefinition, produced: Produced, lang: str = "vi", *,
         min_cell: int = 0) -> bytes:
    """The form as an XLSX workbook (one sheet): the title block, the indicator table under a two-row header
    (Mã số, Chỉ tiêu, Đơn vị tính, Số lượng, then the statistics row's fields under one merged heading), notes,
    place and date, signatures. The Vietnamese form reads back with `hub ingest` as the statistics dataset."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.worksheet.worksheet import Worksheet

    ctx = form_context(store, definition, produced, lang, min_cell=min_cell)
    wb = Workbook()
    ws = cast(Worksheet, wb.active)  # a new workbook's active sheet is its one worksheet
    ws.title = produced.period
    bold, italic = Font(bold=True), Font(italic=True)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for letter, width in zip("ABCDEFGHIJK", (12, 64, 16, 16, 10, 11, 11, 8, 18, 18, 9), strict=True):
        ws.column_dimensions[letter].width = width

    def put(row: int, col: int, value: Any, *, font: Any = None, align: Any = None, merge_to: int | None = None) -> None:
        cell = ws.cell(row=row, column=col, value=value)
        if font:
            cell.font = font
        if align:
            cell.alignment = align
        if merge_to:
            ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=merge_to)

    put(1, 1, ctx["form"], font=bold, merge_to=2)
    put(1, 3, ctx["nation"], font=bold, align=center, merge_to=4)
    put(2, 1, f"{ctx['words']['reporting']}: {ctx['reporting_unit']}", merge_to=2)
    put(2, 3, ctx["motto"], font=bold, align=center, merge_to=4)
    put(3, 1, f"{ctx['words']['receiving']}: {ctx['receiving_unit']}", merge_to=2)
    put(3, 3, f"{ctx['words']['deadline']}: {ctx['deadline']}", font=italic, align=center, merge_to=4)
    put(5, 1, ctx["title"].upper(), font=Font(bold=True, size=14), align=center, merge_to=4)
    put(6, 1, f"{ctx['words']['period']}: {ctx['period']} ({ctx['period_dates']})", font=italic, align=center,
        merge_to=4)
    # the table: the form's four columns, then the statistics row of each line under a merged "for machines"
    # heading, so `hub ingest <report> form.xlsx` reads the figures back as the statistics dataset's rows
    header = 8
    grey = Font(color="666666", size=9)
    for col, key in enumerate(("code", "indicator", "unit", "value"), start=1):
        put(header, col, ctx["words"][key], font=bold, align=center)
        ws.merge_cells(start_row=header, start_column=col, end_row=header + 1, end_column=col)
    put(header, 5, ctx["words"]["machine"], font=grey, align=center, merge_to=4 + len(MACHINE))
    for col, key in enumerate(MACHINE, start=5):
        put(header + 1, col, ctx["words"][key], font=grey, align=center)
    for r in (header, header + 1):
        for col in range(1, 5 + len(MACHINE)):
            ws.cell(row=r, column=col).border = box
    row = header + 1
    period = parse_period(produced.period, definition.period_kind)
    for line in ctx["lines"]:
        if line.cell is None:  # a breakdown's heading: each category line below names its breakdown itself
            continue
        row += 1
        c = line.cell
        values = [line.code or None, line.label, line.unit or None, line.value,
                  produced.period, period.start.isoformat(), period.last_day.isoformat(), c.indicator,
                  c.breakdown or None, c.category or None, line.records]
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=row, column=col, value=value)
            cell.border = box
            if col > 4:
                cell.font = grey
            elif line.level == 0:
                cell.font = bold
        ws.cell(row=row, column=2).alignment = Alignment(wrap_text=True, vertical="top", indent=2 if line.level else 0)
    row += 2
    put(row, 1, f"{ctx['words']['notes']}:", font=bold)
    for note in ctx["notes"]:
        row += 1
        put(row, 1, note, align=wrap, merge_to=4)
    row += 2
    put(row, 3, ctx["place_date"], font=italic, align=center, merge_to=4)
    row += 1
    put(row, 1, ctx["words"]["preparer"], font=bold, align=center, merge_to=2)
    put(row, 3, ctx["words"]["head"], font=bold, align=center, merge_to=4)
    row += 1
    put(row, 1, ctx["words"]["sign"], font=italic, align=center, merge_to=2)
    put(row, 3, ctx["words"]["sign_seal"], font=italic, align=center, merge_to=4)
    ws.print_title_rows = f"{header}:{header}"
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- printable HTML -------------------------------------------------------------------------------------------
HTML = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<title>{{ form }} — {{ title }} — {{ period }}</title>
<style>
  @page { size: A4; margin: 18mm 15mm; }
  body { font-family: "Times New Roman", Times, serif; font-size: 13pt; color: #000; max-width: 190mm; margin: 0 auto; }
  .head { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
  .head .right { text-align: center; font-weight: bold; }
  .head .right .motto { text-decoration: underline; }
  h1 { text-align: center; font-size: 15pt; margin: 1.2em 0 0.2em; text-transform: uppercase; }
  .period { text-align: center; font-style: italic; margin-bottom: 1em; }
  table.form { border-collapse: collapse; width: 100%; }
  table.form th, table.form td { border: 1px solid #000; padding: 3px 6px; vertical-align: top; }
  table.form th { text-align: center; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  tr.l0 td { font-weight: bold; } tr.l1 td { font-style: italic; } tr.l2 td.text { padding-left: 2em; }
  .notes { margin-top: 1em; } .notes p { margin: 0.2em 0; }
  .sign { display: grid; grid-template-columns: 1fr 1fr; text-align: center; margin-top: 1.5em; }
  .sign .place { grid-column: 2; font-style: italic; }
  .sign b { display: block; } .sign i { display: block; margin-bottom: 5em; }
  @media print { a { color: inherit; text-decoration: none; } }
</style></head>
<body>
<div class="head">
  <div class="left"><b class="form-code">{{ form }}</b><br>
    {{ words.reporting }}: {{ reporting_unit }}<br>{{ words.receiving }}: {{ receiving_unit }}<br>
    <i>{{ words.deadline }}: {{ deadline }}</i></div>
  <div class="right">{{ nation }}<br><span class="motto">{{ motto }}</span></div>
</div>
<h1>{{ title }}</h1>
<p class="period">{{ words.period }}: {{ period }} ({{ period_dates }})</p>
<table class="form">
  <thead><tr><th>{{ words.code }}</th><th>{{ words.indicator }}</th><th>{{ words.unit }}</th><th>{{ words.value }}</th></tr></thead>
  <tbody>
  {%- for line in lines %}
    <tr class="l{{ line.level }}"><td>{{ line.code }}</td><td class="text">{{ line.text }}</td><td>{{ line.unit }}</td>
      <td class="num">{% if line.value is not none %}{{ "{:,}".format(line.value).replace(",", ".") if lang == "vi" else "{:,}".format(line.value) }}{% endif %}</td></tr>
  {%- endfor %}
  </tbody>
</table>
<div class="notes"><b>{{ words.notes }}:</b>{% for note in notes %}<p>{{ note }}</p>{% endfor %}</div>
<div class="sign">
  <div class="place">{{ place_date }}</div>
  <div><b>{{ words.preparer }}</b><i>{{ words.sign }}</i></div>
  <div><b>{{ words.head }}</b><i>{{ words.sign_seal }}</i></div>
</div>
</body></html>
"""


def html(store: Store, definition: ReportDefinition, produced: Produced, lang: str = "vi", *,
         min_cell: int = 0) -> str:
    from jinja2 import Environment

    template = Environment(autoescape=True).from_string(HTML)
    return template.render(**form_context(store, definition, produced, lang, min_cell=min_cell))


__all__ = ["FormLine", "form_context", "form_lines", "html", "xlsx"]
