"""Small holes the security audit found (issue: hardening), each with the test that
failed before its fix."""

from __future__ import annotations

import base64

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from kb.models import Article
from kb.services import render_markdown
from tests.conftest import Personas, make_ticket
from tests.kb.factories import make_section

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("position", ["p=notadate", "p=2026-13-45", "p=%00", "r=1&p=x"])
def test_a_cursor_whose_position_is_not_a_date_is_a_400_not_a_500(
    personas: Personas, position: str
) -> None:
    make_ticket(personas.mailbox_a, personas.customer)
    client = APIClient()
    client.force_authenticate(personas.agent_a)
    cursor = base64.b64encode(position.encode()).decode()
    response = client.get("/api/v1/tickets/", {"cursor": cursor})
    assert response.status_code == 400, response.content
    assert "cursor" in response.json()["errors"]


# Python-Markdown took 70 s for 8,000 "["; this takes about 1 s (the limit times the
# test alone, not the database set-up before it).
@pytest.mark.timeout(120, func_only=True)
def test_a_hostile_article_body_renders_in_linear_time() -> None:
    for hostile in ("[" * 100_000, "![" * 50_000, "*a" * 50_000, "<" * 100_000):
        html, _ = render_markdown(hostile)
        assert html


def test_an_article_body_over_the_limit_is_refused_with_a_clear_error(
    personas: Personas,
) -> None:
    client = Client()
    client.force_login(personas.agent_a)
    response = client.post(
        reverse("kb:create"),
        {
            "title": "Long",
            "section": make_section().pk,
            "body_markdown": "x" * 100_001,
            "status": "draft",
            "visibility": "public",
        },
    )
    assert response.status_code == 422 or response.status_code == 200
    assert "at most 100000 characters" in response.content.decode().replace(",", "")
    assert not Article.objects.exists()
