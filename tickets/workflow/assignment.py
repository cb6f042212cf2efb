"""Round-robin assignment within a team.

Fair across processes: the team's AssignmentPolicy row is locked FOR UPDATE while the next
agent is chosen and the ticket assigned, so two web or worker processes assigning at the
same moment take turns on one rotation instead of both picking the same agent. Agents
marked away are skipped, and so are agents already holding `max_open_per_agent` open
tickets; manual assignment (tickets.services.update_ticket) is never limited.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Q

from tickets.models import OPEN_STATUSES, Status, Ticket, User
from tickets.services import SYSTEM, Actor, update_ticket
from tickets.workflow.models import AssignmentPolicy


def next_agent(policy: AssignmentPolicy, mailbox_id: int) -> User | None:
    """The agent after the last one assigned, skipping the away, the full, and those who
    may not hold a ticket of this mailbox (a team that is not one of the mailbox's)."""
    members = list(
        User.objects.agents()
        .filter(teams=policy.team_id, is_away=False)
        # A subquery, not a join: the join to the mailbox's teams would multiply the count.
        .filter(pk__in=User.objects.assignable(mailbox_id).values("pk"))
        .annotate(
            open_count=Count(
                "assigned_tickets", filter=Q(assigned_tickets__status__in=OPEN_STATUSES)
            )
        )
        .order_by("id")
    )
    available = [m for m in members if m.open_count < policy.max_open_per_agent]  # type: ignore[attr-defined]
    if not available:
        return None
    last = policy.last_assignee_id or 0
    after = [m for m in available if m.pk > last]
    return after[0] if after else available[0]


@transaction.atomic
def assign_round_robin(ticket: Ticket, *, actor: Actor = SYSTEM) -> User | None:
    """Assign an unassigned open ticket to its team's next agent; None if nobody can take it."""
    if ticket.team_id is None:
        return None
    policy, _ = AssignmentPolicy.objects.get_or_create(team_id=ticket.team_id)
    policy = AssignmentPolicy.objects.select_for_update().get(pk=policy.pk)
    current = (
        Ticket.objects.filter(pk=ticket.pk).values("assignee_id", "status", "mailbox_id").first()
    )
    if current is None or current["assignee_id"] is not None:
        return None
    if current["status"] not in (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD):
        return None
    agent = next_agent(policy, current["mailbox_id"])
    if agent is None:
        return None
    policy.last_assignee = agent
    policy.save(update_fields=["last_assignee"])
    update_ticket(ticket, actor=actor, assignee=agent)
    return agent


def auto_assign(ticket: Ticket) -> User | None:
    """After any change: an open, unassigned ticket in a round-robin team gets an agent."""
    if ticket.team_id is None or ticket.assignee_id is not None or not ticket.is_open:
        return None
    if not AssignmentPolicy.objects.filter(team_id=ticket.team_id, enabled=True).exists():
        return None
    return assign_round_robin(ticket)
