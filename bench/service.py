"""The service section of `make bench`: topics and account health (service/).

Targets (issue 18): the service dashboard, with its topics and at-risk sections, p95 <=
300 ms at 1M tickets; the same for GET /api/v1/metrics/topics/. Also timed: mining the
topics (the nightly task, over 90 days, matched over a year) and one account's health
recompute (the worker's unit of work after a change).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Max

from service import health, topics
from service.models import TicketTopic
from tickets.models import Customer, Organization, Ticket
from tickets.workflow.automation.health import Account

if TYPE_CHECKING:
    from bench.core import Bench

# Accounts measured before the pages are timed, so the at-risk list reads real rows.
ACCOUNTS = 500


def run(bench: Bench) -> None:
    latest = Ticket.objects.aggregate(latest=Max("created_at"))["latest"]
    if latest is None:
        bench.note("no tickets: nothing to time")
        return
    now = latest + timedelta(minutes=1)
    # Mined from nothing, as on the first night.
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE service_tickettopic, service_topicday, service_topic")
    started = time.monotonic()
    mined = topics.refresh_topics(now=now)
    seconds = time.monotonic() - started
    matched = TicketTopic.objects.count()
    bench.rate(
        "topics mined and matched",
        Ticket.objects.filter(created_at__gte=now - topics.MATCH_HORIZON).count(),
        seconds,
        unit="tickets/s",
        note=f"{len(mined)} topics, {matched:,} ticket-topic rows, {seconds:.0f} s",
    )

    customers = list(
        Customer.objects.filter(tickets__created_at__gte=now - timedelta(days=90))
        .values_list("pk", flat=True)
        .distinct()[:ACCOUNTS]
    )
    organizations = list(Organization.objects.values_list("pk", flat=True)[: ACCOUNTS // 10])
    accounts = [Account("customer", pk) for pk in customers] + [
        Account("organization", pk) for pk in organizations
    ]
    started = time.monotonic()
    for account in accounts:
        health.recompute(account, now=now)
    bench.rate(
        "health recompute",
        len(accounts),
        time.monotonic() - started,
        unit="accounts/s",
        note=f"{len(customers)} customers and {len(organizations)} organizations",
    )
    bench.measure(
        "health of one organization (incremental)",
        lambda i: health.recompute(accounts[-1 - i % max(1, len(organizations))], now=now),
        samples=20,
        target_ms=None,
    )

    manager = bench.client(bench.manager)

    def window(i: int) -> dict[str, str]:
        end = latest - timedelta(days=i % 30)
        return {"start": (end - timedelta(days=30)).isoformat(), "end": end.isoformat()}

    def dashboard(i: int) -> None:
        end = (latest - timedelta(days=i % 30)).date()
        params = {"start": (end - timedelta(days=29)).isoformat(), "end": end.isoformat()}
        response = manager.get("/dashboards/service/?" + urlencode(params))
        assert response.status_code == 200, response.status_code

    def topics_api(i: int) -> None:
        response = manager.get("/api/v1/metrics/topics/?" + urlencode(window(i)))
        assert response.status_code == 200, response.content

    def at_risk(i: int) -> None:
        assert manager.get("/accounts/at-risk/").status_code == 200

    def organizations_by_health(i: int) -> None:
        response = manager.get("/api/v1/organizations/?ordering=health")
        assert response.status_code == 200, response.content

    bench.measure("service dashboard with topics and at-risk", dashboard, target_ms=300)
    bench.measure("GET /api/v1/metrics/topics/ (30 days)", topics_api, target_ms=300)
    bench.measure("accounts at risk page", at_risk, samples=20, target_ms=300)
    bench.measure(
        "GET /api/v1/organizations/?ordering=health",
        organizations_by_health,
        samples=20,
        target_ms=300,
    )
