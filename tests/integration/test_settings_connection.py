"""The settings area's "Test connection" against the real test Dovecot and an SMTP
server: a mailbox set up through the page, then tested, right and wrong."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import Personas
from tests.integration.conftest import Dovecot, SmtpServer
from tickets.models import Mailbox

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_a_mailbox_set_up_in_the_settings_passes_its_connection_test(
    personas: Personas, dovecot: Dovecot, smtp_server: SmtpServer, imap_user: str
) -> None:
    admin = Client()
    admin.force_login(personas.admin)
    data = {
        "name": "Dovecot support",
        "address": f"{imap_user}@tandem.test",
        "is_active": "on",
        "imap_host": dovecot.host,
        "imap_port": str(dovecot.port),
        "imap_security": "none",
        "imap_user": imap_user,
        "imap_password": "secret",
        "imap_folder": "INBOX",
        "poll_interval_seconds": "60",
        "smtp_host": smtp_server.host,
        "smtp_port": str(smtp_server.port),
        "smtp_security": "none",
    }
    assert admin.post(reverse("console:mailbox-new"), data).status_code == 302
    mailbox = Mailbox.objects.get(address=f"{imap_user}@tandem.test")
    test_url = reverse("console:mailbox-test", args=[mailbox.pk])
    answer = admin.post(test_url, headers={"HX-Request": "true"}).content.decode()
    assert f"IMAP: signed in to {dovecot.host}:{dovecot.port}; INBOX holds 0 messages." in answer
    assert f"SMTP: connected and signed in to {smtp_server.host}:{smtp_server.port}." in answer

    # A wrong password, typed in the form, is what the next test uses.
    edit = reverse("console:mailbox-edit", args=[mailbox.pk])
    assert admin.post(edit, {**data, "imap_password": "wrong"}).status_code == 302
    answer = admin.post(test_url, headers={"HX-Request": "true"}).content.decode()
    assert "refused the user name or password" in answer
    assert smtp_server.recorder.messages == []
