"""Charts drawn on the server as inline SVG: no JavaScript, no charting library, nothing to download.

Each chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>`` (its name and what it shows), and
every bar carries its number as visible text and in ``data-value``; the page also shows the same figures in a
table, so nothing is conveyed by colour or shape alone (WCAG 1.1.1, 1.4.1). Colours have at least 3:1 contrast
against the white background (1.4.11). Presentation attributes only (no ``style``), so the console's CSP needs
no ``unsafe-inline``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

FONT = "DejaVu Sans, Verdana, sans-serif"
INK = "#1a1a1a"
GRID = "#767676"


@dataclass(frozen=True)
class Series:
    key: str  # data-series, e.g. "completed"
    label: str  # legend text
    colour: str


@dataclass(frozen=True)
class Bar:
    label: str
    values: tuple[float, ...]  # one per series
    texts: tuple[str, ...]  # the visible figure of each value


def _a(value: object) -> str:
    return escape(str(value), quote=True)


def _legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    out = []
    for s in series:
        out.append(f'<rect x="{x:.0f}" y="{y - 11:.0f}" width="14" height="14" fill="{s.colour}"/>')
        out.append(f'<text x="{x + 20:.0f}" y="{y:.0f}" font-size="14" fill="{INK}">{_a(s.label)}</text>')
        x += 30 + 8.5 * len(s.label)
    return out


def horizontal_bars(
    chart_id: str,
    title: str,
    desc: str,
    series: Sequence[Series],
    bars: Sequence[Bar],
    *,
    stacked: bool,
    maximum: float | None = None,
    width: int = 900,
) -> Markup:
    """One row per bar; ``stacked`` puts the series end to end, else side by side (one thin bar each)."""
    label_w, right_pad, row_gap = 190, 90, 10
    bar_h = 22 if stacked else 14
    row_h = bar_h if stacked else bar_h * len(series) + 2 * (len(series) - 1)
    top = 44
    height = top + len(bars) * (row_h + row_gap) + 10
    plot_w = width - label_w - right_pad
    top_value = (
        maximum
        if maximum is not None
        else max([sum(b.values) if stacked else max(b.values, default=0) for b in bars] + [1e-9])
    )
    scale = plot_w / top_value if top_value > 0 else 0
    out = [
        f'<svg id="{_a(chart_id)}" class="chart" role="img" aria-labelledby="{_a(chart_id)}-t {_a(chart_id)}-d" '
        f'viewBox="0 0 {width} {height}" width="100%" font-family="{FONT}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{_a(chart_id)}-t">{_a(title)}</title><desc id="{_a(chart_id)}-d">{_a(desc)}</desc>',
    ]
    out += _legend(series, label_w, 20)
    y = top
    for bar in bars:
        out.append(f'<g class="bar-row" data-label="{_a(bar.label)}">')
        out.append(
            f'<text x="{label_w - 8}" y="{y + row_h / 2 + 5:.1f}" text-anchor="end" font-size="14" '
            f'fill="{INK}">{_a(bar.label)}</text>'
        )
        x = float(label_w)
        for index, (s, value, text) in enumerate(zip(series, bar.values, bar.texts, strict=True)):
            w = max(value * scale, 0.0)
            by = y if stacked else y + index * (bar_h + 2)
            bx = x if stacked else float(label_w)
            out.append(
                f'<rect class="bar" data-series="{_a(s.key)}" data-value="{_a(text)}" x="{bx:.1f}" '
                f'y="{by:.1f}" width="{w:.1f}" height="{bar_h}" fill="{s.colour}">'
                f"<title>{_a(bar.label)} — {_a(s.label)} : {_a(text)}</title></rect>"
            )
            if not stacked:
                out.append(
                    f'<text x="{bx + w + 6:.1f}" y="{by + bar_h - 2:.1f}" font-size="13" fill="{INK}">{_a(text)}</text>'
                )
            if stacked:
                x += w
        if stacked:
            total = " + ".join(bar.texts)
            out.append(f'<text x="{x + 6:.1f}" y="{y + bar_h - 6:.1f}" font-size="13" fill="{INK}">{_a(total)}</text>')
        out.append("</g>")
        y += row_h + row_gap
    out.append(f'<line x1="{label_w}" y1="{top - 6}" x2="{label_w}" y2="{height - 10}" stroke="{GRID}"/>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every interpolated text is escaped above


def vertical_bars(
    chart_id: str, title: str, desc: str, series: Series, bars: Sequence[Bar], *, width: int = 900, height: int = 260
) -> Markup:
    """One column per bar (e.g. one per questionnaire item), figure on top, label below."""
    left, bottom, top = 10, 40, 40
    n = max(len(bars), 1)
    step = (width - 2 * left) / n
    bar_w = step * 0.7
    plot_h = height - top - bottom
    top_value = max([b.values[0] for b in bars] + [1e-9])
    out = [
        f'<svg id="{_a(chart_id)}" class="chart" role="img" aria-labelledby="{_a(chart_id)}-t {_a(chart_id)}-d" '
        f'viewBox="0 0 {width} {height}" width="100%" font-family="{FONT}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{_a(chart_id)}-t">{_a(title)}</title><desc id="{_a(chart_id)}-d">{_a(desc)}</desc>',
    ]
    base = height - bottom
    for i, bar in enumerate(bars):
        value, text = bar.values[0], bar.texts[0]
        h = value / top_value * plot_h if top_value > 0 else 0
        x = left + i * step + (step - bar_w) / 2
        out.append(f'<g class="bar-row" data-label="{_a(bar.label)}">')
        out.append(
            f'<rect class="bar" data-series="{_a(series.key)}" data-value="{_a(text)}" x="{x:.1f}" '
            f'y="{base - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{series.colour}">'
            f"<title>{_a(bar.label)} : {_a(text)}</title></rect>"
        )
        out.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{base - h - 5:.1f}" text-anchor="middle" font-size="12" '
            f'fill="{INK}">{_a(text)}</text>'
        )
        out.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{base + 18:.1f}" text-anchor="middle" font-size="12" '
            f'fill="{INK}">{_a(bar.label)}</text></g>'
        )
    out.append(f'<line x1="{left}" y1="{base}" x2="{width - left}" y2="{base}" stroke="{GRID}"/>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every interpolated text is escaped above
