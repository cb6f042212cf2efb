"""Imported history yields the same figures as the same history lived through the product.

Each case is played twice: once through tickets.services and metrics.surveys as live
traffic and a customer's answer do it, once as an `import_tickets` line with the same
messages, changes and answers. Their figures, state spans and survey answers must match.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from importer.lines import import_lines
from metrics import surveys
from metrics.models import SurveyResponse, TicketFigures, TicketStateSpan
from metrics.services import FIGURE_COLUMNS, refresh_ticket_figures
from tests.conftest import Personas
from tests.factories import T0, assign, customer_writes, hours, open_ticket, set_status
from tickets import services
from tickets.models import BusinessCalendar, Direction, Ticket

pytestmark = pytest.mark.django_db


def ts(n: float) -> str:
    return hours(n).isoformat()


def _figures(ticket: Ticket) -> dict[str, Any]:
    refresh_ticket_figures(ticket.pk)
    columns = [c for c in FIGURE_COLUMNS if c not in ("ticket_id", "computed_at")]
    return {
        "figures": TicketFigures.objects.filter(ticket=ticket).values(*columns).get(),
        "spans": list(
            TicketStateSpan.objects.filter(ticket=ticket)
            .order_by("starts_at")
            .values_list("starts_at", "ends_at", "is_open", "assignee_id")
        ),
        "answers": list(
            SurveyResponse.objects.filter(ticket=ticket)
            .order_by("kind")
            .values_list("kind", "score", "comment", "assignee_id", "submitted_at")
        ),
    }


def _import(p: Personas, record: dict[str, Any]) -> Ticket:
    base = {
        "type": "ticket",
        "mailbox": p.mailbox_a.address,
        "subject": "Broken",
        "customer": {"email": p.customer.email, "name": p.customer.name},
        "created_at": ts(0),
    }
    result = import_lines([json.dumps({**base, **record})])
    assert not result.errors, result.errors
    return Ticket.objects.get(external_id=record["external_id"])


@pytest.fixture
def office(personas: Personas) -> None:
    """Business time is measured too: a Berlin calendar on the mailbox."""
    calendar = BusinessCalendar.objects.create(
        name="Office",
        timezone="Europe/Berlin",
        hours={d: [["09:00", "12:00"], ["13:00", "17:00"]] for d in ("mon", "tue", "wed")},
    )
    personas.mailbox_a.calendar = calendar
    personas.mailbox_a.save(update_fields=["calendar"])


def test_reopened_ticket_with_notes_automatic_replies_and_answers(
    personas: Personas, office: None
) -> None:
    p = personas
    live = open_ticket(p.mailbox_a, p.customer)
    assign(live, p.agent_a, hours(0.5), by=p.agent_a)
    services.add_message(
        live, direction=Direction.OUTBOUND, body_text="Got it", automatic=True, at=hours(1)
    )
    services.add_note(live, p.agent_b, "Billing bug", at=hours(1.5))
    services.reply(live, p.agent_a, "Try this", at=hours(2))  # new -> open
    set_status(live, p.agent_a, "solved", hours(3))
    customer_writes(live, hours(20))  # solved -> open
    assign(live, p.agent_b, hours(21), by=p.agent_b)
    services.reply(live, p.agent_b, "Fixed", at=hours(22), status_after="solved")
    link = surveys.SurveyLink("csat", p.customer, Ticket.objects.get(pk=live.pk))
    surveys.record_answers(link, {"csat": 4, "ces": 6}, "Fine", at=hours(23))
    set_status(live, p.agent_b, "closed", hours(50))

    imported = _import(
        p,
        {
            "external_id": "reopened",
            "messages": [
                {"direction": "inbound", "from": p.customer.email, "at": ts(0), "body": "Help"},
                {
                    "direction": "outbound",
                    "from": p.mailbox_a.address,
                    "at": ts(1),
                    "body": "Got it",
                    "auto": True,
                },
                {"direction": "note", "from": p.agent_b.email, "at": ts(1.5), "body": "Bug"},
                {"direction": "outbound", "from": p.agent_a.email, "at": ts(2), "body": "Try"},
                {"direction": "inbound", "from": p.customer.email, "at": ts(20), "body": "No"},
                {"direction": "outbound", "from": p.agent_b.email, "at": ts(22), "body": "Ok"},
            ],
            "events": [
                {"at": ts(0.5), "assignee": p.agent_a.email},
                {"at": ts(2), "status": "open"},
                {"at": ts(3), "status": "solved"},
                {"at": ts(20), "status": "open"},
                {"at": ts(21), "assignee": p.agent_b.email},
                {"at": ts(22), "status": "solved"},
                {"at": ts(50), "status": "closed"},
            ],
            "surveys": [
                {"type": "csat", "score": 4, "at": ts(23), "comment": "Fine"},
                {"type": "ces", "score": 6, "at": ts(23)},
            ],
        },
    )

    expected = _figures(live)
    assert _figures(imported) == expected
    figures = expected["figures"]
    assert (figures["reopens"], figures["agent_replies"], figures["one_touch"]) == (1, 2, False)
    assert figures["final_solve_at"] == hours(22)
    assert figures["final_solve_assignee_id"] == p.agent_b.pk
    assert [a[3] for a in expected["answers"]] == [p.agent_b.pk, p.agent_b.pk]


def test_agent_initiated_ticket_solved_straight_to_closed(personas: Personas, office: None) -> None:
    p = personas
    live = open_ticket(
        p.mailbox_a,
        p.customer,
        direction=Direction.OUTBOUND,
        actor=services.Actor.agent(p.agent_a),
        kind="service",
    )
    customer_writes(live, hours(4))
    services.reply(live, p.agent_a, "Great", at=hours(30))
    set_status(live, p.agent_a, "closed", hours(31))

    imported = _import(
        p,
        {
            "external_id": "outreach",
            "kind": "service",
            "messages": [
                {"direction": "outbound", "from": p.agent_a.email, "at": ts(0), "body": "Hi"},
                {"direction": "inbound", "from": p.customer.email, "at": ts(4), "body": "Hey"},
                {"direction": "outbound", "from": p.agent_a.email, "at": ts(30), "body": "Ok"},
            ],
            "events": [{"at": ts(31), "status": "closed"}],
        },
    )

    expected = _figures(live)
    assert _figures(imported) == expected
    figures = expected["figures"]
    assert not figures["customer_initiated"] and figures["first_response_seconds"] is None
    assert figures["final_solve_at"] == hours(31) == T0 + timedelta(hours=31)
    assert (figures["agent_replies"], figures["one_touch"]) == (2, False)
