"""The agent app's ticket screens in the agent's language (docs/i18n.md): the workflow
settings, the new-ticket page, the profile pages, the labels of statuses and rules, the
messages after an action and the notification mails."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from tests.conftest import Personas
from tests.factories import make_ticket
from tickets import services
from tickets.agent_mail import send_notification_now
from tickets.models import EventKind, Priority, Status
from tickets.workflow import automation
from tickets.workflow.models import AutomationRule

pytestmark = pytest.mark.django_db


def client_for(user: Any, language: str) -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


def test_the_rules_page_speaks_german(personas: Personas, builtin_rules: None) -> None:
    page = client_for(personas.admin, "de").get(reverse("tickets:rules")).content.decode()
    assert "Automatisierungsregeln" in page
    assert "Neue Regel" in page and "New rule" not in page
    assert "E-Mails, die niemanden brauchen, letzte 30 Tage" in page
    # The built-in rule's trigger and action, as the rule list words them.
    assert "When a ticket is created" not in page and "Add tags" not in page
    assert "Wenn ein Ticket erstellt wird" in page and "Tags hinzufügen" in page


def test_the_rule_builder_speaks_german_and_reads_german_names(
    personas: Personas, builtin_rules: None
) -> None:
    admin = client_for(personas.admin, "de")
    page = admin.get(reverse("tickets:rule-new")).content.decode()
    assert "Neue Automatisierungsregel" in page
    assert "Regel speichern" in page and "Abbrechen" in page
    assert "— bitte wählen —" in page and "Priorität setzen" in page
    data = {
        "name": "Dringendes",
        "trigger": "created",
        "match": "all",
        "is_active": "on",
        "position": "5",
        "c-TOTAL_FORMS": "1",
        "c-INITIAL_FORMS": "0",
        "c-0-field": "priority",
        "c-0-op": "is",
        "c-0-value": "Dringend",
        "a-TOTAL_FORMS": "1",
        "a-INITIAL_FORMS": "0",
        "a-0-type": "set_status",
        "a-0-value": "on hold",
    }
    assert admin.post(reverse("tickets:rule-new"), data).status_code == 302
    rule = AutomationRule.objects.get(name="Dringendes")
    assert rule.conditions == [{"field": "priority", "op": "is", "value": ["urgent"]}]
    assert rule.actions == [{"type": "set_status", "value": "on_hold"}]
    # A refusal is worded in German too, the value's choices by their German names.
    data |= {"name": "Falsch", "c-0-value": "sofort"}
    refused = admin.post(reverse("tickets:rule-new"), data).content.decode()
    assert "Bedingung 1: „sofort“ ist keine Priorität" in refused
    assert "Niedrig, Normal, Hoch, Dringend" in refused


def test_the_new_ticket_page_speaks_german(personas: Personas) -> None:
    agent = client_for(personas.agent_a, "de")
    page = agent.get(reverse("tickets:new")).content.decode()
    assert "Neues Ticket für einen Kunden" in page
    assert "E-Mail des Kunden" in page and "Was der Kunde gefragt hat" in page
    assert "Ticket anlegen" in page and "Create ticket" not in page
    refused = agent.post(reverse("tickets:new"), {"subject": " "}).content.decode()
    assert "Geben Sie einen Betreff ein." in refused or "Dieses Feld ist zwingend" in refused
    outreach = agent.get(reverse("tickets:outreach")).content.decode()
    assert "Einen Kunden kontaktieren" in outreach and "Nachricht an den Kunden" in outreach


def test_the_same_pages_still_speak_english(personas: Personas, builtin_rules: None) -> None:
    admin = client_for(personas.admin, "en")
    assert "New rule" in admin.get(reverse("tickets:rules")).content.decode()
    assert "Create ticket" in admin.get(reverse("tickets:new")).content.decode()


def test_status_priority_and_event_labels_are_translated() -> None:
    with translation.override("de"):
        assert str(Status.PENDING.label) == "Wartend"
        assert str(Status.ON_HOLD.label) == "Zurückgestellt"
        assert str(Priority.URGENT.label) == "Dringend"
        assert str(EventKind.MERGED.label) == "Zusammengeführt"
        assert str(automation.OPERATOR_LABELS["not_contains"]) == "enthält nicht"
    with translation.override("fr"):
        assert str(Status.SOLVED.label) == "Résolu"
        assert str(Status.OPEN.label) == "Ouvert"
    with translation.override("es"):
        assert str(Status.CLOSED.label) == "Cerrado"
    # The stored values stay what the API and the rules read.
    assert Status.PENDING == "pending"


def test_a_customer_page_speaks_french(personas: Personas) -> None:
    make_ticket(personas.mailbox_a, personas.customer)
    page = client_for(personas.manager, "fr").get(
        reverse("tickets:customer", args=[personas.customer.pk])
    )
    text = page.content.decode()
    assert page.status_code == 200
    assert "Client depuis" in text and "Chronologie" in text and "Modifier" in text
    assert "Customer since" not in text


def test_agents_and_customers_each_read_their_own_status_words(personas: Personas) -> None:
    """The agent's "Pending" and the portal's "Waiting for you" are one status."""
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    services.update_ticket(ticket, status=Status.PENDING)
    with translation.override("de"):
        assert ticket.get_status_display() == "Wartend"
        assert ticket.customer_status_label == "Wartet auf Sie"
    services.set_customer_language(personas.customer, "de")
    customer = Client()
    customer.force_login(personas.customer.user)
    assert "Wartet auf Sie" in customer.get(reverse("portal:requests")).content.decode()
    assert ticket.customer_status_label == "Pending"


def test_a_bulk_refusal_is_worded_in_german(personas: Personas) -> None:
    closed = make_ticket(personas.mailbox_a, personas.customer)
    services.update_ticket(closed, status=Status.CLOSED)
    response = client_for(personas.agent_a, "de").post(
        reverse("tickets:bulk"),
        {"action": "status", "status": "open", "tickets": [closed.number]},
        follow=True,
    )
    page = response.content.decode()
    expected = (
        "Unverändert gelassen: 1 geschlossenes Ticket, das nicht wieder geöffnet werden kann."
    )
    assert expected in page


@override_settings(LANGUAGE_CODE="de")
def test_agent_notification_mails_come_in_the_desk_language(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    assert send_notification_now([personas.agent_a.pk], ticket.pk, "Hallo", "Text") == 1
    sent = mail.outbox[-1]
    assert "Ticket öffnen" in sent.body
    html = sent.alternatives[0][0]
    assert f"Ticket #{ticket.pk} öffnen" in html and 'lang="de"' in html
    assert sent.subject == f"[Tandem #{ticket.pk}] Hallo"


def test_the_notification_settings_speak_spanish(personas: Personas) -> None:
    agent = client_for(personas.agent_a, "es")
    page = agent.get(reverse("tickets:notification-settings")).content.decode()
    assert "Notificaciones" in page and "Por correo electrónico" in page
    assert "Un cliente responde en un ticket asignado a mí" in page
    signature = agent.get(reverse("tickets:signature-settings")).content.decode()
    assert "Firma" in signature and "Markdown, debajo de cada una de sus respuestas" in signature
