"""Mail that needs no one (tickets/services/courtesy.py): a thank-you does not reopen a
solved ticket, by every door a customer writes through; bulk mail is kept out of
Unassigned by a built-in rule an admin can switch off; both show on the ticket, are
undone in one click, and are counted."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import Personas
from tests.mail.conftest import load
from tests.tickets.api_client import client_for
from tickets import selectors, services
from tickets.mail.intake import ingest_many, ingest_message
from tickets.models import EventKind, Status, Ticket
from tickets.services import Actor, courtesy
from tickets.workflow.models import AutomationRule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.parametrize(
    "text",
    [
        "Thanks!",
        "Great, that worked",
        "Thank you so much, that fixed it.\n\nLi",
        "Thanks!\n\nOn Tue, 3 Nov 2026 at 09:15, Support <a@tandem.test> wrote:\n> Try again?",
        "Vielen Dank!",
        "Danke, hat geklappt.",
        "Merci beaucoup !",
        "Parfait, ça marche.",
        "¡Muchas gracias!",
        "Perfecto, ya funciona.",
        "Thanks for your help!\n-- \nLi Wei\nAcme Ltd",
    ],
)
def test_thanks_only(text: str) -> None:
    assert courtesy.is_thanks_only(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "It is broken",
        "Thanks, but it still doesn't work",
        "Thanks! One more thing: how do I export my invoices?",
        "Thank you. The printer on floor 4 has the same problem now.",
        "Danke, aber es geht immer noch nicht.",
        "Merci, mais ça ne marche toujours pas.",
        "Gracias, pero sigue sin funcionar.",
        "Thanks a lot for the quick answer. I tried the steps you sent and the export now "
        "starts, the file arrives by mail and opens in the spreadsheet app we use.",
    ],
)
def test_not_thanks_only(text: str) -> None:
    assert not courtesy.is_thanks_only(text)


def _solved_by_mail(personas: Personas) -> Ticket:
    ticket = Ticket.objects.get(pk=ingest_message(load("plain.eml")).ticket_id)
    services.update_ticket(ticket, actor=Actor.agent(personas.agent_a), status=Status.SOLVED)
    return ticket


def _thanks_mail(n: int) -> bytes:
    return (
        "From: Li Wei <li@customer.test>\nTo: Support A <a@tandem.test>\n"
        "Subject: Re: Printer on floor 3 is jammed\n"
        f"Message-ID: <thanks-{n}@customer.test>\nIn-Reply-To: <plain-1@customer.test>\n"
        "References: <plain-1@customer.test>\n\nThanks, that worked!\n\n"
        "On Tue, 3 Nov 2026 at 09:15, Support A <a@tandem.test> wrote:\n> Fixed it.\n"
    ).encode()


def _kept_solved(ticket: Ticket, messages: int) -> None:
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED
    assert ticket.messages.count() == messages
    calls = list(ticket.events.filter(kind=EventKind.COURTESY).values_list("after", flat=True))
    assert calls[-1] == courtesy.THANKS


def test_a_thank_you_keeps_a_solved_ticket_solved_through_every_door(
    personas: Personas,
) -> None:
    ticket = _solved_by_mail(personas)
    count = ticket.messages.count()

    # Mail, one message at a time and in a batch (the two stores of tickets.mail).
    ingest_message(_thanks_mail(1))
    _kept_solved(ticket, count + 1)
    ingest_many([_thanks_mail(2)])
    _kept_solved(ticket, count + 2)

    # The portal.
    portal = Client()
    portal.force_login(personas.customer.user)
    response = portal.post(reverse("portal:reply", args=[ticket.pk]), {"body": "Danke!"})
    assert response.status_code == 302
    _kept_solved(ticket, count + 3)

    # The API.
    response = client_for(personas.customer.user).post(
        f"/api/v1/tickets/{ticket.pk}/messages/", {"body": "Merci beaucoup"}, format="json"
    )
    assert response.status_code == 201, response.content
    _kept_solved(ticket, count + 4)

    # Anything more than thanks reopens it, as before.
    portal.post(reverse("portal:reply", args=[ticket.pk]), {"body": "Thanks, but it jams again"})
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_the_ticket_says_why_and_one_click_reopens_it(personas: Personas) -> None:
    ticket = _solved_by_mail(personas)
    ingest_message(_thanks_mail(1))
    agent = Client()
    agent.force_login(personas.agent_a)
    page = agent.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "Kept solved: the customer's reply only says thanks" in page
    assert "kept the ticket solved: the customer&#x27;s reply only says thanks" in page

    response = agent.post(reverse("tickets:courtesy-undo", args=[ticket.pk]))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    page = agent.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert 'id="courtesy-call"' not in page
    # A second click has nothing left to undo and changes nothing.
    agent.post(reverse("tickets:courtesy-undo", args=[ticket.pk]))
    assert ticket.events.filter(kind=EventKind.COURTESY).count() == 2


def test_a_light_agent_cannot_undo(personas: Personas) -> None:
    from tests.factories import make_user
    from tickets.models import Role

    ticket = _solved_by_mail(personas)
    ingest_message(_thanks_mail(1))
    light = make_user(Role.LIGHT_AGENT, teams=[personas.team_a])
    client = Client()
    client.force_login(light)
    assert client.post(reverse("tickets:courtesy-undo", args=[ticket.pk])).status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED


def _newsletter(n: int, header: str = "List-Unsubscribe: <mailto:leave@news.test>") -> bytes:
    return (
        "From: Vendor News <news@vendor.test>\nTo: a@tandem.test\n"
        f"Subject: Our November news {n}\n"
        f"Message-ID: <news-{n}@vendor.test>\n{header}\n\nTen things we shipped.\n"
    ).encode()


def _unassigned(personas: Personas) -> list[int]:
    query = selectors.InboxQuery(view="unassigned")
    return [t.pk for t in selectors.filtered_tickets(personas.agent_a, query)]


def test_bulk_mail_is_kept_out_of_unassigned_by_the_builtin_rule(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        news = Ticket.objects.get(pk=ingest_message(_newsletter(1)).ticket_id)
        batch = ingest_many([_newsletter(2, "List-Id: <n.vendor.test>")])
        listed = Ticket.objects.get(pk=batch[0].ticket_id)
        person = Ticket.objects.get(pk=ingest_message(load("plain.eml")).ticket_id)
    for ticket in (news, listed):
        ticket.refresh_from_db()
        assert courtesy.NEWSLETTER_TAG in ticket.tags
    unassigned = _unassigned(personas)
    assert person.pk in unassigned
    assert news.pk not in unassigned and listed.pk not in unassigned
    # Still in All open: nothing is lost.
    open_view = selectors.filtered_tickets(personas.agent_a, selectors.InboxQuery(view="open"))
    assert {news.pk, listed.pk} <= {t.pk for t in open_view}

    # "Not a newsletter": back in Unassigned, counted.
    agent = Client()
    agent.force_login(personas.agent_a)
    page = agent.get(reverse("tickets:detail", args=[news.pk])).content.decode()
    assert "Marked as a newsletter by the built-in rule" in page
    agent.post(reverse("tickets:courtesy-undo", args=[news.pk]))
    news.refresh_from_db()
    assert courtesy.NEWSLETTER_TAG not in news.tags
    assert news.pk in _unassigned(personas)

    admin = Client()
    admin.force_login(personas.admin)
    html = admin.get(reverse("tickets:rules")).content.decode()
    assert "Mail that needs no one, last 30 days" in html
    counts = courtesy.counts(news.created_at.replace(year=2000))
    assert (counts.newsletters, counts.newsletters_undone) == (2, 1)


def test_an_admin_can_switch_the_rule_off(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    rule = AutomationRule.objects.get(builtin="newsletters")
    rule.is_active = False
    rule.save()
    from tickets.workflow.automation import rules_changed

    rules_changed()
    with django_capture_on_commit_callbacks(execute=True):
        news = Ticket.objects.get(pk=ingest_message(_newsletter(3)).ticket_id)
    news.refresh_from_db()
    assert courtesy.NEWSLETTER_TAG not in news.tags
    assert news.pk in _unassigned(personas)
