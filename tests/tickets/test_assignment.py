"""Round-robin assignment: rotation, away agents, caps, and fairness across two processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import Personas, make_customer, make_ticket, make_user
from tickets import services
from tickets.models import EventKind, Role, Team, Ticket, TicketEvent
from tickets.workflow import assignment
from tickets.workflow.models import AssignmentPolicy

BASE_DIR = Path(settings.BASE_DIR)


def team_with_agents(n: int, name: str = "Tier 1") -> tuple[Team, list[Any]]:
    team = Team.objects.create(name=name)
    agents = [make_user(Role.AGENT, teams=[team]) for _ in range(n)]
    return team, agents


@pytest.mark.django_db
def test_rotation_skips_away_and_full_agents(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    team, (a1, a2, a3) = team_with_agents(3)
    personas.mailbox_a.teams.add(team)
    AssignmentPolicy.objects.create(team=team, max_open_per_agent=2)
    a2.is_away = True
    a2.save(update_fields=["is_away"])
    assigned = []
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            ticket = make_ticket(personas.mailbox_a, make_customer(), team=team)
        ticket.refresh_from_db()
        assigned.append(ticket.assignee)
    # a2 is away; a1 and a3 alternate until both hold 2 open tickets, then nobody is free.
    assert assigned == [a1, a3, a1, a3, None]
    event = Ticket.objects.filter(assignee=a1).first().events.get(kind=EventKind.ASSIGNEE)
    assert event.actor_kind == "system"


@pytest.mark.django_db
def test_solved_tickets_free_capacity_and_manual_assignment_is_unlimited(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    team, (a1,) = team_with_agents(1)
    personas.mailbox_a.teams.add(team)
    AssignmentPolicy.objects.create(team=team, max_open_per_agent=1)
    with django_capture_on_commit_callbacks(execute=True):
        first = make_ticket(personas.mailbox_a, personas.customer, team=team)
        second = make_ticket(personas.mailbox_a, personas.customer, team=team)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.assignee, second.assignee) == (a1, None)
    services.update_ticket(first, status="solved")
    assert assignment.assign_round_robin(second) == a1
    third = make_ticket(personas.mailbox_a, personas.customer)
    services.update_ticket(third, assignee=a1)  # manual: no cap
    third.refresh_from_db()
    assert third.assignee == a1


_WORKER = """
import os, sys, time
import django
django.setup()
from tickets.workflow.assignment import assign_round_robin
from tickets.models import Ticket
start = float(sys.argv[1])
ids = [int(x) for x in sys.argv[2].split(",")]
time.sleep(max(0.0, start - time.time()))
for pk in ids:
    assign_round_robin(Ticket.objects.get(pk=pk))
"""


@pytest.mark.django_db(transaction=True)
def test_round_robin_is_fair_under_two_concurrent_processes(personas: Personas) -> None:
    team, agents = team_with_agents(4)
    personas.mailbox_a.teams.add(team)
    AssignmentPolicy.objects.create(team=team, max_open_per_agent=1000, enabled=False)
    ids = [make_ticket(personas.mailbox_a, personas.customer, team=team).pk for _ in range(40)]
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "PYTHONPATH": str(BASE_DIR),
    }
    start = time.time() + 3
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(start), ",".join(map(str, ids[half::2]))],
            env=env,
            cwd=BASE_DIR,
            stderr=subprocess.PIPE,
        )
        for half in (0, 1)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err.decode()
    counts = {a.pk: Ticket.objects.filter(assignee=a).count() for a in agents}
    assert sorted(counts.values()) == [10, 10, 10, 10]
    # Strict rotation in commit order: the lock made the two processes take turns.
    order = list(
        TicketEvent.objects.filter(kind=EventKind.ASSIGNEE, ticket_id__in=ids)
        .order_by("id")
        .values_list("after", flat=True)
    )
    emails = [a.email for a in sorted(agents, key=lambda a: a.pk)]
    assert order == emails * 10
