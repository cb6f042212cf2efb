"""In-app notifications: written by the same senders as the emails (mentions,
assignments, customer replies, SLA warnings), each kind by the agent's settings for the
app and for email, only to those who may open the ticket; the bell's count and list."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from privacy.erase import erase_ticket_content
from tests.conftest import Personas
from tests.factories import make_ticket
from tests.mail.conftest import load
from tickets import notifications, services
from tickets.mail.intake import ingest_message
from tickets.models import Notification, NotificationKind, Ticket, User
from tickets.workflow import setup, sla
from tickets.workflow.models import SlaPolicy

pytestmark = pytest.mark.django_db

BELL = reverse("tickets:bell")
LIST = reverse("tickets:notifications")


def kinds(user: User) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def turn_off(user: User, *fields: str) -> None:
    for name in fields:
        setattr(user, name, False)
    user.save(update_fields=list(fields))


def test_an_assignment_is_in_the_app_and_by_email_as_the_agent_chose(
    personas: Personas, django_capture_on_commit_callbacks: Any, eager_tasks: None, mailoutbox: Any
) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    by_manager = services.Actor.agent(personas.manager)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_ticket(ticket, actor=by_manager, assignee=personas.agent_a)
    notice = Notification.objects.get()
    assert (notice.recipient, notice.kind, notice.ticket_id) == (
        personas.agent_a,
        NotificationKind.ASSIGNMENT,
        ticket.pk,
    )
    assert "assigned you" in notice.headline and notice.read_at is None
    assert [m.to for m in mailoutbox] == [["agent.a@staff.test"]]
    # The app only: no mail.
    turn_off(personas.agent_a, "notify_on_assignment")
    services.update_ticket(ticket, actor=by_manager, assignee=personas.manager)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_ticket(ticket, actor=by_manager, assignee=personas.agent_a)
    assert kinds(personas.agent_a) == ["assignment"] * 2 and len(mailoutbox) == 1
    # Email only: no notice in the app.
    personas.agent_a.notify_on_assignment, personas.agent_a.app_on_assignment = True, False
    personas.agent_a.save(update_fields=["notify_on_assignment", "app_on_assignment"])
    services.update_ticket(ticket, actor=by_manager, assignee=personas.manager)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_ticket(ticket, actor=by_manager, assignee=personas.agent_a)
    assert len(kinds(personas.agent_a)) == 2 and len(mailoutbox) == 2


def test_a_mention_reaches_only_those_who_may_open_the_ticket(
    personas: Personas, django_capture_on_commit_callbacks: Any, eager_tasks: None, mailoutbox: Any
) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    with django_capture_on_commit_callbacks(execute=True):
        services.add_note(ticket, personas.agent_b, "@agent.a and @agent.b@staff.test @manager")
    # Ben (team B) cannot open a ticket of mailbox A: named, he is told nothing.
    assert sorted(n.recipient.email for n in Notification.objects.all()) == [
        "agent.a@staff.test",
        "manager@staff.test",
    ]
    assert set(kinds(personas.agent_a)) == {NotificationKind.MENTION}
    assert sorted(m.to[0] for m in mailoutbox) == ["agent.a@staff.test", "manager@staff.test"]
    # Per kind: the manager wants mentions by email only, Ana in the app only.
    Notification.objects.all().delete()
    mailoutbox.clear()
    turn_off(personas.manager, "app_on_mention")
    turn_off(personas.agent_a, "notify_on_mention")
    with django_capture_on_commit_callbacks(execute=True):
        services.add_note(ticket, personas.agent_b, "@agent.a @manager again")
    assert [n.recipient for n in Notification.objects.all()] == [personas.agent_a]
    assert [m.to for m in mailoutbox] == [["manager@staff.test"]]


def test_a_customer_reply_on_my_ticket(
    personas: Personas, django_capture_on_commit_callbacks: Any, eager_tasks: None, mailoutbox: Any
) -> None:
    ticket = Ticket.objects.get(pk=ingest_message(load("plain.eml")).ticket_id)
    services.update_ticket(ticket, assignee=personas.manager)
    turn_off(personas.manager, "notify_on_customer_reply")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ingest_message(load("reply.eml"))
    notice = Notification.objects.get()
    assert notice.recipient == personas.manager and notice.kind == "customer_reply"
    assert notice.headline == "New reply from Li Wei" and "It is working again" in notice.text
    assert mailoutbox == []


def test_an_sla_warning(
    personas: Personas, django_capture_on_commit_callbacks: Any, eager_tasks: None, mailoutbox: Any
) -> None:
    setup.save_policy(
        SlaPolicy(
            name="Normal",
            priority="normal",
            first_response_hours=Decimal(1),
            resolution_hours=Decimal(2),
        )
    )
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(personas.mailbox_a, personas.customer, at=start - timedelta(hours=3))
        services.update_ticket(ticket, assignee=personas.agent_a)
    turn_off(personas.agent_a, "notify_on_sla_warning")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sla.check_sla(now=start)
    notice = Notification.objects.get()
    assert notice.recipient == personas.agent_a and notice.kind == "sla_warning"
    assert notice.ticket_id == ticket.pk and "SLA breached" in notice.headline
    assert mailoutbox == []


def test_the_bell_counts_lists_and_marks_read(client: Client, personas: Personas) -> None:
    mine = make_ticket(personas.mailbox_a, personas.customer, subject="Printer on fire")
    theirs = make_ticket(personas.mailbox_b, personas.customer)
    for ticket in (mine, mine):
        Notification.objects.create(
            recipient=personas.agent_a, kind="mention", ticket=ticket, headline="Ben mentioned you"
        )
    other = Notification.objects.create(
        recipient=personas.agent_b, kind="mention", ticket=theirs, headline="For Ben"
    )
    client.force_login(personas.agent_a)
    client.get(BELL)
    # The badge is one capped COUNT (the session and the user are cached).
    with CaptureQueriesContext(connection) as queries:
        response = client.get(BELL, headers={"HX-Request": "true"})
    assert 'data-unread="2"' in response.content.decode()
    assert len(queries) == 1, [q["sql"][:80] for q in queries]
    panel = client.get(LIST, headers={"HX-Request": "true"}).content.decode()
    assert panel.count("Ben mentioned you") == 2 and "Printer on fire" in panel
    assert "For Ben" not in panel and 'hx-swap-oob="true"' in panel
    # Opening one marks it read and goes to its ticket.
    first = Notification.objects.filter(recipient=personas.agent_a).first()
    response = client.post(reverse("tickets:open-notification", args=[first.pk]))
    assert response["Location"] == f"/tickets/{mine.number}/"
    assert 'data-unread="1"' in client.get(BELL).content.decode()
    # Another agent's notice is not theirs to open.
    response = client.post(reverse("tickets:open-notification", args=[other.pk]))
    assert response.status_code == 404
    assert client.post(reverse("tickets:notifications-read")).status_code == 302
    assert 'data-unread="0"' in client.get(BELL).content.decode()
    other.refresh_from_db()
    assert other.read_at is None
    assert client.get(LIST).status_code == 200


def test_a_notice_about_a_ticket_one_may_no_longer_open_is_not_shown(
    client: Client, personas: Personas
) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer, subject="Team A only")
    Notification.objects.create(
        recipient=personas.agent_a, kind="assignment", ticket=ticket, headline="Yours"
    )
    assert notifications.unread_count(personas.agent_a) == 1
    personas.team_a.members.remove(personas.agent_a)
    assert notifications.unread_count(personas.agent_a) == 0
    assert notifications.recent(personas.agent_a) == []
    client.force_login(personas.agent_a)
    assert "Team A only" not in client.get(LIST).content.decode()
    # Customers have no bell.
    client.force_login(personas.customer.user)
    assert client.get(BELL).status_code in (302, 404)


def test_the_settings_page_sets_each_kind_for_the_app_and_email(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.agent_a)
    url = reverse("tickets:notification-settings")
    page = client.get(url).content.decode()
    assert "In the app" in page and "By email" in page
    response = client.post(url, {"app_on_mention": "on", "notify_on_sla_warning": "on"})
    assert response.status_code == 302
    personas.agent_a.refresh_from_db()
    assert personas.agent_a.app_on_mention and not personas.agent_a.app_on_assignment
    assert personas.agent_a.notify_on_sla_warning and not personas.agent_a.notify_on_mention


def test_erasing_a_tickets_content_deletes_its_notices(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    kept = make_ticket(personas.mailbox_a, personas.customer)
    for about in (ticket, kept):
        Notification.objects.create(
            recipient=personas.agent_a,
            kind="customer_reply",
            ticket=about,
            headline="New reply from Li Wei",
            text="My card number is ...",
        )
    erase_ticket_content([ticket.pk])
    assert list(Notification.objects.values_list("ticket_id", flat=True)) == [kept.pk]


def test_each_agent_reads_a_notice_in_their_own_language(
    personas: Personas, django_capture_on_commit_callbacks: Any, eager_tasks: None, mailoutbox: Any
) -> None:
    """The headline is worded per recipient: German for an agent who chose German, the
    desk's language for one who chose nothing; their mails likewise."""
    personas.agent_a.language = "de"
    personas.agent_a.save(update_fields=["language"])
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    with django_capture_on_commit_callbacks(execute=True):
        services.add_note(ticket, personas.agent_b, "@agent.a and @manager please look")
    headlines = dict(
        Notification.objects.filter(ticket=ticket).values_list("recipient__email", "headline")
    )
    author = personas.agent_b.display_name
    assert headlines["agent.a@staff.test"] == f"{author} hat Sie in #{ticket.pk} erwähnt"
    assert headlines[personas.manager.email] == f"{author} mentioned you on #{ticket.pk}"
    subjects = {tuple(m.to): m.subject for m in mailoutbox}
    assert "erwähnt" in subjects[("agent.a@staff.test",)]
    assert "mentioned you" in subjects[(personas.manager.email,)]


def test_an_sla_warning_is_worded_in_the_agents_language(
    personas: Personas, eager_tasks: None, mailoutbox: Any
) -> None:
    personas.agent_a.language = "fr"
    personas.agent_a.save(update_fields=["language"])
    numbers = [make_ticket(personas.mailbox_a, personas.customer).pk for _ in range(2)]
    sla._notify({"first_response_breach": [(n, personas.agent_a.pk, None) for n in numbers]})
    notice = Notification.objects.get(recipient=personas.agent_a)
    assert notice.headline == "2 tickets : première réponse en retard (SLA non respecté)"
    assert notice.text == (
        f"première réponse en retard (SLA non respecté): #{numbers[0]}, #{numbers[1]}"
    )
