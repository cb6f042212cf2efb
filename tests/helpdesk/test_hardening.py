"""Small holes the security audit found (issue: hardening), each with the test that
failed before its fix."""

from __future__ import annotations

import base64

import pytest
from rest_framework.test import APIClient

from tests.conftest import Personas, make_ticket

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
