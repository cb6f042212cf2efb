"""Sign-in, sign-out and the Redis-backed limit on failed sign-ins."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from helpdesk import signin
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


def test_repeated_failures_are_limited_with_429(
    client: Client, personas: Personas, monkeypatch
) -> None:
    monkeypatch.setattr(signin, "MAX_FAILURES_PER_ACCOUNT", 3)
    for _ in range(3):
        client.post(LOGIN, {"username": personas.agent_a.username, "password": "wrong"})
    # Even the right password is refused while the account is limited.
    response = client.post(
        LOGIN, {"username": personas.agent_a.username, "password": "pass-word-123"}
    )
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked by this one's failures.
    response = client.post(
        LOGIN, {"username": personas.agent_b.username, "password": "pass-word-123"}
    )
    assert response.status_code == 302


def test_failures_per_ip_are_limited(client: Client, personas: Personas, monkeypatch) -> None:
    monkeypatch.setattr(signin, "MAX_FAILURES_PER_IP", 2)
    client.post(LOGIN, {"username": "a@x.test", "password": "wrong"})
    client.post(LOGIN, {"username": "b@x.test", "password": "wrong"})
    response = client.post(LOGIN, {"username": personas.agent_a.username, "password": "x"})
    assert response.status_code == 429


def test_customer_signing_in_is_sent_to_the_portal(client: Client, personas: Personas) -> None:
    client.post(LOGIN, {"username": personas.customer.user.username, "password": "pass-word-123"})
    response = client.get(reverse("tickets:inbox"))
    assert response.status_code == 302 and response["Location"] == "/portal/"


@pytest.mark.parametrize("data", [{}, {"username": "x" * 5000, "password": "y"}, {"password": "y"}])
def test_odd_posts_never_fail(client: Client, data) -> None:
    assert client.post(LOGIN, data).status_code == 200
