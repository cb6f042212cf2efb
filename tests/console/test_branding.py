"""Branding (issue #16, item 1): product name, logo, accent colour, help-center title,
set by admins on /settings/branding/ and shown on the pages and in customer mail."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry, AuditKind
from console.models import Branding
from metrics import surveys
from tests.conftest import Personas
from tests.console.conftest import signed_in
from tests.factories import make_ticket, open_ticket, set_status
from tests.mail.conftest import load
from tickets.mail.intake import ingest_message
from tickets.models import Direction, Message

pytestmark = pytest.mark.django_db

URL = "/settings/branding/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WEBP = b"RIFF\x20\x00\x00\x00WEBPVP8 " + b"\x00" * 32
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def _form(**changes: Any) -> dict[str, Any]:
    data = {"product_name": "Acme Care", "help_center_title": "Acme answers", "accent": ""}
    data.update(changes)
    return data


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


def test_an_admin_brands_the_workspace_help_center_and_logo(personas: Personas) -> None:
    admin = signed_in(personas.admin)
    home = admin.get(reverse("console:home")).content.decode()
    assert f'href="{URL}"' in home
    assert admin.get(URL).status_code == 200

    logo = SimpleUploadedFile("logo.png", PNG, content_type="image/png")
    response = admin.post(URL, _form(accent="#1D4ED8", logo=logo))
    assert response.status_code == 302

    inbox = admin.get(reverse("tickets:inbox")).content.decode()
    assert "Acme Care" in inbox and "<title>" in inbox
    assert 'href="/branding.css?v=1d4ed8"' in inbox
    assert 'src="/branding/logo?v=' in inbox
    # The help center, signed out.
    reader = Client()
    center = reader.get(reverse("kb:home")).content.decode()
    assert "<title>Acme answers · Acme Care</title>" in center
    assert '<span class="brand-sub">Acme answers</span>' in center
    assert 'href="/branding.css?v=1d4ed8"' in center
    css = reader.get("/branding.css?v=1d4ed8")
    assert css.status_code == 200 and css["Content-Type"].startswith("text/css")
    assert "--accent-fill:#1d4ed8" in css.content.decode()
    assert "max-age" in css["Cache-Control"]
    served = reader.get("/branding/logo")
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == PNG

    entry = AuditEntry.objects.get(kind=AuditKind.SETTINGS, action="branding")
    assert entry.after["product_name"] == "Acme Care" and entry.after["accent"] == "#1d4ed8"
    assert entry.actor == personas.admin


def test_a_webp_logo_is_taken_whatever_its_name(personas: Personas) -> None:
    logo = SimpleUploadedFile("logo.bin", WEBP, content_type="application/octet-stream")
    response = signed_in(personas.admin).post(URL, _form(logo=logo))
    assert response.status_code == 302
    assert Branding.objects.get().logo_type == "image/webp"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"accent": "blue"}, "Enter the colour as #rrggbb"),
        ({"accent": "#12345"}, "Enter the colour as #rrggbb"),
        # White on light grey: 4.48:1, just under AA.
        ({"accent": "#777777"}, "contrast of 4.48:1"),
        ({"accent": "#ffff00"}, "Choose a darker colour"),
        ({"product_name": "x" * 61}, "at most 60 characters"),
        (
            {"logo": SimpleUploadedFile("logo.png", SVG, content_type="image/png")},
            "SVG and other files are refused",
        ),
        (
            {"logo": SimpleUploadedFile("logo.svg", SVG, content_type="image/svg+xml")},
            "SVG and other files are refused",
        ),
        (
            {"logo": SimpleUploadedFile("big.png", PNG + b"\x00" * 512 * 1024)},
            "at most 512 KB",
        ),
    ],
)
def test_bad_branding_is_refused_with_a_message(
    personas: Personas, changes: dict[str, Any], message: str
) -> None:
    response = signed_in(personas.admin).post(URL, _form(**changes))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Branding.objects.exists()
    assert not AuditEntry.objects.filter(action="branding").exists()


def test_the_aa_limit_itself_is_accepted(personas: Personas) -> None:
    # #767676 on white is 4.54:1.
    assert signed_in(personas.admin).post(URL, _form(accent="#767676")).status_code == 302
    assert Branding.objects.get().accent == "#767676"


def test_only_admins_may_brand(personas: Personas) -> None:
    for user in (personas.manager, personas.agent_a):
        client = signed_in(user)
        assert client.get(URL).status_code == 403
        assert client.post(URL, _form()).status_code == 403
        home = client.get(reverse("console:home")).content.decode()
        assert f'href="{URL}"' not in home
    assert not Branding.objects.exists()


def test_customer_mail_is_signed_with_the_product_name(
    personas: Personas,
    django_capture_on_commit_callbacks: Any,
    eager_tasks: None,
    mailoutbox: Any,
) -> None:
    assert signed_in(personas.admin).post(URL, _form()).status_code == 302
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(personas.agent_a).post(
            reverse("tickets:reply", args=[ticket.pk]), {"body": "Fixed it."}
        )
    assert response.status_code == 302
    sent = [m for m in mailoutbox if m.to == [personas.customer.email]]
    assert len(sent) == 1
    # The signature, then the quoted conversation (tickets/mail/compose.py).
    assert "\n-- \nAcme Care\n\nOn " in sent[0].body


def test_the_acknowledgement_is_signed_with_the_product_name(personas: Personas) -> None:
    assert signed_in(personas.admin).post(URL, _form()).status_code == 302
    box = personas.mailbox_a
    box.auto_ack_enabled = True
    box.save()
    ticket_id = ingest_message(load("plain.eml")).ticket_id
    ack = Message.objects.get(ticket_id=ticket_id, direction=Direction.OUTBOUND)
    assert ack.body_text.rstrip().endswith("-- \nAcme Care")
    assert "Acme Care</p>" in ack.body_html


def _signed(text: str) -> bool:
    return text.rstrip().endswith("-- \nAcme Care")


def test_the_invitation_mail_is_branded(
    personas: Personas, django_capture_on_commit_callbacks: Any, eager_tasks: None, mailoutbox: Any
) -> None:
    admin = signed_in(personas.admin)
    assert admin.post(URL, _form()).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        invited = admin.post(
            reverse("console:agents"), {"email": "nia@staff.test", "role": "agent"}
        )
    assert invited.status_code == 302
    (sent,) = mailoutbox
    assert sent.subject == "You are invited to Acme Care"
    assert "your team's help desk on Acme Care." in sent.body and _signed(sent.body)
    html = sent.alternatives[0][0]
    assert "help desk on Acme Care." in html and "Acme Care</p>" in html and "Tandem" not in html
    # The page the link opens carries the name too.
    link = re.search(r"https?://\S+/invitation/\S+/", sent.body).group(0)
    page = Client().get(urlsplit(link).path).content.decode()
    assert "<title>Join Acme Care</title>" in page and "Tandem" not in page


def test_the_portal_sign_in_mail_is_branded(
    client: Client,
    personas: Personas,
    django_capture_on_commit_callbacks: Any,
    eager_tasks: None,
    mailoutbox: Any,
) -> None:
    assert signed_in(personas.admin).post(URL, _form()).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:sign_in"), {"method": "link", "email": personas.customer.email})
    (sent,) = mailoutbox
    assert sent.subject == "Your sign-in link for Acme answers"
    assert "sign in to Acme answers and follow your requests" in sent.body and _signed(sent.body)
    assert "Sign in to Acme answers</a>" in sent.alternatives[0][0]


def test_the_survey_mails_are_signed_with_the_product_name(
    personas: Personas, django_capture_on_commit_callbacks: Any, eager_tasks: None, mailoutbox: Any
) -> None:
    assert signed_in(personas.admin).post(URL, _form()).status_code == 302
    start = timezone.now() - timedelta(hours=3)
    ticket = open_ticket(personas.mailbox_a, personas.customer, at=start)
    set_status(ticket, personas.agent_a, "solved", start + timedelta(hours=2))
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert surveys.offer_csat(ticket.pk)
    (csat,) = mailoutbox
    assert csat.subject.startswith("How did we do") and _signed(csat.body)
    assert "Acme Care</p>" in csat.alternatives[0][0]
    mailoutbox.clear()
    assert surveys.send_nps_invitations() == 1
    (nps,) = mailoutbox
    assert nps.subject.startswith("How likely") and _signed(nps.body)


def test_the_sign_in_pages_carry_the_product_name(personas: Personas) -> None:
    assert signed_in(personas.admin).post(URL, _form()).status_code == 302
    login = Client().get(reverse("login")).content.decode()
    assert "<title>Sign in · Acme Care</title>" in login
    assert "Acme Care</div>" in login and "Tandem" not in login
    portal = Client().get(reverse("portal:sign_in")).content.decode()
    assert "· Acme Care</title>" in portal and "Tandem" not in portal
    agent = Client()
    agent.force_login(personas.agent_a)
    setup = agent.get(reverse("accounts:two-factor")).content.decode()
    assert "· Acme Care</title>" in setup and "Tandem" not in setup
