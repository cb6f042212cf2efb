"""Similar solved tickets with the reply that solved them, and relevant articles, found
from the ticket's own text; inserted with one click (counted); only what the viewer may
open."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from assist.models import Use
from assist.similar import first_message_text, similar_solved
from tests.assist.conftest import Desk
from tests.conftest import Personas
from tests.factories import make_article, make_customer, make_mailbox
from tickets import services
from tickets.models import Status, Team, Ticket
from tickets.services import Actor

pytestmark = pytest.mark.django_db

RESET_REPLY = "Go to Settings, then Security, and press Reset password: a link arrives by mail."


def _solved(desk: Desk, subject: str, body: str, reply: str, mailbox=None) -> Ticket:
    ticket = services.create_ticket(
        mailbox=mailbox or desk.mailbox,
        customer=make_customer(),
        subject=subject,
        body_text=body,
    )
    services.reply(ticket, desk.agent, reply)
    services.update_ticket(ticket, actor=Actor.agent(desk.agent), status=Status.SOLVED)
    return ticket


@pytest.fixture
def history(desk: Desk) -> dict[str, Ticket]:
    return {
        "reset": _solved(
            desk,
            "How do I reset my password?",
            "I forgot my password and cannot sign in. How do I reset my password?",
            RESET_REPLY,
        ),
        "invoice": _solved(
            desk,
            "Invoice address",
            "Please change the address on my invoice to our new office.",
            "Done: the next invoice shows the new address.",
        ),
        "export": _solved(
            desk,
            "Export to spreadsheet",
            "Can I export my reports to a spreadsheet?",
            "Yes: Reports, then Export, then CSV.",
        ),
    }


def test_a_repeated_question_gets_the_earlier_solved_reply_first(
    desk: Desk, history: dict[str, Ticket], personas: Personas
) -> None:
    make_article(title="Resetting your password", body="Open Settings, Security, Reset password.")
    ticket = services.create_ticket(
        mailbox=desk.mailbox,
        customer=make_customer(),
        subject="Password reset",
        body_text="Hello, I cannot sign in because I forgot my password. How can I reset it?",
    )
    found = similar_solved(ticket, desk.agent, first_message_text(ticket))
    assert found[0].number == history["reset"].pk
    assert found[0].reply == RESET_REPLY

    agent = Client()
    agent.force_login(desk.agent)
    panel = agent.get(reverse("assist:panel", args=[ticket.pk])).content.decode()
    # Listed first in the panel too.
    shown = {n: panel.find(f"#{t.pk}</span>") for n, t in history.items()}
    shown = {n: at for n, at in shown.items() if at >= 0}
    assert min(shown, key=shown.__getitem__) == "reset"
    assert f'<template id="assist-solved-{history["reset"].pk}">{RESET_REPLY}</template>' in panel
    assert "Resetting your password" in panel

    # One click inserts it (the browser test does the inserting); the click is counted.
    response = agent.post(
        reverse("assist:use", args=[ticket.pk]),
        {"kind": "solved_reply", "source": str(history["reset"].pk)},
    )
    assert response.status_code == 204
    use = Use.objects.get()
    assert (use.kind, use.source_id, use.agent) == ("solved_reply", history["reset"].pk, desk.agent)
    assert agent.post(reverse("assist:use", args=[ticket.pk]), {"kind": "bogus"}).status_code == 400


def test_solved_tickets_of_mailboxes_the_agent_cannot_see_are_not_offered(
    desk: Desk, personas: Personas
) -> None:
    hidden_team = Team.objects.create(name="Legal")
    hidden_mailbox = make_mailbox(teams=[hidden_team], address="legal@tandem.test")
    secret = _solved(
        desk,
        "How do I reset my password?",
        "I forgot my password and cannot sign in. How do I reset my password?",
        "Secret legal answer",
        mailbox=hidden_mailbox,
    )
    ticket = services.create_ticket(
        mailbox=desk.mailbox,
        customer=make_customer(),
        subject="Password reset",
        body_text="I forgot my password. How can I reset it?",
    )
    found = similar_solved(ticket, desk.agent, first_message_text(ticket))
    assert secret.pk not in [item.number for item in found]
    # An admin, who sees every mailbox, is offered it.
    found = similar_solved(ticket, personas.admin, first_message_text(ticket))
    assert secret.pk in [item.number for item in found]


def test_the_panel_costs_the_same_queries_with_more_history(
    desk: Desk, history: dict[str, Ticket], django_assert_max_num_queries
) -> None:
    ticket = services.create_ticket(
        mailbox=desk.mailbox,
        customer=make_customer(),
        subject="Password reset",
        body_text="I forgot my password. How can I reset it? Also my invoice and export.",
    )
    agent = Client()
    agent.force_login(desk.agent)
    agent.get(reverse("assist:panel", args=[ticket.pk]))  # suggestions stored, caches warm
    with django_assert_max_num_queries(14):
        response = agent.get(reverse("assist:panel", args=[ticket.pk]))
    assert response.status_code == 200
    for n in range(6):
        _solved(desk, f"Reset password {n}", "I forgot my password, reset it", RESET_REPLY)
    with django_assert_max_num_queries(14):
        agent.get(reverse("assist:panel", args=[ticket.pk]))
