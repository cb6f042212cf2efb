"""The retention policy: off by default; when set, the content of tickets closed more
than N months ago is deleted by the beat task, the tickets, events and figures stay, and
each run is written to the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEntry, AuditKind
from metrics.models import TicketFigures
from metrics.services import recompute_all
from privacy import retention
from privacy.retention import months_before
from privacy.tasks import apply_retention
from tests.conftest import Personas
from tests.factories import hours, open_ticket, reply, set_status
from tickets.models import Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def test_months_before_keeps_the_day_or_the_month_end() -> None:
    assert months_before(datetime(2026, 3, 31, 8, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, 8, tzinfo=UTC
    )
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 13) == datetime(
        2024, 12, 15, tzinfo=UTC
    )


@pytest.fixture
def tickets(personas: Personas) -> dict[str, Ticket]:
    p = personas
    made = {}
    for name, at, status in (
        ("old_closed", hours(0), "closed"),
        ("old_solved", hours(0), "solved"),
        ("old_open", hours(0), None),
        ("recent_closed", None, "closed"),
    ):
        ticket = open_ticket(p.mailbox_a, p.customer, at=at or timezone.now())
        reply(ticket, p.agent_a, at or timezone.now())
        if status:
            set_status(ticket, p.agent_a, status, at or timezone.now())
        made[name] = ticket
    return made


def content(ticket: Ticket) -> list[str]:
    ticket.refresh_from_db()
    return [ticket.subject, *ticket.messages.values_list("body_text", flat=True)]


def test_off_by_default(tickets: dict[str, Ticket], settings: Any) -> None:
    assert settings.PRIVACY_RETENTION_MONTHS == 0
    apply_retention()
    assert content(tickets["old_closed"]) == ["Broken", "It is broken", "Here is the fix"]
    assert not AuditEntry.objects.filter(kind=AuditKind.RETENTION).exists()


def test_old_closed_tickets_lose_their_content_only(
    tickets: dict[str, Ticket], settings: Any
) -> None:
    recompute_all()
    figures = {f.ticket_id: f.first_response_seconds for f in TicketFigures.objects.all()}
    events = TicketEvent.objects.count()
    settings.PRIVACY_RETENTION_MONTHS = 6
    retention.apply_retention(now=hours(24 * 200))

    assert content(tickets["old_closed"]) == ["[erased]", "[erased]", "[erased]"]
    for kept in ("old_solved", "old_open", "recent_closed"):
        assert content(tickets[kept])[0] == "Broken"
    assert TicketEvent.objects.count() == events and Message.objects.count() == 8
    recompute_all()
    assert {f.ticket_id: f.first_response_seconds for f in TicketFigures.objects.all()} == figures
    entry = AuditEntry.objects.get(kind=AuditKind.RETENTION)
    assert entry.actor_label == "retention policy" and entry.data["tickets"] == 1
    assert entry.data["months"] == 6
    # A second run finds nothing left to do and writes nothing.
    retention.apply_retention(now=hours(24 * 200))
    assert AuditEntry.objects.filter(kind=AuditKind.RETENTION).count() == 1
