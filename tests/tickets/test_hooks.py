"""Inside coalesced_changes (history import), ticket_changed runs once per ticket."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.conftest import Personas
from tests.factories import make_ticket
from tickets import services
from tickets.models import Status
from tickets.services import Actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def changed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(services.events, "ticket_changed", calls.append)
    return calls


def test_a_burst_of_changes_in_one_commit_runs_the_hook_once(
    personas: Personas, changed: list[int], django_capture_on_commit_callbacks
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
        services.coalesced_changes(),
    ):
        ticket = make_ticket(personas.mailbox_a, personas.customer)
        services.reply(ticket, personas.agent_a, "on it", status_after=Status.PENDING)
        other = make_ticket(personas.mailbox_a, personas.customer)
    assert changed == [ticket.pk, other.pk]


def test_a_rolled_back_savepoint_does_not_swallow_the_next_change(
    personas: Personas, changed: list[int], django_capture_on_commit_callbacks
) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    changed.clear()
    with (
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
        services.coalesced_changes(),
    ):
        try:
            with transaction.atomic():
                services.update_ticket(ticket, actor=Actor.agent(personas.agent_a), priority="high")
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        services.update_ticket(ticket, actor=Actor.agent(personas.agent_a), priority="low")
    assert changed == [ticket.pk]


def test_outside_coalesced_changes_every_change_runs_the_hook(
    personas: Personas, changed: list[int], django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(personas.mailbox_a, personas.customer)
        services.reply(ticket, personas.agent_a, "on it")
    assert set(changed) == {ticket.pk}
    assert len(changed) >= 2
