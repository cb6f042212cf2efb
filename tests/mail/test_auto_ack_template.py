"""An admin-written acknowledgement (issue #14, finding 7) renders from plain values only:
no mailbox password, webhook secret or password hash reaches the customer's mail, and
the admin refuses a text that reaches for other templates or tag libraries."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import Personas
from tests.mail.conftest import load
from tickets.mail.intake import ingest_many, ingest_message
from tickets.models import Direction, Message, Ticket

pytestmark = pytest.mark.django_db

PROBES = (
    "[{{ mailbox.smtp_password }}][{{ mailbox.imap_password }}][{{ mailbox.webhook_secret }}]"
    "[{{ ticket.mailbox.smtp_password }}][{{ ticket.customer.user.password }}]"
    "[{{ customer.user.password }}][{{ customer.user.email }}][{{ ticket.customer.email }}]"
)
TEMPLATE = (
    "Hi {{ customer.first_name }} ({{ customer.email }}), ticket #{{ ticket.number }}: "
    "{{ ticket.subject }} at {{ mailbox.name }} <{{ mailbox.address }}>, "
    "{{ ticket.url }}\n" + PROBES
)


def _ack_of(ticket_id: int) -> Message:
    return Message.objects.get(ticket_id=ticket_id, direction=Direction.OUTBOUND)


@pytest.fixture
def secret_mailbox(personas: Personas) -> Personas:
    box = personas.mailbox_a
    box.auto_ack_enabled = True
    box.auto_ack_template = TEMPLATE
    box.imap_password, box.smtp_password = "imap-pw-4711", "smtp-pw-0815"
    box.webhook_secret = "hook-secret-2342"
    box.save()
    return personas


@pytest.mark.parametrize("door", ["one message", "a batch"])
def test_the_acknowledgement_names_the_listed_values_and_nothing_else(
    secret_mailbox: Personas, door: str
) -> None:
    raw = load("plain.eml")
    result = ingest_message(raw) if door == "one message" else ingest_many([raw])[0]
    ticket = Ticket.objects.get(pk=result.ticket_id)
    ack = _ack_of(ticket.pk)
    expected = (
        f"Hi Li (li@customer.test), ticket #{ticket.pk}: Printer on floor 3 is jammed at "
        f"Mailbox A <a@tandem.test>, http://127.0.0.1:8000/portal/requests/{ticket.pk}/\n"
        "[][][][][][][][]"
    )
    assert ack.body_text == expected
    password_hash = secret_mailbox.customer.user.password
    for secret in ("imap-pw-4711", "smtp-pw-0815", "hook-secret-2342", password_hash):
        assert secret not in ack.body_text and secret not in ack.body_html
    assert "&lt;a@tandem.test&gt;" in ack.body_html


def test_the_admin_refuses_a_text_that_reaches_past_its_values(
    personas: Personas, client: Client
) -> None:
    client.force_login(personas.admin)
    box = personas.mailbox_a
    url = f"/admin/tickets/mailbox/{box.pk}/change/"
    form = {
        "name": box.name,
        "address": box.address,
        "is_active": "on",
        "is_default": "on",
        "imap_port": 993,
        "imap_security": "ssl",
        "imap_folder": "INBOX",
        "poll_interval_seconds": 60,
        "smtp_port": 587,
        "smtp_security": "starttls",
    }
    for text in (
        "{% include 'tickets/email/auto_ack-body.txt' %}",
        "{% extends 'admin/base.html' %}",
        "{% load tandem %}{{ ticket.number }}",
    ):
        page = client.post(url, {**form, "auto_ack_template": text})
        assert page.status_code == 200, text
        assert "This template has an error" in page.content.decode(), text
    box.refresh_from_db()
    assert box.auto_ack_template == ""
    assert client.post(url, {**form, "auto_ack_template": TEMPLATE}).status_code == 302
