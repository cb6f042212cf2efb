"""Server-rendered SVG charts: no JavaScript, readable in any browser and in print."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 200
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 64, 12, 12, 28


def chart(
    points: Sequence[tuple[date, float | None]],
    *,
    title: str,
    kind: str = "bar",
    fmt: Callable[[float], str] = lambda v: f"{v:g}",
    scale: tuple[float, float] | None = None,
) -> SafeString:
    """A bar (counts) or line (durations, scores) chart; None values leave a gap.

    The axis runs from zero (or below, for negative values) to the highest value, or over
    `scale` at least for a bounded figure (CSAT 0-100, NPS -100-100), so one week's score
    is not drawn as the whole height of the chart.
    """
    values = [v for _, v in points if v is not None]
    if not points or not values:
        return mark_safe('<p class="chart-empty muted">No data in this window.</p>')
    low, high = min(0.0, *values), max(0.0, *values)
    if scale is not None:
        low, high = min(low, scale[0]), max(high, scale[1])
    if high == low:
        high = low + 1.0
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / len(points)

    def y(value: float) -> float:
        return PAD_TOP + plot_h - (value - low) / (high - low) * plot_h

    parts: list[str] = []
    for tick in (low, (low + high) / 2, high):
        parts.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}" class="grid"/><text x="{PAD_LEFT - 6}" y="{y(tick) + 4:.1f}" '
            f'class="axis" text-anchor="end">{escape(fmt(tick))}</text>'
        )
    label_every = max(1, len(points) // 8)
    line: list[str] = []
    for index, (day, value) in enumerate(points):
        x = PAD_LEFT + index * step
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{HEIGHT - 8}" class="axis" '
                f'text-anchor="middle">{day:%-d %b}</text>'
            )
        if value is None:
            line.append("")
            continue
        tip = escape(f"{day:%a %-d %b %Y}: {fmt(value)}")
        if kind == "bar":
            parts.append(
                f'<rect x="{x + step * 0.15:.1f}" y="{y(value):.1f}" width="{step * 0.7:.1f}" '
                f'height="{max(0.0, y(low) - y(value)):.1f}" class="bar">'
                f"<title>{tip}</title></rect>"
            )
        else:
            line.append(f"{x + step / 2:.1f},{y(value):.1f}")
            parts.append(
                f'<circle cx="{x + step / 2:.1f}" cy="{y(value):.1f}" r="3" class="dot">'
                f"<title>{tip}</title></circle>"
            )
    if kind == "line":
        # Consecutive values join; a None breaks the line rather than inventing a value.
        runs: list[list[str]] = [[]]
        for point in line:
            if point:
                runs[-1].append(point)
            elif runs[-1]:
                runs.append([])
        for run in runs:
            if run:
                parts.insert(0, f'<polyline points="{" ".join(run)}" class="line"/>')
    title_text = escape(title)
    # Every piece above is numbers we formatted or text passed through escape().
    return mark_safe(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{title_text}">'
        f"<title>{title_text}</title>{''.join(parts)}</svg>"
    )
