"""Round-robin assignment: rotation, away agents, caps, and fairness across two processes."""

from __future__ import annotations

import os
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from helpdesk.launcher import database_url
from tests.conftest import Personas
from tests.factories import make_customer, make_ticket, make_user
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
import sys
import django
django.setup()
from django.db import connection
from tickets.workflow.assignment import assign_round_robin
from tickets.models import Ticket
ids = [int(x) for x in sys.argv[1].split(",")]
connection.ensure_connection()
print("ready", flush=True)
sys.stdin.readline()
for pk in ids:
    assign_round_robin(Ticket.objects.get(pk=pk))
"""


def _wait_until_ready(worker: subprocess.Popen[bytes], seconds: float = 120) -> None:
    readable, _, _ = select.select([worker.stdout], [], [], seconds)
    if not readable or worker.stdout.readline() != b"ready\n":  # type: ignore[union-attr]
        worker.kill()
        _, err = worker.communicate(timeout=30)
        pytest.fail(f"a worker died or was not ready within {seconds} s: {err.decode()}")


@pytest.mark.django_db(transaction=True)
def test_round_robin_is_fair_under_two_concurrent_processes(personas: Personas) -> None:
    team, agents = team_with_agents(4)
    personas.mailbox_a.teams.add(team)
    AssignmentPolicy.objects.create(team=team, max_open_per_agent=1000, enabled=False)
    ids = [make_ticket(personas.mailbox_a, personas.customer, team=team).pk for _ in range(40)]
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": database_url(db),
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "PYTHONPATH": str(BASE_DIR),
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, ",".join(map(str, ids[half::2]))],
            env=env,
            cwd=BASE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for half in (0, 1)
    ]
    # A barrier: both processes are set up and connected before either assigns anything.
    for worker in workers:
        _wait_until_ready(worker)
    for worker in workers:
        worker.stdin.write(b"go\n")  # type: ignore[union-attr]
        worker.stdin.flush()  # type: ignore[union-attr]
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
