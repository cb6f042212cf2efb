"""A snoozed ticket leaves the open views until it wakes; "Snoozed" lists it (issue 17, item 4)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import Personas
from tests.factories import make_ticket
from tests.tickets.test_views_inbox import INBOX, agent_a, numbers
from tickets import services
from tickets.models import Ticket
from tickets.services import Actor

pytestmark = pytest.mark.django_db
__all__ = ["agent_a"]  # the fixture, shared with the inbox tests


def sidebar(client: Client) -> dict[str, int]:
    cache.clear()  # the sidebar is cached for a few seconds per agent
    body = client.get(reverse("tickets:counts"), headers={"HX-Request": "true"}).content.decode()
    pairs = re.findall(
        r'data-count-key="([\w-]+)">\s*<span>[^<]*</span><span class="count" '
        r'data-count="(\d+)"',
        body,
    )
    return {key: int(n) for key, n in pairs}


def snooze(ticket: Ticket, personas: Personas, hours: float = 2) -> None:
    until = timezone.now() + timedelta(hours=hours)
    services.snooze_ticket(ticket, until, actor=Actor.agent(personas.agent_a))


def test_snoozed_ticket_leaves_open_views_and_shows_in_snoozed(
    agent_a: Client, personas: Personas
) -> None:
    awake_mine = make_ticket(personas.mailbox_a, personas.customer, assignee=personas.agent_a)
    awake_free = make_ticket(personas.mailbox_a, personas.customer)
    asleep_mine = make_ticket(personas.mailbox_a, personas.customer, assignee=personas.agent_a)
    asleep_free = make_ticket(personas.mailbox_a, personas.customer)
    snooze(asleep_mine, personas)
    snooze(asleep_free, personas)
    asleep = {asleep_mine.number, asleep_free.number}
    mailbox = personas.mailbox_a.pk

    assert set(numbers(agent_a.get(INBOX))) == {awake_mine.number, awake_free.number}
    assert numbers(agent_a.get(INBOX, {"view": "mine"})) == [awake_mine.number]
    assert numbers(agent_a.get(INBOX, {"view": "unassigned"})) == [awake_free.number]
    assert not asleep & set(numbers(agent_a.get(INBOX, {"mailbox": mailbox})))
    assert not asleep & set(numbers(agent_a.get(INBOX, {"view": "open", "status": "pending"})))
    # The pending view still has them: they are pending, only waiting.
    assert set(numbers(agent_a.get(INBOX, {"view": "pending"}))) == asleep

    page = agent_a.get(INBOX, {"view": "snoozed"})
    assert set(numbers(page)) == asleep
    body = page.content.decode()
    assert "<h1>Snoozed" in body and body.count('class="snoozed small">Wakes <time') == 2
    until = Ticket.objects.get(pk=asleep_mine.pk).snoozed_until
    assert f'datetime="{timezone.localtime(until).isoformat()}"' in body

    counts = sidebar(agent_a)
    assert (counts["open"], counts["mine"], counts["unassigned"], counts["snoozed"]) == (2, 1, 1, 2)
    assert counts["pending"] == 2
    mailboxes = agent_a.get(reverse("tickets:counts"), headers={"HX-Request": "true"})
    assert re.search(r"Mailbox A</span><span class=\"count\">2<", mailboxes.content.decode())


def test_a_ticket_due_to_wake_is_back_in_the_open_views(
    agent_a: Client, personas: Personas
) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer, assignee=personas.agent_a)
    snooze(ticket, personas)
    assert numbers(agent_a.get(INBOX, {"view": "mine"})) == []
    # Its wake time has come (the beat that reopens it has not run yet): it is back.
    Ticket.objects.filter(pk=ticket.pk).update(snoozed_until=timezone.now() - timedelta(minutes=1))
    assert numbers(agent_a.get(INBOX, {"view": "mine"})) == [ticket.number]
    assert numbers(agent_a.get(INBOX, {"view": "snoozed"})) == []
    assert sidebar(agent_a)["snoozed"] == 0


def test_open_and_snoozed_views_stay_one_query(agent_a: Client, personas: Personas) -> None:
    for i in range(6):
        ticket = make_ticket(personas.mailbox_a, personas.customer)
        if i % 2:
            snooze(ticket, personas)
    for view in ("open", "mine", "unassigned", "snoozed"):
        agent_a.get(INBOX, {"view": view})  # a process's first page fills its caches
        with CaptureQueriesContext(connection) as queries:
            response = agent_a.get(INBOX, {"view": view})
        assert response.status_code == 200
        assert len(queries) == 1, view
