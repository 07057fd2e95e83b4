"""A horizontal bar chart as inline SVG: no script, no style attribute, no external file.

The web app's Content-Security-Policy forbids inline scripts and styles, and the report file must open
offline, so the chart is plain SVG elements whose sizes and colours are attributes (presentation attributes
are not styles for CSP). Bars carry class "bar" and a <title> tooltip with the exact count.
"""

from __future__ import annotations

from markupsafe import Markup, escape

__all__ = ["bar_chart"]

WIDTH = 720
LABEL_WIDTH = 300
ROW_HEIGHT = 24
BAR_HEIGHT = 16
COLOURS = ("#b3261e", "#c2571a", "#8a5a00", "#5b6b00", "#1f6f8b", "#5a4a9c")


def _clip(text: str, limit: int = 44) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart(items: list[tuple[str, int]], title: str, *, chart_id: str, max_bars: int = 15) -> Markup:
    """One bar per (label, count), longest first as given; the rest summed in a last "…" bar."""
    shown = list(items[:max_bars])
    if len(items) > max_bars:
        shown.append(("…", sum(count for _, count in items[max_bars:])))
    top = max((count for _, count in shown), default=0) or 1
    height = ROW_HEIGHT * max(len(shown), 1) + 8
    bar_space = WIDTH - LABEL_WIDTH - 60
    parts = [f'<svg class="chart" id="{escape(chart_id)}" xmlns="http://www.w3.org/2000/svg" role="img" '
             f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
             f'aria-labelledby="{escape(chart_id)}-title">',
             f'<title id="{escape(chart_id)}-title">{escape(title)}</title>']
    for i, (text, count) in enumerate(shown):
        y = 4 + i * ROW_HEIGHT
        width = max(2, round(bar_space * count / top))
        colour = COLOURS[i % len(COLOURS)]
        parts.append(
            f'<g class="bar-row"><text class="bar-label" x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT - 3}" '
            f'text-anchor="end" font-size="13" fill="#1b1b1b">{escape(_clip(text))}</text>'
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{width}" height="{BAR_HEIGHT}" rx="2" '
            f'fill="{colour}" data-count="{count}"><title>{escape(text)}: {count}</title></rect>'
            f'<text class="bar-value" x="{LABEL_WIDTH + width + 6}" y="{y + BAR_HEIGHT - 3}" font-size="13" '
            f'fill="#1b1b1b">{count}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
