"""A ticket's figures from its event history: the definitions of specs/metrics.md in code.

Pure functions over plain rows, shared by the incremental worker and the full
recompute, so the two cannot disagree. The rows come from one SQL query
(metrics.services.EVENT_COLUMNS) that reads only the events that matter: created,
status, assignee and message.

Choices where the spec is silent (also in docs/metrics.md):
- Events at the same instant belong together: the assignee "at the final solve" is the
  assignee after every event at that instant (an agent who assigns the ticket to
  themselves and solves it in one step gets the credit), and a reply sent with "reply
  and solve" counts as a reply before the solve.
- A change from closed back to an open status (only history import can make one) counts
  as a reopen, like solved -> open: the solve it undoes was a solve.
- Agent replies of a ticket without a final solve: all public agent replies so far.
- A public agent reply is an outbound message that is not automatic; its agent is the
  message's author (by email), else the agent who recorded it.
- An escalation is a change of team from a team of one tier to a team of a higher tier,
  by the teams' tiers now (a ticket's first team is routing, not an escalation). A
  change of a team's tier applies to history when figures are next recomputed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tickets.business_hours import CompiledCalendar

DONE = frozenset({"solved", "closed"})
OPEN = frozenset({"new", "open", "pending", "on_hold"})


@dataclass(frozen=True, slots=True)
class EventRow:
    """The fields of a TicketEvent that figures depend on, as metrics.services reads them."""

    at: datetime
    kind: str
    # created: the initial status; status: the new status; assignee: the new assignee's
    # email or None; message: the direction; team: the new team's name or None.
    value: str | None
    automatic: bool = False
    author: str | None = None
    actor_id: int | None = None
    # team: the team's name before the change.
    before: str | None = None


@dataclass(slots=True)
class Span:
    starts_at: datetime
    ends_at: datetime | None
    is_open: bool
    assignee_id: int | None


@dataclass(slots=True)
class Figures:
    created_at: datetime
    status: str
    assignee_id: int | None
    customer_initiated: bool
    first_reply_at: datetime | None = None
    first_reply_agent_id: int | None = None
    first_response_seconds: float | None = None
    first_response_business_seconds: float | None = None
    first_solve_at: datetime | None = None
    first_resolution_seconds: float | None = None
    first_resolution_business_seconds: float | None = None
    final_solve_at: datetime | None = None
    final_solve_assignee_id: int | None = None
    full_resolution_seconds: float | None = None
    full_resolution_business_seconds: float | None = None
    agent_replies: int = 0
    reopens: int = 0
    escalations: int = 0
    one_touch: bool = False
    spans: list[Span] = field(default_factory=list)


def _seconds(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


def derive(
    events: Sequence[EventRow],
    *,
    created_at: datetime,
    calendar: CompiledCalendar,
    user_ids: Mapping[str, int],
    team_tiers: Mapping[str, int] | None = None,
) -> Figures:
    """Replay the events (sorted by time, then id) and measure.

    `created_at` is the ticket's creation time, used if the history has no created event
    (never the case for tickets made by tickets.services).
    """
    status = "new"
    assignee: int | None = None
    first_direction: str | None = None
    replies: list[tuple[datetime, int | None]] = []
    solves: list[datetime] = []
    reopens = 0
    escalations = 0
    tiers = team_tiers or {}
    # (instant, is_open, assignee) after all events at that instant.
    states: list[tuple[datetime, bool, int | None]] = []
    saw_created = False

    for event in events:
        if event.kind == "created":
            if not saw_created:
                created_at = event.at
                saw_created = True
            status = event.value or "new"
        elif event.kind == "status" and event.value:
            if event.value in DONE and status not in DONE:
                solves.append(event.at)
            elif event.value in OPEN and status in DONE:
                reopens += 1
            status = event.value
        elif event.kind == "team":
            if _is_escalation(tiers, event.before, event.value):
                escalations += 1
        elif event.kind == "assignee":
            assignee = user_ids.get(event.value) if event.value else None
        elif event.kind == "message":
            if first_direction is None:
                first_direction = event.value
            if event.value == "outbound" and not event.automatic:
                author = user_ids.get(event.author) if event.author else None
                replies.append((event.at, author if author is not None else event.actor_id))
        state = (max(event.at, created_at), status not in DONE, assignee)
        if states and states[-1][0] == state[0]:
            states[-1] = state
        else:
            states.append(state)

    figures = Figures(
        created_at=created_at,
        status=status,
        assignee_id=assignee,
        customer_initiated=first_direction == "inbound",
        reopens=reopens,
        escalations=escalations,
    )
    if figures.customer_initiated and replies:
        figures.first_reply_at, figures.first_reply_agent_id = replies[0]
        figures.first_response_seconds = _seconds(created_at, replies[0][0])
        figures.first_response_business_seconds = _business(calendar, created_at, replies[0][0])
    elif replies:
        figures.first_reply_at, figures.first_reply_agent_id = replies[0]
    if solves:
        figures.first_solve_at = solves[0]
        figures.first_resolution_seconds = _seconds(created_at, solves[0])
        figures.first_resolution_business_seconds = _business(calendar, created_at, solves[0])
    if solves and status in DONE:
        final = solves[-1]
        figures.final_solve_at = final
        figures.final_solve_assignee_id = _state_at_or_before(states, final)
        figures.full_resolution_seconds = _seconds(created_at, final)
        figures.full_resolution_business_seconds = _business(calendar, created_at, final)
        figures.agent_replies = sum(1 for at, _ in replies if at <= final)
        figures.one_touch = figures.agent_replies == 1 and reopens == 0
    else:
        figures.agent_replies = len(replies)
    figures.spans = _spans(created_at, states)
    return figures


def _is_escalation(tiers: Mapping[str, int], before: str | None, after: str | None) -> bool:
    """A move from a team to a team of a higher tier (a team no longer known has none)."""
    if not before or not after or before not in tiers or after not in tiers:
        return False
    return tiers[after] > tiers[before]


def _business(calendar: CompiledCalendar, start: datetime, end: datetime) -> float:
    return calendar.business_us(start, end) / 1_000_000


def _state_at_or_before(
    states: list[tuple[datetime, bool, int | None]], at: datetime
) -> int | None:
    assignee = None
    for instant, _, who in states:
        if instant > at:
            break
        assignee = who
    return assignee


def _spans(created_at: datetime, states: list[tuple[datetime, bool, int | None]]) -> list[Span]:
    """Merge consecutive equal states into (from, to] spans starting at creation."""
    spans: list[Span] = []
    for instant, is_open, assignee in states or [(created_at, True, None)]:
        if spans and (spans[-1].is_open, spans[-1].assignee_id) == (is_open, assignee):
            continue
        if spans:
            spans[-1].ends_at = instant
        spans.append(Span(max(instant, created_at), None, is_open, assignee))
    return spans
