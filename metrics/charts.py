"""Server-rendered SVG charts: no JavaScript, readable in any browser and in print."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from django.utils.formats import date_format, number_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy, pgettext_lazy

from helpdesk.html import html_fill, html_join

WIDTH, HEIGHT = 640, 200
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 64, 12, 12, 28

# A chart's pieces, filled by helpdesk.html (which escapes every value): a dashboard draws
# eight charts of up to 90 points, and as a template loop each took ten times as long.
_EMPTY = '<p class="chart-empty muted">{text}</p>'

_GRID = (
    '<line x1="{left}" x2="{right}" y1="{y}" y2="{y}" class="grid"/>'
    '<text x="{x}" y="{text_y}" class="axis" text-anchor="end">{label}</text>'
)
_DAY = '<text x="{x}" y="{y}" class="axis" text-anchor="middle">{label}</text>'
_BAR = (
    '<rect x="{x}" y="{y}" width="{width}" height="{height}" class="bar">'
    "<title>{tip}</title></rect>"
)
_DOT = '<circle cx="{x}" cy="{y}" r="3.5" class="dot"><title>{tip}</title></circle>'
_LINE = '<polyline points="{points}" class="line"/>'
_SVG = (
    '<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{title}">'
    "<title>{title}</title>{parts}</svg>"
)


def nice_ticks(low: float, high: float, *, count: int = 4, whole: bool = False) -> list[float]:
    """Round axis ticks covering low..high: steps of 1, 2 or 5 times a power of ten, about
    `count` of them ("0, 20, 40, 60", never "9.3, 47.6"); `whole` keeps steps of counts
    at 1 or more."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if whole:
        step = max(step, 1.0)
    first = math.floor(low / step + 1e-9) * step
    ticks = [first]
    while ticks[-1] < high - 1e-9:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


# A duration chart is drawn in the one unit its longest value reads best in, so that its
# ticks are round minutes, hours or days: (longest below, seconds per unit, unit).
_DURATION_UNITS = (
    (3600.0, 60.0, pgettext_lazy("duration unit", "min")),
    (2 * 86400.0, 3600.0, pgettext_lazy("duration unit", "h")),
    (math.inf, 86400.0, pgettext_lazy("duration unit", "d")),
)

Points = Sequence[tuple[date, float | None]]


def in_duration_unit(points: Points) -> tuple[Points, Callable[[float], str]]:
    """Points in seconds as minutes, hours or days, with the label of a value in that unit."""
    top = max((v for _, v in points if v is not None), default=0.0)
    size, name = next((size, name) for limit, size, name in _DURATION_UNITS if top < limit)
    scaled = [(day, None if v is None else v / size) for day, v in points]
    return scaled, lambda v: f"{number(v, '.3g')} {name}"


def number(value: float, spec: str = "g") -> str:
    """A value as the format `spec` writes it ("g": "47.6", "1000"), in the active
    language's way ("47,6", "1.000")."""
    text = format(value, spec)
    return text if "e" in text else number_format(Decimal(text), force_grouping=True)


def chart(
    points: Points,
    *,
    title: str,
    kind: str = "bar",
    fmt: Callable[[float], str] = number,
    scale: tuple[float, float] | None = None,
) -> SafeString:
    """A bar (counts) or line (durations, scores) chart, each value's text on hover.

    The axis runs from zero (or below, for negative values) to the highest value, or over
    `scale` at least for a bounded figure (CSAT 0-100, NPS -100-100), so one week's score
    is not drawn as the whole height of the chart; its ticks are round numbers
    (nice_ticks). A line joins the points there are: a day without a value (no ticket
    solved that day) has no dot, but does not cut the line in two.
    """
    values = [v for _, v in points if v is not None]
    if not points or not values:
        return html_fill(_EMPTY, text=gettext_lazy("No data in this window."))
    low, high = min(0.0, *values), max(0.0, *values)
    if scale is not None:
        low, high = min(low, scale[0]), max(high, scale[1])
    ticks = nice_ticks(low, high, whole=kind == "bar")
    low, high = ticks[0], ticks[-1]
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / len(points)

    def y(value: float) -> float:
        return PAD_TOP + plot_h - (value - low) / (high - low) * plot_h

    parts: list[SafeString] = []
    for tick in ticks:
        parts.append(
            html_fill(
                _GRID,
                left=PAD_LEFT,
                right=WIDTH - PAD_RIGHT,
                y=f"{y(tick):.1f}",
                x=PAD_LEFT - 6,
                text_y=f"{y(tick) + 4:.1f}",
                label=fmt(tick),
            )
        )
    label_every = max(1, len(points) // 8)
    line: list[str] = []
    for index, (day, value) in enumerate(points):
        x = PAD_LEFT + index * step
        if index % label_every == 0:
            parts.append(
                html_fill(
                    _DAY,
                    x=f"{x + step / 2:.1f}",
                    y=HEIGHT - 8,
                    label=date_format(day, "MONTH_DAY_FORMAT"),
                )
            )
        if value is None:
            continue
        tip = f"{date_format(day, 'DATE_FORMAT')}: {fmt(value)}"
        if kind == "bar":
            parts.append(
                html_fill(
                    _BAR,
                    x=f"{x + step * 0.15:.1f}",
                    y=f"{y(value):.1f}",
                    width=f"{step * 0.7:.1f}",
                    height=f"{max(0.0, y(low) - y(value)):.1f}",
                    tip=tip,
                )
            )
        else:
            line.append(f"{x + step / 2:.1f},{y(value):.1f}")
            parts.append(html_fill(_DOT, x=f"{x + step / 2:.1f}", y=f"{y(value):.1f}", tip=tip))
    if len(line) > 1:
        parts.insert(0, html_fill(_LINE, points=" ".join(line)))
    return html_fill(_SVG, width=WIDTH, height=HEIGHT, title=title, parts=html_join(parts))
