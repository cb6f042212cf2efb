"""The dashboards' channel filter: figures of the tickets that came by phone, chat, walk-in."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import Personas
from tests.metrics.test_dashboards import _history, manager
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
__all__ = ["manager"]  # the fixture, shared with the dashboard tests


def shown(client: Client, url: str, tickets: list[Ticket]) -> set[int]:
    response = client.get(url)
    assert response.status_code == 200
    return {t.pk for t in tickets if f"#{t.pk} " in response.content.decode()}


def test_dashboards_filter_by_channel(manager: Client, personas: Personas) -> None:
    tickets = _history(personas, 6, channels=["phone", "walk_in"])
    phone = {tickets[0].pk}
    walk_in = {tickets[1].pk}
    page = manager.get("/dashboards/support/?channel=phone").content.decode()
    assert '<option value="phone" selected>Phone</option>' in page
    assert '<option value="walk_in">Walk-in</option>' in page
    created = "/dashboards/tickets/?figure=tickets_created"
    assert shown(manager, f"{created}&channel=phone", tickets) == phone
    assert shown(manager, f"{created}&channel=walk_in", tickets) == walk_in
    assert shown(manager, f"{created}&channel=chat", tickets) == set()
    assert len(shown(manager, created, tickets)) == 6
    # The backlog (open tickets, 0 and 3) of phone tickets is ticket 0 alone.
    assert shown(manager, "/dashboards/tickets/?figure=backlog&channel=phone", tickets) == phone
    drill = manager.get(f"{created}&channel=phone").content.decode()
    assert "Channel: Phone" in drill
