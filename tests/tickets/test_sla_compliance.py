"""SLA compliance read through its indexes equals the definition, target by target.

sla_compliance() counts a target as decided in a window when it was met or missed then
(COALESCE(done, due) in the window, the key of ticket_sla_*_decided). The reference below
is the definition written out: done in the window, or not done and due in the window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, F, Q, QuerySet
from django.test.utils import CaptureQueriesContext

from tests.conftest import Personas
from tests.factories import make_customer, make_ticket
from tickets.models import Ticket
from tickets.workflow import sla

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _reference(start: datetime, end: datetime, qs: QuerySet[Ticket]) -> dict[str, Any]:
    fr_decided = Q(first_response_due_at__isnull=False) & (
        Q(first_response_at__gte=start, first_response_at__lt=end)
        | Q(
            first_response_at__isnull=True,
            first_response_due_at__gte=start,
            first_response_due_at__lt=end,
        )
    )
    res_decided = Q(resolution_due_at__isnull=False) & (
        Q(solved_at__gte=start, solved_at__lt=end)
        | Q(solved_at__isnull=True, resolution_due_at__gte=start, resolution_due_at__lt=end)
    )
    figures = qs.aggregate(
        fr_count=Count("pk", filter=fr_decided),
        fr_met=Count(
            "pk", filter=fr_decided & Q(first_response_at__lte=F("first_response_due_at"))
        ),
        res_count=Count("pk", filter=res_decided),
        res_met=Count("pk", filter=res_decided & Q(solved_at__lte=F("resolution_due_at"))),
    )

    def share(count: int, met: int) -> dict[str, Any]:
        return {"count": count, "met": met, "rate": met / count if count else None}

    return {
        "first_response": share(figures["fr_count"], figures["fr_met"]),
        "resolution": share(figures["res_count"], figures["res_met"]),
    }


@pytest.fixture
def tickets(personas: Personas) -> None:
    """Targets met, missed, missed without a reply, pending and without any SLA."""
    for n in range(40):
        mailbox, team, agent = (
            (personas.mailbox_a, personas.team_a, personas.agent_a)
            if n % 2
            else (personas.mailbox_b, personas.team_b, personas.agent_b)
        )
        ticket = make_ticket(mailbox, make_customer(), team=team, at=T0 + timedelta(hours=n))
        created = T0 + timedelta(hours=n)
        columns: dict[str, Any] = {
            "assignee": agent,
            "kind": "service" if n % 7 == 0 else "support",
        }
        if n % 5:  # every fifth ticket has no SLA
            columns["first_response_due_at"] = created + timedelta(hours=4)
            columns["resolution_due_at"] = created + timedelta(hours=24)
        if n % 3:
            columns["first_response_at"] = created + timedelta(hours=1 + n % 8)  # met or missed
        if n % 4 in (1, 2):
            columns["solved_at"] = created + timedelta(hours=10 + 2 * n % 30)
        Ticket.objects.filter(pk=ticket.pk).update(**columns)


def test_compliance_equals_the_definition(personas: Personas, tickets: None) -> None:
    windows = [(T0 + timedelta(hours=h), T0 + timedelta(hours=h + span)) for h, span in
               ((0, 12), (6, 24), (20, 30), (-100, 400), (300, 10))]  # fmt: skip
    filters = [
        Ticket.objects.all(),
        Ticket.objects.filter(kind="support"),
        Ticket.objects.filter(kind="support", team=personas.team_a),
        Ticket.objects.filter(assignee=personas.agent_b),
        Ticket.objects.filter(mailbox=personas.mailbox_a, kind="service"),
    ]
    decided = 0
    for start, end in windows:
        for qs in filters:
            got = sla.sla_compliance(start, end, qs)
            assert got == _reference(start, end, qs), (start, end, qs.query)
            decided += got["first_response"]["count"] + got["resolution"]["count"]
    assert decided > 100  # met, missed and undecided targets all occur
    whole = sla.sla_compliance(T0 - timedelta(days=1), T0 + timedelta(days=10))
    assert 0 < whole["first_response"]["met"] < whole["first_response"]["count"]
    assert 0 < whole["resolution"]["met"] < whole["resolution"]["count"]


def test_compliance_is_one_statement(personas: Personas, tickets: None) -> None:
    with CaptureQueriesContext(connection) as queries:
        sla.sla_compliance(T0, T0 + timedelta(days=2), Ticket.objects.filter(kind="support"))
    assert len(queries) == 1
