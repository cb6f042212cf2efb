"""Error pages in production (DEBUG off): styled, with a way back, nothing leaked."""

from __future__ import annotations

from typing import Any

import pytest
from django.template import loader
from django.test import Client

from tests.conftest import Personas
from tests.factories import make_ticket


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


@pytest.mark.django_db
@pytest.mark.usefixtures("production")
def test_a_form_body_too_large_to_read_is_a_413(personas: Personas, settings: Any) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = signed_in(personas.agent_a)
    path = f"/tickets/{ticket.number}/update/"
    response = client.post(path, {"tags": "x" * 2000})
    assert response.status_code == 413
    assert "Too large to send" in response.content.decode()
    response = client.post(path, {"tags": "x" * 2000}, headers={"HX-Request": "true"})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")
    ticket.refresh_from_db()
    assert ticket.tags == []
    # Other bad requests stay a 400.
    assert client.get("/search/", {"q": "\x00"}).status_code == 400


def test_every_page_names_the_icon_and_favicon_ico_finds_it(client: Client, db: None) -> None:
    # (db: the pages read the branding row, console.branding.)
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("tandem/favicon.svg")
    assert 'rel="icon"' in client.get("/login/").content.decode()
