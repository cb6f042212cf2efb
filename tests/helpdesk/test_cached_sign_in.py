"""Signed-in requests read their session and user from Redis (helpdesk/sessions.py,
helpdesk/users.py): the database stays the record, a change to a user takes effect on
the next request, and with Redis down every page still answers, from the database."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import Personas
from tests.factories import make_ticket
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
INBOX = reverse("tickets:inbox")
# Nothing listens there: every cache call fails to connect, as with Redis down.
NO_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def ticket(personas: Personas) -> Ticket:
    return make_ticket(personas.mailbox_a, personas.customer, subject="Printer on fire")


def _signed_in(personas: Personas) -> Client:
    client = Client()
    client.force_login(personas.agent_a)
    return client


def _tables(client: Client, path: str) -> str:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return " ".join(q["sql"].split(" FROM ")[1].split()[0] for q in queries.captured_queries)


def test_session_and_user_come_from_the_cache_after_the_first_request(
    personas: Personas, ticket: Ticket
) -> None:
    client = _signed_in(personas)
    first = _tables(client, INBOX)
    assert '"tickets_user"' in first
    later = _tables(client, INBOX)
    assert '"django_session"' not in later and '"tickets_user"' not in later


def test_pages_answer_from_the_database_while_redis_is_down(
    personas: Personas, ticket: Ticket, settings: Any
) -> None:
    settings.CACHES = {
        name: {**config, "LOCATION": NO_REDIS} for name, config in settings.CACHES.items()
    }
    client = _signed_in(personas)
    for _ in range(2):
        tables = _tables(client, INBOX)
        assert '"django_session"' in tables and '"tickets_user"' in tables
        page = client.get(reverse("tickets:detail", args=[ticket.number]))
        assert page.status_code == 200 and "Printer on fire" in page.content.decode()
        assert "Ana" in page.content.decode()  # the assignee menu, read from the database
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(INBOX).status_code == 302


def test_a_session_signed_in_while_redis_was_down_goes_on_when_it_is_back(
    personas: Personas, ticket: Ticket, settings: Any
) -> None:
    working = settings.CACHES
    settings.CACHES = {name: {**config, "LOCATION": NO_REDIS} for name, config in working.items()}
    client = _signed_in(personas)
    assert client.get(INBOX).status_code == 200
    settings.CACHES = working
    assert client.get(INBOX).status_code == 200
    assert '"django_session"' not in _tables(client, INBOX)


def test_a_deactivated_agent_is_signed_out_on_the_next_request(
    personas: Personas, ticket: Ticket
) -> None:
    client = _signed_in(personas)
    assert client.get(INBOX).status_code == 200
    personas.agent_a.is_active = False
    personas.agent_a.save()
    response = client.get(INBOX)
    assert response.status_code == 302 and django_settings.LOGIN_URL in response["Location"]


def test_a_new_password_ends_the_other_sessions_on_their_next_request(
    personas: Personas, ticket: Ticket
) -> None:
    other_place = _signed_in(personas)
    assert other_place.get(INBOX).status_code == 200
    personas.agent_a.set_password("a new secret 1234")
    personas.agent_a.save()
    assert other_place.get(INBOX).status_code == 302


def test_signing_out_ends_the_session_the_cache_held(personas: Personas, ticket: Ticket) -> None:
    client = _signed_in(personas)
    assert client.get(INBOX).status_code == 200
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert client.post(reverse("logout")).status_code == 302
    replay = Client()
    replay.cookies[django_settings.SESSION_COOKIE_NAME] = cookie
    assert replay.get(INBOX).status_code == 302
