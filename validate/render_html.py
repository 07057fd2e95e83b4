"""The steward's report as HTML: a self-contained file (report.html) or a fragment for the web workspace.

Data Docs of Great Expectations load Bootstrap and jQuery from CDNs and render unstyled offline
(pitfalls.md), so we render our own: one Jinja template (validate/templates/report.html), CSS in
validate/templates/report.css (inlined in the file; served as a static file by the workspace, whose CSP allows
no inline style), the chart as inline SVG (validate/render_svg.py), no script at all.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from core.catalog import Schema

from .render_model import TYPE_TITLES, ReportView, label, rule_title, view
from .render_svg import bar_chart

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_CHANGES = 500

__all__ = ["CSS_PATH", "render_fragment", "render_html", "report_css"]

CSS_PATH = TEMPLATES / "report.css"


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                       trim_blocks=False, lstrip_blocks=False)


def report_css() -> str:
    return CSS_PATH.read_text(encoding="utf-8")


def _number(value: Any, lang: str) -> str:
    if value is None:
        return "—"
    text = f"{int(value):,}"
    return text.replace(",", ".") if lang == "vi" else text


def _percent(value: float | None, lang: str) -> str:
    if value is None:
        return "—"
    text = f"{value * 100:.1f}"
    return (text.replace(".", ",") if lang == "vi" else text) + " %"


def render_fragment(report: dict[str, Any], *, lang: str = "vi", schema: Schema | None = None,
                    dataset_title: str | None = None) -> Markup:
    """The report as an <article> (no <html>, no style, no script): for embedding in a page."""
    lang = lang if lang in ("vi", "en") else "vi"
    v: ReportView = view(report, schema)
    type_titles = [((TYPE_TITLES.get(t) or {}).get(lang) or t, n) for t, n in v.by_type]
    field_titles = [(name or label("whole_row", lang), n) for name, n in v.by_field]

    def message(error: dict[str, Any]) -> str:
        messages = error.get("messages") or {}
        text: str = messages.get(lang) or messages.get("vi") or error.get("message", "")
        return text

    html = _environment().get_template("report.html").render(
        v=v, lang=lang, dataset_title=dataset_title or v.hub.get("dataset") or v.task.get("name", ""),
        L=lambda key, **kw: label(key, lang, **kw), num=lambda x: _number(x, lang), pct=lambda x: _percent(x, lang),
        type_title=lambda t: (TYPE_TITLES.get(t) or {}).get(lang) or t, msg=message, max_changes=MAX_CHANGES,
        rule=lambda r: rule_title(r, lang),
        chart_types=bar_chart(type_titles, label("by_type", lang), chart_id="chart-types"),
        chart_fields=bar_chart(field_titles, label("by_field", lang), chart_id="chart-fields"),
    )
    return Markup(html)


def render_html(report: dict[str, Any], *, lang: str = "vi", schema: Schema | None = None,
                dataset_title: str | None = None) -> str:
    """A whole HTML document that opens offline: the fragment with its CSS inlined."""
    lang = lang if lang in ("vi", "en") else "vi"
    fragment = render_fragment(report, lang=lang, schema=schema, dataset_title=dataset_title)
    title = f"{label('title', lang)} — {dataset_title or (report.get('hub') or {}).get('dataset', '')}"
    return (f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{escape(title)}</title>\n'
            f"<style>\n{report_css()}</style>\n</head>\n<body>\n{fragment}\n</body>\n</html>\n")
