"""Server-rendered SVG charts: the axis a manager reads the values against."""

from __future__ import annotations

import re
from datetime import date, timedelta

from metrics.charts import chart

DAYS = [date(2026, 3, 2) + timedelta(weeks=n) for n in range(4)]


def _axis(svg: str) -> list[str]:
    return re.findall(r'class="axis" text-anchor="end">([^<]+)<', svg)


def test_only_negative_values_keep_zero_on_the_axis() -> None:
    # One week's NPS of -33: the axis used to run from -33 to -33.
    svg = chart([(DAYS[0], -33.0), (DAYS[1], None)], title="NPS", kind="line")
    assert _axis(svg) == ["-33", "-16.5", "0"]
    assert 'cy="172.0"' in svg  # the point at the bottom, zero at the top


def test_a_bounded_figure_is_drawn_on_its_whole_scale() -> None:
    svg = chart([(d, -33.0) for d in DAYS], title="NPS", kind="line", scale=(-100, 100))
    assert _axis(svg) == ["-100", "0", "100"]
    svg = chart([(DAYS[0], 80.0)], title="CSAT", kind="line", scale=(0, 100))
    assert _axis(svg) == ["0", "50", "100"]


def test_counts_start_at_zero_and_all_zero_is_not_a_division_by_zero() -> None:
    assert _axis(chart([(DAYS[0], 4.0), (DAYS[1], 8.0)], title="Created")) == ["0", "4", "8"]
    assert _axis(chart([(DAYS[0], 0.0)], title="Created")) == ["0", "0.5", "1"]
    assert "No data in this window." in chart([(DAYS[0], None)], title="Created")
