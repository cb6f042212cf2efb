"""Branding (issue #16, item 1): product name, logo, accent colour, help-center title,
set by admins on /settings/branding/ and shown on the pages and in customer mail."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry, AuditKind
from console.models import Branding
from tests.conftest import Personas
from tests.console.conftest import signed_in
from tests.factories import make_ticket
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
