"""Agents told by email of assignments and customer replies, as their preferences say."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import Personas
from tests.factories import make_ticket
from tests.mail.conftest import load
from tickets import services
from tickets.mail.ingest import Outcome
from tickets.mail.intake import ingest_message
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_assignment_by_someone_else_notifies_the_agent_unless_they_opted_out(
    personas: Personas, django_capture_on_commit_callbacks: Any, eager_tasks: None, mailoutbox: Any
) -> None:
    ticket = Ticket.objects.get(pk=ingest_message(load("plain.eml")).ticket_id)
    mailoutbox.clear()
    by_manager = services.Actor.agent(personas.manager)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_ticket(ticket, actor=by_manager, assignee=personas.agent_a)
    assert [m.to for m in mailoutbox] == [["agent.a@staff.test"]]
    notice = mailoutbox[0]
    assert f"#{ticket.pk}" in notice.subject and "assigned you" in notice.subject
    assert f"/tickets/{ticket.pk}/" in notice.body
    # RFC 3834: an agent's out-of-office answer must not come back as a customer mail.
    assert notice.extra_headers["Auto-Submitted"] == "auto-generated"

    # Taking a ticket oneself tells no one.
    with django_capture_on_commit_callbacks(execute=True):
        services.update_ticket(ticket, actor=by_manager, assignee=personas.manager)
    assert len(mailoutbox) == 1
    # Opted out: no mail.
    personas.agent_a.notify_on_assignment = False
    personas.agent_a.save(update_fields=["notify_on_assignment"])
    with django_capture_on_commit_callbacks(execute=True):
        services.update_ticket(ticket, actor=by_manager, assignee=personas.agent_a)
    assert len(mailoutbox) == 1


@pytest.fixture(params=["in bulk", "one by one"])
def ingest_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both ingest paths: the per-message one (a batch the bulk path does not cover)
    notifies the same."""
    if request.param == "one by one":
        monkeypatch.setattr("tickets.mail.intake._ingest_in_bulk", lambda *args: None)


def test_customer_reply_notifies_the_assignee_unless_they_opted_out(
    personas: Personas,
    django_capture_on_commit_callbacks: Any,
    eager_tasks: None,
    mailoutbox: Any,
    ingest_path: None,
) -> None:
    ticket = Ticket.objects.get(pk=ingest_message(load("plain.eml")).ticket_id)
    services.update_ticket(ticket, assignee=personas.agent_a)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert ingest_message(load("reply.eml")).outcome == Outcome.ADDED
    assert [m.to for m in mailoutbox] == [["agent.a@staff.test"]]
    assert "New reply from Li Wei" in mailoutbox[0].subject
    assert "It is working again" in mailoutbox[0].body

    # An auto-reply on the ticket tells no one.
    auto = load("auto_reply.eml").replace(
        b"Auto-Submitted", b"In-Reply-To: <reply-1@customer.test>\nAuto-Submitted"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert ingest_message(auto).ticket_id == ticket.pk
    assert len(mailoutbox) == 1
    # Opted out: no mail.
    personas.agent_a.notify_on_customer_reply = False
    personas.agent_a.save(update_fields=["notify_on_customer_reply"])
    again = load("reply.eml").replace(b"reply-1@", b"reply-2@")
    with django_capture_on_commit_callbacks(execute=True):
        assert ingest_message(again).ticket_id == ticket.pk
    assert len(mailoutbox) == 1


def test_an_agent_chooses_their_own_notifications(personas: Personas, client: Any) -> None:
    url = "/me/notifications/"
    client.force_login(personas.agent_a)
    assert f'href="{url}"' in client.get("/").content.decode()
    page = client.get(url)
    assert page.status_code == 200
    # Every kind in the app and by email, but the unassigned-reply notice (opt-in) and
    # going on to the next ticket after a reply.
    assert page.content.decode().count("checked") == 8
    response = client.post(url, {"notify_on_assignment": "on"})
    assert response.status_code == 302 and response["Location"] == url
    personas.agent_a.refresh_from_db()
    assert personas.agent_a.notify_on_assignment
    assert not personas.agent_a.notify_on_customer_reply
    # Only their own settings: another agent's are untouched.
    personas.agent_b.refresh_from_db()
    assert personas.agent_b.notify_on_customer_reply
    # Customers have no such page; anonymous visitors sign in first.
    client.force_login(personas.customer.user)
    assert client.get(url).status_code == 302
    assert client.post(url, {"notify_on_assignment": "on"}).status_code == 404
    client.logout()
    assert client.get(url)["Location"].startswith("/login/")


def test_a_reply_on_an_unassigned_ticket_tells_the_agents_who_asked(
    personas: Personas,
    django_capture_on_commit_callbacks: Any,
    eager_tasks: None,
    mailoutbox: Any,
    ingest_path: None,
) -> None:
    ticket = Ticket.objects.get(pk=ingest_message(load("plain.eml")).ticket_id)
    assert ticket.mailbox == personas.mailbox_a and ticket.assignee is None
    replies = (load("reply.eml").replace(b"reply-1@", f"reply-{n}@".encode()) for n in range(9))

    # Off by default: nobody owns the ticket and nobody asked.
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert ingest_message(next(replies)).outcome == Outcome.ADDED
    assert mailoutbox == []

    # Without a team: everyone who works in the mailbox and asked (team B's agent does
    # not see mailbox A; the manager sees every mailbox).
    for agent in (personas.agent_a, personas.agent_b, personas.manager):
        agent.notify_on_unassigned_reply = True
        agent.save(update_fields=["notify_on_unassigned_reply"])
    with django_capture_on_commit_callbacks(execute=True):
        ingest_message(next(replies))
    assert sorted(m.to[0] for m in mailoutbox) == ["agent.a@staff.test", "manager@staff.test"]
    assert all("New reply from Li Wei" in m.subject for m in mailoutbox)

    # With a team: that team's members only (a ticket's team works its mailbox: team B
    # is given mailbox A first).
    personas.mailbox_a.teams.add(personas.team_b)
    services.update_ticket(ticket, team=personas.team_b)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ingest_message(next(replies))
    assert [m.to for m in mailoutbox] == [["agent.b@staff.test"]]

    # Once assigned, only the assignee hears of replies (by their own setting).
    services.update_ticket(ticket, assignee=personas.agent_a)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ingest_message(next(replies))
    assert [m.to for m in mailoutbox] == [["agent.a@staff.test"]]


def test_a_reply_in_the_portal_tells_the_assignee_like_an_email_would(
    personas: Personas, django_capture_on_commit_callbacks: Any, eager_tasks: None, mailoutbox: Any
) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    services.update_ticket(ticket, assignee=personas.agent_a)
    client = Client()
    client.force_login(personas.customer.user)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/portal/requests/{ticket.pk}/reply/", {"body": "Still broken."})
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["agent.a@staff.test"]]
    assert "Still broken." in mailoutbox[0].body
