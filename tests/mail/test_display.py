"""An email on the ticket page: images held back even in HTML stored by older versions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import Personas
from tests.factories import make_ticket
from tickets import services
from tickets.models import Attachment, DeliveryStatus, Message

pytestmark = pytest.mark.django_db


def test_html_stored_before_full_blocking_still_holds_remote_images_back(
    personas: Personas, client: Client
) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer, subject="Logo")
    message = ticket.messages.get()
    # As an earlier sanitizer stored it: a leading space kept this image loading at once.
    message.body_html = '<p><img src=" https://t.example/a.gif"> <img src="cid:shot@x"></p>'
    message.save(update_fields=["body_html"])
    shot = Attachment.objects.create(
        message=message,
        file=ContentFile(b"\x89PNG", name="shot.png"),
        filename="shot.png",
        content_type="image/png",
        content_id="shot@x",
        inline=True,
    )
    client.force_login(personas.agent_a)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'src="" data-src=" https://t.example/a.gif"' in page
    assert ' src=" https://t.example' not in page
    assert "Load images" in page
    assert f'src="/tickets/{ticket.pk}/attachments/{shot.pk}/"' in page


def test_a_send_waiting_for_its_retry_shows_when_not_failed(
    client: Client, personas: Personas
) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    reply = services.reply(ticket, personas.agent_a, "Hello")
    due = timezone.now() + timedelta(minutes=4)
    Message.objects.filter(pk=reply.pk).update(
        delivery_status=DeliveryStatus.QUEUED,
        delivery_error="Could not reach the mail server: connection refused",
        delivery_attempts=2,
        next_attempt_at=due,
    )
    client.force_login(personas.agent_a)
    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert f"Retrying at {timezone.localtime(due):%H:%M}" in page
    assert "Not delivered" not in page
    assert "Retry sending" not in page
