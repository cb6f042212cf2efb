"""An agent's own language for the agent app (issue 19): chosen on /me/language/, kept on
the user, activated for each of their pages over the browser's; the inbox stays one query."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import Personas
from tests.factories import make_ticket
from tickets.models import User

INBOX = reverse("tickets:inbox")
LANGUAGE = reverse("tickets:language-settings")


def test_an_agent_picks_a_language_and_every_page_follows(
    client: Client, personas: Personas
) -> None:
    make_ticket(personas.mailbox_a, personas.customer, subject="Printer")
    client.force_login(personas.agent_a)
    english = client.get(INBOX).content.decode()
    assert '<html lang="en"' in english
    assert "Save view" in english and "Select #" in english

    response = client.post(LANGUAGE, {"language": "de"})
    assert response.status_code == 302
    assert User.objects.get(pk=personas.agent_a.pk).language == "de"
    page = client.get(INBOX, headers={"accept-language": "fr"})
    body = page.content.decode()
    assert page["Content-Language"] == "de"
    assert '<html lang="de"' in body and "Ansicht speichern" in body and "auswählen" in body
    assert "gerade eben" in body  # the rows' time, translated once per language
    assert "Nicht zugewiesen" in client.get(reverse("tickets:counts")).content.decode()

    # Back to the browser's language.
    client.post(LANGUAGE, {"language": ""})
    french = client.get(INBOX, headers={"accept-language": "fr"}).content.decode()
    assert '<html lang="fr"' in french and "Enregistrer la vue" in french


def test_a_language_not_offered_is_refused(client: Client, personas: Personas) -> None:
    client.force_login(personas.agent_a)
    response = client.post(LANGUAGE, {"language": "xx"}, follow=True)
    assert response.status_code == 200
    assert User.objects.get(pk=personas.agent_a.pk).language == ""
    assert "Choose one of the languages listed." in response.content.decode()


def test_the_inbox_in_german_reads_one_query(client: Client, personas: Personas) -> None:
    make_ticket(personas.mailbox_a, personas.customer)
    User.objects.filter(pk=personas.agent_a.pk).update(language="es")
    client.force_login(User.objects.get(pk=personas.agent_a.pk))
    client.get(INBOX)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(INBOX).content.decode()
    assert "Guardar vista" in body
    assert len(queries) == 1


def test_customers_pages_do_not_take_an_agents_setting(client: Client, personas: Personas) -> None:
    # The page is the agents' own: a customer is refused it.
    client.force_login(personas.customer.user)
    assert client.get(LANGUAGE).status_code in (302, 403, 404)
