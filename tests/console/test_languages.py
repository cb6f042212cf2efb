"""The settings area, the sign-in page, the error pages and the invitation mail in the
agent's language (docs/i18n.md): the browser's for pages, the inviter's choice (else their
own language) for the invitation."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry, AuditKind
from tests.conftest import Personas
from tickets.models import User

pytestmark = pytest.mark.django_db


def browser(user: User | None = None, language: str = "de-DE,de;q=0.9") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_login(user)
    return client


def test_the_settings_home_and_the_agents_page_speak_german(personas: Personas) -> None:
    admin = browser(personas.admin)
    response = admin.get(reverse("console:home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Einstellungen</h1>" in page
    assert ">Geschäftszeiten</a>" in page and "Wer die Zwei-Faktor-Anmeldung nutzen muss" in page
    assert 'aria-label="Einstellungen"' in page  # the settings navigation
    assert "Business hours" not in page and "Who must use two-factor" not in page

    page = admin.get(reverse("console:agents")).content.decode()
    assert "Jemanden einladen" in page and ">Einladung senden</button>" in page
    assert "<th>Rolle</th>" in page and "<th>Status</th>" in page
    # The invitation's language, the inviter's own preselected.
    assert "Sprache der Einladung" in page and '<option value="de" selected>' in page
    assert "Invite someone" not in page

    english = browser(personas.admin, "en").get(reverse("console:home")).content.decode()
    assert "<h1>Settings</h1>" in english and "Einstellungen" not in english


def test_the_audit_page_shows_kinds_and_actions_in_german(personas: Personas) -> None:
    AuditEntry.objects.create(kind=AuditKind.ROLE, action="invited", actor_label="admin")
    page = browser(personas.admin).get(reverse("audit:log")).content.decode()
    assert "<h1>Audit-Protokoll</h1>" in page
    assert "Rolle" in page and "eingeladen" in page  # the stored key "invited", shown in German
    assert AuditEntry.objects.filter(action="invited").exists()  # the key stays as stored


def test_the_404_page_speaks_german(personas: Personas) -> None:
    response = browser(personas.agent_a).get("/settings/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1>Nicht gefunden</h1>" in page and "Zurück zum Anfang" in page
    assert "Not found" not in page
    signed_out = browser(language="fr").get("/no-such-page/")
    assert signed_out.status_code == 404 and "Introuvable" in signed_out.content.decode()


def test_the_sign_in_page_speaks_german() -> None:
    client = browser()
    response = client.get(reverse("login"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Anmelden</h1>" in page
    assert ">Benutzername</label>" in page and ">Passwort</label>" in page
    assert 'placeholder="sie@firma.de"' in page
    assert "Username" not in page
    # A wrong password: Django's own message, in German too.
    refused = client.post(reverse("login"), {"username": "nobody@x.test", "password": "wrong"})
    assert refused.status_code == 200
    assert "Groß-/Kleinschreibung" in refused.content.decode()


def invite(client: Client, capture, email: str, **extra: str) -> None:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        response = client.post(
            reverse("console:agents"),
            {"email": email, "first_name": "Nia", "role": "agent", **extra},
        )
    assert response.status_code == 302


def test_the_invitation_mail_is_in_the_language_the_inviter_chose(
    personas: Personas, django_capture_on_commit_callbacks, eager_tasks: None
) -> None:
    # An admin with an English browser invites in German.
    admin = browser(personas.admin, "en")
    invite(admin, django_capture_on_commit_callbacks, "nia@staff.test", language="de")
    sent = mail.outbox[-1]
    assert sent.to == ["nia@staff.test"]
    assert sent.subject == "Sie sind zu Tandem eingeladen"
    assert sent.body.startswith("Hallo Nia,")
    assert "Sie wurden eingeladen, dem Helpdesk Ihres Teams auf Tandem beizutreten." in sent.body
    assert "Wählen Sie hier Ihren Namen und ein Passwort" in sent.body
    assert "/invitation/" in sent.body
    assert sent.extra_headers["Content-Language"] == "de"
    html = sent.alternatives[0][0]
    assert "Wählen Sie Ihren Namen und ein Passwort</a> (der Link funktioniert einmal" in html
    # The page the admin goes back to stays in their own language.
    assert (
        "Invitation sent to nia@staff.test."
        in admin.get(reverse("console:agents")).content.decode()
    )

    # No choice: the inviter's own language (a French browser); "Send again" likewise,
    # in the language of whoever sends it again.
    invite(browser(personas.admin, "fr"), django_capture_on_commit_callbacks, "leo@staff.test")
    assert mail.outbox[-1].subject == "Vous êtes invité sur Tandem"
    assert mail.outbox[-1].body.startswith("Bonjour Nia,")
    leo = User.objects.get(email="leo@staff.test")
    with django_capture_on_commit_callbacks(execute=True):
        browser(personas.admin, "es").post(reverse("console:agent-resend", args=[leo.pk]))
    assert mail.outbox[-1].subject == "Le han invitado a Tandem"
    assert mail.outbox[-1].extra_headers["Content-Language"] == "es"
    # An unknown language on the form is refused, not mailed.
    with django_capture_on_commit_callbacks(execute=True):
        refused = admin.post(
            reverse("console:agents"),
            {"email": "x@staff.test", "role": "agent", "language": "xx"},
        )
    assert refused.status_code == 422 and not User.objects.filter(email="x@staff.test").exists()


def test_every_settings_page_renders_in_german(personas: Personas) -> None:
    """Each page of the settings area, opened by an admin with a German browser: it
    renders (no placeholder lost in a translation) and its heading is German."""
    admin = browser(personas.admin)
    pages = [
        (reverse("console:home"), "<h1>Einstellungen</h1>"),
        (reverse("console:agents"), "<h1>Agenten</h1>"),
        (reverse("console:agent-edit", args=[personas.agent_a.pk]), "Zwei-Faktor-Anmeldung</h2>"),
        (reverse("console:teams"), ">Neues Team</a>"),
        (reverse("console:team-new"), "<h1>Neues Team</h1>"),
        (reverse("console:team-edit", args=[personas.team_a.pk]), "<h1>Team „Team A“</h1>"),
        (reverse("console:mailboxes"), "<h1>Postfächer</h1>"),
        (reverse("console:mailbox-new"), ">IMAP-Server</label>"),
        (reverse("console:mailbox-edit", args=[personas.mailbox_a.pk]), "Postfach „Mailbox A“"),
        (reverse("console:calendars"), "<h1>Geschäftszeiten</h1>"),
        (reverse("console:calendar-new"), ">Montag</option>"),
        (reverse("console:fields"), "<h1>Eigene Felder</h1>"),
        (reverse("console:field-new"), "<h1>Neues Feld</h1>"),
        (reverse("console:branding"), "<h1>Erscheinungsbild</h1>"),
        (reverse("console:tokens"), "<h1>API-Tokens</h1>"),
        (reverse("accounts:policy"), "Rollen, die die Zwei-Faktor-Anmeldung nutzen müssen"),
        (reverse("accounts:two-factor"), "<h1>Zwei-Faktor-Anmeldung einschalten</h1>"),
        (reverse("audit:log"), "<h1>Audit-Protokoll</h1>"),
        (reverse("assist:settings"), "<h1>Assistent</h1>"),
        (reverse("webhooks:list"), ">Neuer Webhook</h2>"),
        (reverse("portal_settings:forms"), "<h1>Anfrageformulare</h1>"),
        (reverse("portal_settings:form-new"), "<h1>Neues Anfrageformular</h1>"),
        (reverse("privacy:erase", args=[personas.customer.pk]), "löschen?</h1>"),
    ]
    wrong = {}
    for path, heading in pages:
        response = admin.get(path)
        if response.status_code != 200 or heading not in response.content.decode():
            wrong[path] = response.status_code
    assert not wrong
