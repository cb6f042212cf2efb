"""The ticket page's activity rows and SLA badge in the agent's language (issue #19):
the sentences are translated, word order and all; English stays as it was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from tests.conftest import Personas
from tests.factories import make_mailbox, make_ticket
from tickets import selectors, services
from tickets.mail.imap import poll_status
from tickets.models import EventKind, MailSecurity, TicketEvent
from tickets.services import Actor
from tickets.templatetags.tandem import event_summary
from tickets.workflow.templatetags.workflow_tags import sla_badge, sla_targets

pytestmark = pytest.mark.django_db


def _page(personas: Personas, language: str) -> str:
    agent = personas.agent_a
    agent.language = language
    agent.save(update_fields=["language"])
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    actor = Actor.agent(agent)
    services.update_ticket(ticket, actor=actor, status="pending")
    services.update_ticket(ticket, actor=actor, assignee=agent)
    services.snooze_ticket(ticket, timezone.now() + timedelta(days=2), actor=actor)
    client = Client()
    client.force_login(agent)
    response = client.get(f"/tickets/{ticket.number}/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_german_ticket_page_tells_its_activity_in_german(personas: Personas) -> None:
    page = _page(personas, "de")
    assert "hat Status von Neu auf Wartend geändert" in page
    assert f"hat {personas.agent_a.display_name} zugewiesen" in page
    assert "hat bis " in page and " zurückgestellt" in page
    assert "changed status" not in page and "assigned to" not in page
    assert "snoozed until" not in page


def test_the_english_activity_reads_as_before(personas: Personas) -> None:
    page = _page(personas, "en")
    assert "changed status from New to Pending" in page
    assert f"assigned to {personas.agent_a.display_name}" in page
    assert "snoozed until " in page


def test_each_kind_of_summary_has_its_words_in_french(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    services.update_ticket(ticket, actor=Actor.agent(personas.agent_a), priority="urgent")
    with translation.override("fr"):
        lines = [event_summary(event) for event in selectors.ticket_events(ticket)]
    assert "a changé la priorité de Normale à Urgente" in lines
    assert "a créé le ticket" in lines


def test_an_sla_badge_in_german(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    now = timezone.now()
    ticket.first_response_due_at = now + timedelta(hours=2, minutes=5, seconds=30)
    ticket.resolution_due_at = now - timedelta(days=1, hours=3, seconds=30)
    with translation.override("de"):
        badge = sla_badge(ticket)
        targets = sla_targets(ticket, now)
    assert badge is not None
    assert badge["label"] == "Lösung" and badge["text"] == "seit 1 T. 3 Std. überfällig"
    assert targets[0]["label"] == "Erste Antwort"
    assert targets[0]["text"] == "fällig in 2 Std. 5 Min."
    with translation.override("en"):
        english = sla_targets(ticket, now)
    assert [(t["label"], t["text"]) for t in english] == [
        ("First reply", "due in 2h 5m"),
        ("Resolution", "overdue by 1d 3h"),
    ]


def test_a_mailbox_poll_status_in_german_keeps_the_servers_words(personas: Personas) -> None:
    now = timezone.now()
    failing = make_mailbox(
        name="Vertrieb",
        imap_host="127.0.0.1",
        imap_port=1,
        imap_security=MailSecurity.NONE,
        poll_interval_seconds=60,
        imap_polled_at=now,
        imap_failing_since=now,
        imap_error="[AUTHENTICATIONFAILED] Invalid credentials",
    )
    with translation.override("de"):
        status = poll_status(failing)
        never = poll_status(make_mailbox(name="Webhook"))
    assert status.startswith("[AUTHENTICATIONFAILED] Invalid credentials Erster Fehler ")
    assert "zuletzt versucht" in status and "First failed" not in status
    assert never == "Kein IMAP-Server: E-Mails kommen per Webhook oder Befehl."


@pytest.mark.parametrize(
    ("language", "count", "expected"),
    [
        ("en", 0, "merged into #7 (0 messages)"),
        ("en", 1, "merged into #7 (1 message)"),
        ("fr", 0, "(0 message)"),
        ("fr", 1, "(1 message)"),
        ("fr", 2, "(2 messages)"),
        ("de", 1, "(1 Nachricht)"),
        ("de", 0, "(0 Nachrichten)"),
    ],
)
def test_a_merge_counts_its_messages_with_the_languages_plural(
    language: str, count: int, expected: str
) -> None:
    event = TicketEvent(kind=EventKind.MERGED, after=7, data={"messages": list(range(count))})
    with translation.override(language):
        assert expected in event_summary(event)
