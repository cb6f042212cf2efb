"""Admin pages for mail: mailbox settings (write-only passwords, connection test), quarantine."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import Personas
from tests.mail.conftest import load
from tickets.mail.intake import ingest_message
from tickets.mail.models import QuarantinedEmail, QuarantineState
from tickets.models import Message

pytestmark = pytest.mark.django_db


def test_mailbox_password_is_never_shown_and_blank_keeps_it(
    personas: Personas, client: Client
) -> None:
    box = personas.mailbox_a
    box.imap_password, box.smtp_password = "s3cret-imap", "s3cret-smtp"
    box.save()
    client.force_login(personas.admin)
    url = f"/admin/tickets/mailbox/{box.pk}/change/"
    page = client.get(url).content.decode()
    assert "s3cret-imap" not in page and "s3cret-smtp" not in page and "/mail/inbound/" in page
    assert "s3cret" not in client.get("/admin/tickets/mailbox/").content.decode()
    form = {
        "name": box.name,
        "address": box.address,
        "is_active": "on",
        "is_default": "on",
        "imap_host": "imap.example.test",
        "imap_port": 993,
        "imap_security": "ssl",
        "imap_user": "support",
        "imap_password": "",
        "imap_folder": "INBOX",
        "poll_interval_seconds": 60,
        "smtp_port": 587,
        "smtp_security": "starttls",
        "auto_ack_template": "Hello {{ customer.first_name }}",
    }
    assert client.post(url, form).status_code == 302
    box.refresh_from_db()
    assert box.imap_password == "s3cret-imap" and box.imap_host == "imap.example.test"
    assert box.smtp_password == "s3cret-smtp"
    # A new password replaces the old one.
    assert client.post(url, {**form, "smtp_password": "n3w"}).status_code == 302
    box.refresh_from_db()
    assert (box.imap_password, box.smtp_password) == ("s3cret-imap", "n3w")
    bad = client.post(url, {**form, "auto_ack_template": "{% if %}"})
    assert bad.status_code == 200 and "This template has an error" in bad.content.decode()


def test_mailbox_page_saves_and_tests_the_connection(personas: Personas, client: Client) -> None:
    box = personas.mailbox_a
    client.force_login(personas.admin)
    url = f"/admin/tickets/mailbox/{box.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="_test_connection"' in page
    assert (
        "IMAP server" in page and "SMTP user name" in page and "{{ customer.first_name }}" in page
    )
    form = {
        "name": box.name,
        "address": box.address,
        "is_active": "on",
        "imap_host": "127.0.0.1",
        "imap_port": 1,
        "imap_security": "none",
        "imap_user": "support",
        "imap_folder": "INBOX",
        "poll_interval_seconds": 60,
        "smtp_port": 587,
        "smtp_security": "starttls",
        "_test_connection": "Save and test the connection",
    }
    response = client.post(url, form, follow=True)
    assert response.redirect_chain == [(url, 302)]
    text = response.content.decode()
    assert "was saved" in text
    assert "IMAP: could not connect to 127.0.0.1:1" in text and "SMTP: no server is set" in text
    box.refresh_from_db()
    assert (box.imap_host, box.imap_port) == ("127.0.0.1", 1)
    # A form error is shown, not tested.
    bad = client.post(url, {**form, "imap_user": ""})
    assert bad.status_code == 200 and "Enter the IMAP user name" in bad.content.decode()


def test_connection_test_says_what_failed(personas: Personas, client: Client) -> None:
    box = personas.mailbox_a
    box.imap_host, box.imap_port, box.imap_security = "127.0.0.1", 1, "none"
    box.save()
    client.force_login(personas.admin)
    response = client.post(
        "/admin/tickets/mailbox/",
        {"action": "test_connection", "_selected_action": [box.pk]},
        follow=True,
    )
    text = response.content.decode()
    assert "IMAP: could not connect to 127.0.0.1:1" in text
    assert "SMTP: no server is set" in text


def test_quarantine_list_download_and_retry(personas: Personas, client: Client) -> None:
    ingest_message(load("no_headers.eml"))
    entry = QuarantinedEmail.objects.get()
    client.force_login(personas.admin)
    listing = client.get("/mail/quarantine/", follow=True).content.decode()
    assert "Cannot be parsed" in listing
    download_url = f"/admin/mail/quarantinedemail/{entry.pk}/download/"
    page = client.get(f"/admin/mail/quarantinedemail/{entry.pk}/change/").content.decode()
    assert download_url in page and "/media/" not in page
    download = client.get(download_url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == load("no_headers.eml")
    retried = client.post(
        "/admin/mail/quarantinedemail/",
        {"action": "retry", "_selected_action": [entry.pk]},
        follow=True,
    ).content.decode()
    assert "Still quarantined: (no subject) from no sender: Cannot be parsed" in retried
    entry.refresh_from_db()
    assert entry.attempts == 2 and entry.state == QuarantineState.HELD
    # Agents are not admins: no quarantine for them.
    client.force_login(personas.agent_a)
    assert client.get(download_url).status_code == 302


def test_quarantine_is_linked_only_for_those_the_admin_lets_in(
    personas: Personas, client: Client
) -> None:
    link = 'href="/mail/quarantine/"'
    client.force_login(personas.admin)
    assert link in client.get("/").content.decode()
    # An admin by role without access to the Django admin would land on its sign-in page.
    personas.admin.is_staff = personas.admin.is_superuser = False
    personas.admin.save(update_fields=["is_staff", "is_superuser"])
    assert link not in client.get("/").content.decode()
    assert client.get("/mail/quarantine/").status_code == 302
    client.force_login(personas.agent_a)
    assert link not in client.get("/").content.decode()


def test_a_quarantined_message_is_retried_from_its_own_page(
    personas: Personas, client: Client
) -> None:
    from tickets.mail.ingest import quarantine

    held = quarantine(load("plain.eml"), None, "Rate limit: too many", source="imap")
    entry = QuarantinedEmail.objects.get(pk=held.quarantine_id)
    client.force_login(personas.admin)
    page_url = f"/admin/mail/quarantinedemail/{entry.pk}/change/"
    retry_url = f"/admin/mail/quarantinedemail/{entry.pk}/retry/"
    assert f'formaction="{retry_url}"' in client.get(page_url).content.decode()
    assert client.get(retry_url).status_code == 405
    response = client.post(retry_url, follow=True)
    assert response.redirect_chain == [(page_url, 302)]
    assert "1 message(s) ingested" in response.content.decode()
    entry.refresh_from_db()
    assert entry.state == QuarantineState.RELEASED and entry.ticket_id
    assert entry.ticket.messages.get().message_id == "plain-1@customer.test"
    # Released: no button, and a second retry changes nothing.
    assert retry_url not in client.get(page_url).content.decode()
    again = client.post(retry_url, follow=True).content.decode()
    assert "no longer held" in again
    assert Message.objects.count() == 1
    client.force_login(personas.agent_a)
    assert client.post(retry_url).status_code == 302  # to the admin's sign-in
