"""Error pages in production (DEBUG off): styled, with a way back, nothing leaked."""

from __future__ import annotations

from typing import Any

import pytest
from django.template import loader
from django.test import Client

from tests.conftest import Personas, make_ticket


@pytest.fixture
def production(settings: Any) -> None:
    settings.DEBUG = False


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.usefixtures("production")
def test_another_teams_ticket_is_the_plain_404_page(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_b, personas.other_customer, subject="Secret plans")
    response = signed_in(personas.agent_a).get(f"/tickets/{ticket.number}/")
    assert response.status_code == 404
    assert [t.name for t in response.templates][:2] == ["404.html", "error.html"]
    html = response.content.decode()
    assert "Not found" in html and 'href="/"' in html
    assert "Secret plans" not in html and "No such ticket" not in html


@pytest.mark.django_db
@pytest.mark.usefixtures("production")
def test_403_says_why(personas: Personas) -> None:
    response = signed_in(personas.agent_a).get("/dashboards/support/")
    assert response.status_code == 403
    assert "Dashboards are for managers and admins." in response.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("production")
def test_400_page(personas: Personas) -> None:
    response = signed_in(personas.agent_a).get("/search/", {"q": "\x00"})
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()


def test_500_page_renders_without_a_request_or_context() -> None:
    """Django renders 500.html with no context at all: nothing in it may need one."""
    html = loader.get_template("500.html").render()
    assert "Something went wrong" in html
    assert 'href="/"' in html
