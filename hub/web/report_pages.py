"""The leadership page: each periodic report's indicators over time, a server-rendered SVG chart (no script,
no CDN) with the figures as a table beside it, in Vietnamese and English. Figures: publish/reports/statistics."""

from __future__ import annotations

from html import escape
from typing import Any

from flask import abort, render_template
from markupsafe import Markup

from core.catalog import Dataset
from core.reports import ReportDefinition
from hub.context import current_hub
from hub.web.blueprint import bp
from hub.web.i18n import current_lang
from publish.reports import statistics

LABELS: dict[str, Any] = {  # key -> {lang: text}; "kind" -> period kind -> {lang: text}
    "reports": {"vi": "Báo cáo định kỳ", "en": "Periodic reports"},
    "lead": {"vi": "Các chỉ tiêu của báo cáo định kỳ theo từng kỳ, tính từ dữ liệu đã công bố tại thời điểm cuối kỳ.",
             "en": "The indicators of the periodic reports, period by period, as published at the end of each period."},
    "period": {"vi": "Kỳ", "en": "Period"},
    "value": {"vi": "Giá trị", "en": "Value"},
    "none": {"vi": "Chưa có kỳ báo cáo nào được lập.", "en": "No period has been produced yet."},
    "latest": {"vi": "Kỳ gần nhất", "en": "Latest period"},
    "by": {"vi": "Chia theo", "en": "By"},
    "charts": {"vi": "Các chỉ tiêu theo kỳ", "en": "Indicators over time"},
    "charts_lead": {"vi": "Dòng tổng của mỗi chỉ tiêu qua các kỳ đã lập; các nhóm chia theo ở bảng xem trước bên dưới và trên trang báo cáo.",
                    "en": "Each indicator's total over the produced periods; its breakdowns are in the preview below and on the report's page."},
    "report_page": {"vi": "Trang báo cáo", "en": "The report's page"},
    "withheld": {"vi": "không công bố (ít hơn {n} bản ghi)", "en": "withheld (fewer than {n} records)"},
    "kind": {"month": {"vi": "hằng tháng", "en": "monthly"}, "quarter": {"vi": "hằng quý", "en": "quarterly"},
             "half-year": {"vi": "6 tháng", "en": "half-yearly"}, "year": {"vi": "hằng năm", "en": "yearly"}},
}
WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM = 640, 240, 56, 36


def column_chart(points: list[tuple[str, float | None]], title: str, *, chart_id: str, lang: str = "vi") -> Markup:
    """One column per period (oldest left), its value above it; a withheld value is an empty slot."""
    top = max((v for _, v in points if v is not None), default=0) or 1
    slot = (WIDTH - PAD_LEFT - 8) / max(len(points), 1)
    bar = max(4.0, min(48.0, slot * 0.7))
    plot = HEIGHT - PAD_BOTTOM - 24
    parts = [f'<svg class="chart report-chart" id="{escape(chart_id)}" xmlns="http://www.w3.org/2000/svg" role="img" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" aria-labelledby="{escape(chart_id)}-t">',
             f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
             f'<line x1="{PAD_LEFT}" y1="{HEIGHT - PAD_BOTTOM}" x2="{WIDTH - 4}" y2="{HEIGHT - PAD_BOTTOM}" stroke="#555"/>',
             f'<text x="{PAD_LEFT - 6}" y="{HEIGHT - PAD_BOTTOM - plot + 4}" text-anchor="end" font-size="11" '
             f'fill="#333">{_fmt(top, lang)}</text>']
    for i, (period, value) in enumerate(points):
        x = PAD_LEFT + i * slot + (slot - bar) / 2
        label_x = x + bar / 2
        parts.append(f'<text x="{label_x:.1f}" y="{HEIGHT - PAD_BOTTOM + 16}" text-anchor="middle" font-size="11" '
                     f'fill="#1b1b1b">{escape(period)}</text>')
        if value is None:
            continue
        h = max(1.0, plot * value / top)
        y = HEIGHT - PAD_BOTTOM - h
        parts.append(f'<rect class="column" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="#1f5fa8" '
                     f'data-period="{escape(period)}" data-value="{_raw(value)}"><title>{escape(period)}: '
                     f'{_fmt(value, lang)}</title></rect>'
                     f'<text x="{label_x:.1f}" y="{y - 4:.1f}" text-anchor="middle" font-size="11" fill="#1b1b1b">'
                     f'{_fmt(value, lang)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _raw(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _fmt(value: float | None, lang: str = "vi") -> str:
    """12,345.5 in English; 12.345,5 in Vietnamese."""
    if value is None:
        return ""
    text = f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"
    return text.translate(str.maketrans(",.", ".,")) if lang == "vi" else text


def _text(key: str, lang: str, **kw: object) -> str:
    return LABELS[key][lang].format(**kw)


def _visible(report_id: str | None = None) -> list:  # noqa: ANN401 - ReportDefinition list
    hub = current_hub()
    chosen = [d for d in hub.catalog.reports.values() if statistics.access_of(hub.catalog, d) == "open"]
    if report_id is not None:
        chosen = [d for d in chosen if d.id == report_id]
    return chosen


def indicator_sections(definition: ReportDefinition, rows: list[dict[str, Any]], lang: str, *,
                       breakdowns: bool = True) -> list[dict[str, Any]]:
    """Per indicator: its total over the periods (chart and table) and, with `breakdowns`, the latest
    period's breakdowns. Also the dataset page of the report's statistics dataset (hub/web/dataset.py)."""
    hub = current_hub()
    indicators = []
    for ind in definition.indicators:
        mine = [r for r in rows if r["indicator"] == ind.code]
        totals = [(r["period"], r["value"]) for r in mine if not r["breakdown"]]
        latest = totals[-1][0] if totals else None
        sections = []
        for fields in ind.breakdowns if breakdowns else ():
            key = "|".join(fields)
            dataset = hub.catalog.dataset(ind.dataset)
            heading = " × ".join(dataset.schema.field(f).title(lang) for f in fields)
            lines = []
            for r in mine:
                if r["period"] == latest and r["breakdown"] == key:
                    parts = [dataset.schema.field(f).enum_label(v, lang) if v else "—"
                             for f, v in zip(fields, r["category"].split("|"), strict=True)]
                    lines.append((" - ".join(parts), _fmt(r["value"], lang) if r["value"] is not None else
                                  _text("withheld", lang, n=definition.min_cell)))
            sections.append({"heading": heading, "lines": lines})
        title = f"{ind.code}. {ind.text(lang)} ({ind.unit_text(lang)})"
        indicators.append({"code": ind.code, "title": title,
                           "chart": column_chart(totals, title, chart_id=f"chart-{ind.code}", lang=lang),
                           "table": [(p, _fmt(v, lang)) for p, v in totals], "latest": latest, "breakdowns": sections})
    return indicators


def dataset_charts(dataset: Dataset, lang: str) -> dict[str, Any] | None:
    """The charts of a report's statistics dataset (None for other datasets): each indicator's total over time."""
    if not dataset.report:
        return None
    hub = current_hub()
    definition = hub.catalog.report(dataset.report)
    return {"indicators": indicator_sections(definition, statistics.rows(hub.store, definition), lang, breakdowns=False),
            "report_id": definition.id, "words": {k: v[lang] for k, v in LABELS.items() if k != "kind"}}


@bp.get("/reports")
def reports_page():  # noqa: ANN201
    lang = current_lang()
    items = [{"id": d.id, "form": d.form, "title": d.title(lang), "kind": LABELS["kind"][d.period_kind][lang]}
             for d in _visible()]
    return render_template("reports.html", items=items, words={k: v[lang] for k, v in LABELS.items() if k != "kind"})


@bp.get("/reports/<report_id>")
def report_page(report_id: str):  # noqa: ANN201
    """One report: per indicator, its total over the periods (chart and table), then the latest period's
    breakdowns as tables."""
    lang = current_lang()
    found = _visible(report_id)
    if not found:
        abort(404)
    definition = found[0]
    hub = current_hub()
    indicators = indicator_sections(definition, statistics.rows(hub.store, definition), lang)
    return render_template("report.html", definition=definition, title=definition.title(lang), form=definition.form,
                           unit=definition.text("reporting_unit", lang), indicators=indicators,
                           kind=LABELS["kind"][definition.period_kind][lang],
                           words={k: v[lang] for k, v in LABELS.items() if k != "kind"})
