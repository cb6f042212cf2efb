"""The metrics section of `make bench` (helpdesk/management/commands/bench.py).

Targets (issue 5, at 1M tickets): summary endpoint over a 90-day window p95 <= 200 ms,
a dashboard page p95 <= 300 ms, recompute_metrics over everything within 10 minutes,
the incremental update of one ticket's figures <= 20 ms.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.db.models import Max

from metrics.services import recompute_all, refresh_ticket_figures
from tickets.models import Ticket

if TYPE_CHECKING:
    from bench.core import Bench

RECOMPUTE_TARGET_SECONDS = 600
ONE_MILLION = 1_000_000


def run(bench: Bench) -> None:
    # Figures first: the seed writes tickets and events only, so this is also what makes
    # the summary and dashboards below read real rows.
    started = time.monotonic()
    count = recompute_all(batch_size=5_000, workers=min(4, os.cpu_count() or 1))
    seconds = time.monotonic() - started
    bench.rate(
        "recompute_metrics",
        count,
        seconds,
        unit="tickets/s",
        target=ONE_MILLION / RECOMPUTE_TARGET_SECONDS,
        note=f"{count:,} tickets in {seconds:.0f} s; 1M within 10 min needs >= 1667 tickets/s",
    )

    latest = Ticket.objects.aggregate(latest=Max("created_at"))["latest"]
    if latest is None:
        bench.note("no tickets: nothing to time")
        return
    manager = bench.client(bench.manager)

    def window(i: int, days: int) -> dict[str, str]:
        # Windows ending on different days, so no two samples hit the same cache pages.
        end = latest - timedelta(days=i % 30)
        return {"start": (end - timedelta(days=days)).isoformat(), "end": end.isoformat()}

    def summary(i: int) -> None:
        params = window(i, 90)
        if i % 2:
            params["hours"] = "business"
        response = manager.get("/api/v1/metrics/summary/?" + urlencode(params))
        assert response.status_code == 200, response.content

    bench.measure("summary API, 90-day window", summary, samples=40, target_ms=200)

    def dashboard(i: int) -> None:
        end = (latest - timedelta(days=i % 30)).date()
        params = {"start": (end - timedelta(days=29)).isoformat(), "end": end.isoformat()}
        page = "support" if i % 2 == 0 else "service"
        response = manager.get(f"/dashboards/{page}/?" + urlencode(params))
        assert response.status_code == 200

    bench.measure(
        "dashboard page, 30 days", dashboard, samples=30, target_ms=300, note="support/service"
    )

    numbers = bench.sample_tickets(bench.manager, 60)

    def incremental(i: int) -> None:
        refresh_ticket_figures(numbers[i % len(numbers)])

    bench.measure("incremental update of one ticket", incremental, samples=50, target_ms=20)
