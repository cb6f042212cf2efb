"""The customer's language (profile > mail's Content-Language > browser), and the pages
and mails that speak it: the portal, the help center's switcher, the surveys, the
acknowledgement and the sign-in mail (docs/i18n.md)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from metrics import surveys
from metrics.tasks import refresh_ticket_figures_task
from tests.conftest import Personas
from tests.factories import assign, make_customer, make_ticket, open_ticket, reply, set_status
from tests.mail.conftest import load
from tickets import services
from tickets.languages import customer_language, supported_language
from tickets.mail.intake import ingest_many, ingest_message
from tickets.models import Customer, Direction, Ticket

pytestmark = pytest.mark.django_db

GERMAN_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9,en;q=0.5"}


def test_supported_language_reads_tags_and_header_lists() -> None:
    assert supported_language("de-AT") == "de"
    assert supported_language("es_ES") == "es"
    assert supported_language("it, fr-CA;q=0.8") == "fr"
    assert supported_language("ja") == ""
    assert supported_language("") == ""


def test_language_order_profile_then_mail_then_browser(rf) -> None:  # type: ignore[no-untyped-def]
    customer = make_customer()
    browser = rf.get("/", **{"HTTP_ACCEPT_LANGUAGE": "es"})
    assert customer_language(customer) == "en"
    assert customer_language(customer, browser) == "es"
    customer.mail_language = "fr"
    assert customer_language(customer, browser) == "fr"
    customer.language = "de"
    assert customer_language(customer, browser) == "de"
    assert customer_language(None, browser) == "es"


def test_content_language_is_kept_at_intake_by_every_mail_path(personas: Personas) -> None:
    german = load("plain.eml").replace(b"MIME-Version", b"Content-Language: de-DE\nMIME-Version")
    ticket = Ticket.objects.get(pk=ingest_message(german).ticket_id)
    assert ticket.customer.mail_language == "de"
    # A reply in French moves it; the profile's choice is never touched by mail.
    services.set_customer_language(ticket.customer, "es")
    french = (
        load("plain.eml")
        .replace(b"plain-1@", b"plain-2@")
        .replace(
            b"MIME-Version",
            b"In-Reply-To: <plain-1@customer.test>\nContent-Language: fr\nMIME-Version",
        )
    )
    assert ingest_message(french).ticket_id == ticket.pk
    customer = Customer.objects.get(pk=ticket.customer_id)
    assert (customer.language, customer.mail_language) == ("es", "fr")
    # The batch path (upsert_customers) keeps it for new customers too.
    batch = [
        load("plain.eml")
        .replace(b"li@customer.test", f"new{n}@elsewhere.test".encode())
        .replace(b"plain-1@", f"batch-{n}@".encode())
        .replace(b"MIME-Version", b"Content-Language: es-MX\nMIME-Version")
        for n in range(2)
    ]
    ingest_many(batch)
    assert set(
        Customer.objects.filter(email__startswith="new").values_list("mail_language", flat=True)
    ) == {"es"}


def test_acknowledgement_in_the_language_of_the_mail(personas: Personas) -> None:
    personas.mailbox_a.auto_ack_enabled = True
    personas.mailbox_a.save()
    german = load("plain.eml").replace(b"MIME-Version", b"Content-Language: de\nMIME-Version")
    ticket = Ticket.objects.get(pk=ingest_message(german).ticket_id)
    ack = ticket.messages.get(direction=Direction.OUTBOUND)
    assert ack.subject.startswith("Wir haben Ihre Anfrage erhalten: Printer on floor 3")
    assert "Hallo Li," in ack.body_text
    assert "Wir antworten so schnell wie möglich" in ack.body_html


def test_portal_in_german_from_the_profile(personas: Personas) -> None:
    services.set_customer_language(personas.customer, "de")
    ticket = make_ticket(personas.mailbox_a, personas.customer, subject="Drucker klemmt")
    client = Client()
    client.force_login(personas.customer.user)
    # The profile wins over an English browser.
    page = client.get(reverse("portal:requests"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="de"' in page
    assert "Meine Anfragen" in page and "Anfrage senden" in page
    assert "1 Nachricht" in page and "Offen" in page
    detail = client.get(reverse("portal:request", args=[ticket.pk])).content.decode()
    assert "Ist Ihr Problem gelöst?" in detail and "Als gelöst markieren" in detail
    # Dates follow the German formats (DATE_FORMAT "j. F Y").
    assert f"{ticket.created_at:%-d}. {_GERMAN_MONTHS[ticket.created_at.month]}" in detail
    # Form errors and messages too.
    response = client.post(reverse("portal:new_request"), {"subject": "x", "description": ""})
    assert (
        "Bitte geben Sie einen Betreff mit mindestens 3 Zeichen ein." in response.content.decode()
    )


_GERMAN_MONTHS = {
    1: "Januar", 2: "Februar", 3: "März", 4: "April", 5: "Mai", 6: "Juni", 7: "Juli",
    8: "August", 9: "September", 10: "Oktober", 11: "November", 12: "Dezember",
}  # fmt: skip


def test_sign_in_page_follows_the_browser_and_the_switcher_sets_the_profile(
    personas: Personas,
) -> None:
    anonymous = Client()
    page = anonymous.get(reverse("portal:sign_in"), **GERMAN_BROWSER).content.decode()
    assert "Anmeldelink per E-Mail senden" in page
    assert "Email me a sign-in link" in anonymous.get(reverse("portal:sign_in")).content.decode()
    # The help center's switcher: Django's set_language cookie, and a customer's profile.
    client = Client()
    client.force_login(personas.customer.user)
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/help/"})
    assert response.status_code == 302 and response["Location"] == "/help/"
    assert Customer.objects.get(pk=personas.customer.pk).language == "fr"
    home = client.get(reverse("kb:home"), **GERMAN_BROWSER).content.decode()
    assert "Comment pouvons-nous vous aider ?" in home
    assert (
        Client()
        .get(reverse("kb:home"), **GERMAN_BROWSER)
        .content.decode()
        .count("Wie können wir helfen?")
        == 1
    )
    # A language we do not speak changes nothing.
    client.post(reverse("set_language"), {"language": "xx", "next": "/help/"})
    assert Customer.objects.get(pk=personas.customer.pk).language == "fr"


def test_sign_in_mail_in_the_customers_language(
    personas: Personas, mailoutbox, eager_celery, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    Customer.objects.filter(pk=personas.customer.pk).update(mail_language="es")
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(reverse("portal:sign_in"), {"method": "link", "email": "li@customer.test"})
    (sent,) = mailoutbox
    assert sent.subject.startswith("Su enlace de inicio de sesión")
    assert "Hola, Li:" in sent.body


def test_survey_email_and_page_in_german(personas: Personas) -> None:
    services.set_customer_language(personas.customer, "de")
    start = timezone.now() - timedelta(hours=3)
    ticket = open_ticket(personas.mailbox_a, personas.customer, at=start)
    assign(ticket, personas.agent_a, start)
    reply(ticket, personas.agent_a, start + timedelta(hours=1))
    set_status(ticket, personas.agent_a, "solved", start + timedelta(hours=2))
    refresh_ticket_figures_task(ticket.pk)
    survey = ticket.messages.filter(automatic=True).get()
    assert survey.subject.startswith("Wie zufrieden waren Sie mit „")
    assert "Hallo Li," in survey.body_text
    assert "1 (Sehr unzufrieden): " in survey.body_text
    assert "wurde gelöst" in survey.body_html and '<html lang="de">' in survey.body_html
    assert re.findall(r"/survey/\S+/\?score=(\d)", survey.body_text) == ["1", "2", "3", "4", "5"]
    # The survey page, opened from any browser, speaks the customer's language.
    token = surveys.make_token("csat", ticket.customer_id, ticket_id=ticket.pk)
    page = Client().get(f"/survey/{token}/?score=4", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Wie zufrieden waren Sie mit der Hilfe, die Sie erhalten haben?" in page
    assert "Antwort senden" in page
    done = Client().post(f"/survey/{token}/", {"csat": "4"}).content.decode()
    assert "Zufriedenheit: <strong>4 von 5</strong>" in done
