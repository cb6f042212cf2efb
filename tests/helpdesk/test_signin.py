"""Sign-in and sign-out (failed sign-ins: tests/helpdesk/test_sign_in_audit.py)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import Personas

pytestmark = pytest.mark.django_db
LOGIN = reverse("login")


def test_sign_in_lands_on_the_inbox_and_sign_out(client: Client, personas: Personas) -> None:
    page = client.get(LOGIN).content.decode()
    assert "Username" in page and "Password" in page and "Sign in" in page
    response = client.post(
        LOGIN, {"username": personas.agent_a.username, "password": "pass-word-123"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("tickets:inbox")
    assert "Sign out" in client.get(reverse("tickets:inbox")).content.decode()
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("tickets:inbox")).status_code == 302


def test_wrong_password_shows_a_clear_error(client: Client, personas: Personas) -> None:
    response = client.post(LOGIN, {"username": personas.agent_a.username, "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct" in response.content.decode()


def test_customer_signing_in_is_sent_to_the_portal(client: Client, personas: Personas) -> None:
    client.post(LOGIN, {"username": personas.customer.user.username, "password": "pass-word-123"})
    response = client.get(reverse("tickets:inbox"))
    assert response.status_code == 302 and response["Location"] == "/portal/"


@pytest.mark.parametrize("data", [{}, {"username": "x" * 5000, "password": "y"}, {"password": "y"}])
def test_odd_posts_never_fail(client: Client, data) -> None:
    assert client.post(LOGIN, data).status_code == 200
