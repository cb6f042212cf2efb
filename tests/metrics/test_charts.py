"""Server-rendered SVG charts: the axis a manager reads the values against."""

from __future__ import annotations

import re
from datetime import date, timedelta

from metrics.charts import chart, in_duration_unit, nice_ticks

DAYS = [date(2026, 3, 2) + timedelta(weeks=n) for n in range(4)]


def _axis(svg: str) -> list[str]:
    return re.findall(r'class="axis" text-anchor="end">([^<]+)<', svg)


def test_only_negative_values_keep_zero_on_the_axis() -> None:
    # One week's NPS of -33: the axis used to run from -33 to -33.
    svg = chart([(DAYS[0], -33.0), (DAYS[1], None)], title="NPS", kind="line")
    assert _axis(svg) == ["-40", "-30", "-20", "-10", "0"]
    assert 'cy="144.0"' in svg  # -33 of -40..0: near the bottom, zero at the top


def test_a_bounded_figure_is_drawn_on_its_whole_scale() -> None:
    svg = chart([(d, -33.0) for d in DAYS], title="NPS", kind="line", scale=(-100, 100))
    assert _axis(svg) == ["-100", "-50", "0", "50", "100"]
    svg = chart([(DAYS[0], 80.0)], title="CSAT", kind="line", scale=(0, 100))
    assert _axis(svg) == ["0", "50", "100"]


def test_counts_start_at_zero_and_all_zero_is_not_a_division_by_zero() -> None:
    assert _axis(chart([(DAYS[0], 4.0), (DAYS[1], 8.0)], title="Created")) == [
        "0", "2", "4", "6", "8",
    ]  # fmt: skip
    assert _axis(chart([(DAYS[0], 0.0)], title="Created")) == ["0", "1"]
    assert "No data in this window." in chart([(DAYS[0], None)], title="Created")


def test_axis_ticks_are_round_numbers() -> None:
    """Ticks sat at a third and two thirds of the highest value ("9.3 h", "47.6 h")."""
    assert nice_ticks(0, 47.6) == [0, 20, 40, 60]
    assert nice_ticks(0, 9.3) == [0, 5, 10]
    assert nice_ticks(0, 0.37) == [0, 0.1, 0.2, 0.3, 0.4]
    assert nice_ticks(0, 3, whole=True) == [0, 1, 2, 3]
    assert nice_ticks(-12, 88) == [-50, 0, 50, 100]


def test_durations_are_drawn_in_round_minutes_hours_or_days() -> None:
    hours = [(DAYS[0], 9.3 * 3600), (DAYS[1], 47.6 * 3600)]
    points, fmt = in_duration_unit(hours)
    svg = chart(points, title="Resolution", kind="line", fmt=fmt)
    assert _axis(svg) == ["0 h", "20 h", "40 h", "60 h"]
    assert "<title>March 9, 2026: 47.6 h</title>" in svg  # the value on hover
    minutes, fmt = in_duration_unit([(DAYS[0], 30 * 60.0)])
    assert _axis(chart(minutes, title="FRT", kind="line", fmt=fmt))[-1] == "30 min"
    days, fmt = in_duration_unit([(DAYS[0], 5 * 86400.0)])
    assert _axis(chart(days, title="Resolution", kind="line", fmt=fmt))[-1] == "6 d"


def test_a_line_joins_the_values_across_days_without_one() -> None:
    """A week without a solve left single dots; the line now runs through every value."""
    svg = chart(
        [(DAYS[0], 2.0), (DAYS[1], None), (DAYS[2], 4.0), (DAYS[3], 3.0)], title="T", kind="line"
    )
    lines = re.findall(r'<polyline points="([^"]+)"', svg)
    assert len(lines) == 1 and len(lines[0].split()) == 3
    assert svg.count('class="dot"') == 3  # no invented value for the empty week


def test_a_chart_in_german_names_its_days_and_values_the_german_way() -> None:
    from django.utils import translation

    hours = [(DAYS[0], 9.3 * 3600), (DAYS[1], 47.6 * 3600)]
    with translation.override("de"):
        points, fmt = in_duration_unit(hours)
        svg = chart(points, title="Lösungszeit", kind="line", fmt=fmt)
        assert "<title>9. März 2026: 47,6 Std.</title>" in svg
        assert ">2. März<" in svg  # the day axis
        assert _axis(svg) == ["0 Std.", "20 Std.", "40 Std.", "60 Std."]
        assert "Keine Daten in diesem Zeitraum." in chart([(DAYS[0], None)], title="T")
