"""An email on the ticket page: images held back even in HTML stored by older versions."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from tests.conftest import Personas, make_ticket
from tickets.models import Attachment

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
