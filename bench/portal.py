"""Benchmark section of the portal (see helpdesk/management/commands/bench.py).

A customer with 500 tickets among the seeded million (added once, bulk insert), then
"My requests" and the customer's ticket page through the real URLs.
"""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from bench import seed as bench_seed
from bench.core import Bench
from tickets.models import Customer, Direction, Message, Role, Ticket, User

REQUESTS_MS = 40  # issue 4: "My requests" p95 for a customer with 500 tickets in 1M
DETAIL_MS = 60
TICKETS = 500
EMAIL = f"portal500@{bench_seed.BENCH_DOMAIN}"


def _ensure_customer(bench: Bench) -> Customer:
    user, _ = User.objects.get_or_create(
        email=EMAIL, defaults={"username": EMAIL, "role": Role.CUSTOMER}
    )
    customer, _ = Customer.objects.get_or_create(
        email=EMAIL, defaults={"name": "Portal Bench", "user": user}
    )
    have = customer.tickets.count()
    if have < TICKETS:
        mailbox = bench_seed.bench_mailboxes()[0]
        now = timezone.now()
        statuses = ["new", "open", "pending", "solved", "closed", "closed"]
        tickets = Ticket.objects.bulk_create(
            Ticket(
                subject=f"Portal bench question {n}",
                status=statuses[n % len(statuses)],
                channel="portal",
                mailbox=mailbox,
                customer=customer,
                created_at=now - timedelta(hours=7 * n),
                updated_at=now - timedelta(hours=7 * n),
                message_count=3,
            )
            for n in range(have, TICKETS)
        )
        Message.objects.bulk_create(
            Message(
                ticket=ticket,
                direction=direction,
                body_text=f"{direction} message of the portal bench",
                created_at=ticket.created_at + timedelta(minutes=m),
            )
            for ticket in tickets
            for m, direction in enumerate([Direction.INBOUND, Direction.NOTE, Direction.OUTBOUND])
        )
        bench.note(f"added {TICKETS - have} tickets for {EMAIL}")
    return customer


def run(bench: Bench) -> None:
    customer = _ensure_customer(bench)
    assert customer.user is not None, f"{EMAIL} has no sign-in"
    client = bench.client(customer.user)
    total = bench.tickets
    mine = list(customer.tickets.values_list("number", flat=True)[:60])

    def get(url: str, params: dict[str, str] | None = None) -> None:
        response = client.get(url, params or {})
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")

    bench.measure(
        "My requests",
        lambda i: get(reverse("portal:requests")),
        target_ms=REQUESTS_MS,
        note=f"GET /portal/requests/, a customer with {TICKETS} of {total:,} tickets",
    )
    bench.measure(
        "My requests, open only",
        lambda i: get(reverse("portal:requests"), {"state": "open"}),
        target_ms=REQUESTS_MS,
    )
    bench.measure(
        "request page",
        lambda i: get(reverse("portal:request", args=[mine[i % len(mine)]])),
        target_ms=DETAIL_MS,
        note="GET /portal/requests/<n>/: public conversation, reply form",
    )
