"""SLA policies: due times on tickets, warnings before a breach, breaches as events, compliance.

Due times are computed once per (ticket, policy) from the ticket's creation time in
business hours (tickets.business_hours, the ticket's calendar) and stored on the ticket,
so inbox sorting and the beat task read indexed columns. They are recomputed when a
change (priority, mailbox, kind, organization) selects a different policy, and when the
policies themselves change so that an open ticket falls under another one (a new policy
reaches the tickets already open: `reapply_to_open_tickets`, in the background). The
resolution clock does not pause while a ticket is pending: targets are promises about
wall-clock business time, as the customer experiences it.

The beat task is set-based: one INSERT ... SELECT for breaches and one for warnings, each
over both targets, claims every newly due alert (the SlaAlert unique constraint makes
each fire once even with two beat runs overlapping), breaches become TicketEvents in the
same statement, and agents get one summary email per run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypedDict

from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, ngettext

from helpdesk.local_cache import VersionedCache
from tickets.business_hours import add_business_seconds
from tickets.calendars import calendar_for_ticket
from tickets.models import (
    OPEN_STATUSES,
    BusinessCalendar,
    Channel,
    NotificationKind,
    Ticket,
    User,
)
from tickets.notify import notify_agents
from tickets.workflow.models import SlaPolicy

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def _load_policies() -> list[SlaPolicy]:
    return list(SlaPolicy.objects.filter(is_active=True).order_by("id"))


_policies = VersionedCache("sla-policies", _load_policies)


def policies_changed() -> None:
    """After commit of any change to SLA policies (tickets/workflow/setup.py calls it)."""
    _policies.bump()


def policy_name(policy_id: int) -> str | None:
    """A policy's name: from the policies held in this process, or for one no longer
    active (a ticket keeps the policy it was given), from the database."""
    for policy in _policies.get():
        if policy.pk == policy_id:
            return policy.name
    return SlaPolicy.objects.filter(pk=policy_id).values_list("name", flat=True).first()


def policy_for(ticket: Ticket) -> SlaPolicy | None:
    """The most specific active policy: organization, then mailbox, then kind break ties."""
    organization_id = ticket.customer.organization_id
    candidates = [
        p
        for p in _policies.get()
        if p.priority == ticket.priority
        and p.mailbox_id in (None, ticket.mailbox_id)
        and p.organization_id in (None, organization_id)
        and p.kind in ("", ticket.kind)
    ]
    if not candidates:
        return None
    return max(
        candidates,
        key=lambda p: (
            p.organization_id is not None,
            p.mailbox_id is not None,
            bool(p.kind),
            -p.pk,
        ),
    )


def due_times(
    ticket: Ticket,
    policy: SlaPolicy,
    calendar_of: Callable[[Ticket], BusinessCalendar | None] = calendar_for_ticket,
) -> tuple[datetime | None, datetime | None]:
    calendar = calendar_of(ticket)

    def due(hours: Any) -> datetime | None:
        if hours is None:
            return None
        return add_business_seconds(calendar, ticket.created_at, float(hours) * 3600)

    # Outreach is agent-initiated: there is no customer waiting for a first response.
    first = None if ticket.channel == Channel.OUTBOUND else due(policy.first_response_hours)
    return first, due(policy.resolution_hours)


DUE_FIELDS = ("sla_policy_id", "first_response_due_at", "resolution_due_at")


def apply_due_times(
    ticket: Ticket,
    calendar_of: Callable[[Ticket], BusinessCalendar | None] = calendar_for_ticket,
) -> bool:
    """Set the due times of the ticket's policy in memory if its policy changed (solved
    tickets keep theirs); True if they need saving (DUE_FIELDS)."""
    if not ticket.is_open:
        return False
    policy = policy_for(ticket)
    policy_id = policy.pk if policy else None
    if policy_id == ticket.sla_policy_id:
        return False
    first_due, resolution_due = due_times(ticket, policy, calendar_of) if policy else (None, None)
    ticket.sla_policy_id = policy_id
    ticket.first_response_due_at, ticket.resolution_due_at = first_due, resolution_due
    return True


def calendar_per_mailbox() -> Callable[[Ticket], BusinessCalendar | None]:
    """`calendar_for_ticket` for many tickets, read once per mailbox."""
    calendars: dict[int, BusinessCalendar | None] = {}

    def calendar_of(ticket: Ticket) -> BusinessCalendar | None:
        if ticket.mailbox_id not in calendars:
            calendars[ticket.mailbox_id] = calendar_for_ticket(ticket)
        return calendars[ticket.mailbox_id]

    return calendar_of


def refresh_due_times(ticket: Ticket) -> bool:
    """Store due times if the ticket's policy changed; solved tickets keep theirs."""
    if not apply_due_times(ticket):
        return False
    Ticket.objects.filter(pk=ticket.pk).update(**{f: getattr(ticket, f) for f in DUE_FIELDS})
    return True


# Open tickets re-checked per statement when the policies change.
REAPPLY_BATCH = 1000


def reapply_to_open_tickets() -> int:
    """After the policies changed (a new one, one deleted, switched off or scoped
    differently): each open ticket whose policy is now another gets that policy's due
    times, as a change to the ticket would give it. Returns how many changed.

    Run in the background (tasks.reapply_sla_policies); a ticket's due times under the
    policy it keeps are not moved."""
    changed = 0
    calendar_of = calendar_per_mailbox()
    last = 0
    while True:
        batch = list(
            Ticket.objects.filter(status__in=OPEN_STATUSES, pk__gt=last)
            .select_related("customer")
            .order_by("pk")[:REAPPLY_BATCH]
        )
        if not batch:
            return changed
        last = batch[-1].pk
        due = [ticket for ticket in batch if apply_due_times(ticket, calendar_of)]
        if due:
            Ticket.objects.bulk_update(due, list(DUE_FIELDS))
            changed += len(due)


_OPEN = "('new', 'open', 'pending', 'on_hold')"
# Per target: its due column and the tickets it applies to; each condition matches the
# partial index that serves it (ticket_first_response_due, ticket_resolution_due).
_TARGETS = {
    "first_response": (
        "first_response_due_at",
        f"t.first_response_at IS NULL AND t.status IN {_OPEN}",
    ),
    "resolution": ("resolution_due_at", f"t.status IN {_OPEN}"),
}

# Tickets of one target that are due (breach) or about to be (warning). Warnings read the
# index only up to the longest warning time of any policy (at most a week), not every
# ticket due in the coming days.
_DUE = {
    "breach": """
    SELECT %(target_{n})s AS target, t.number, t.{col} AS due_at
    FROM tickets_ticket t
    WHERE {where} AND t.{col} <= %(now)s""",
    "warning": """
    SELECT %(target_{n})s AS target, t.number, t.{col} AS due_at
    FROM tickets_ticket t JOIN tickets_slapolicy p ON p.id = t.sla_policy_id
    WHERE {where} AND t.{col} > %(now)s
      AND t.{col} <= %(now)s + make_interval(mins => p.warn_before_minutes)
      AND t.{col} <= %(now)s + LEAST(interval '7 days', (
          SELECT make_interval(mins => max(warn_before_minutes)) FROM tickets_slapolicy
      ))""",
}

# One statement per alert kind, for both targets: claim the alerts, log breaches as
# events, and return who to tell. The unique constraint makes each alert fire once, even
# with two beat runs overlapping; what was alerted before is skipped by its conflict
# check, a probe of that unique index per due ticket whatever the planner's estimates (an
# anti-join here, planned from stale statistics right after a burst of due times, could
# turn into a nested loop over both sides). Rows go in ticket order, so the inserts and the
# foreign-key checks at commit walk the indexes and the ticket table in order. Assignee
# and team come from a per-row primary-key lookup, for the same reason.
_ALERTS_SQL = """
WITH alerted AS (
    INSERT INTO tickets_slaalert (ticket_id, target, kind, due_at, created_at)
    SELECT number, target, %(kind)s, due_at, %(now)s FROM ({due}
    ) due ORDER BY number, target
    ON CONFLICT (ticket_id, target, kind, due_at) DO NOTHING
    RETURNING ticket_id, target, due_at
){logged}
SELECT a.target, a.ticket_id,
       (SELECT ARRAY[t.assignee_id, t.team_id] FROM tickets_ticket t WHERE t.number = a.ticket_id)
FROM alerted a ORDER BY a.ticket_id, a.target
"""

_LOG_BREACHES = """, logged AS (
    INSERT INTO tickets_ticketevent (ticket_id, at, kind, actor_kind, before, after, data)
    SELECT ticket_id, %(now)s, 'sla', 'system', NULL, to_jsonb('breached'::text),
           jsonb_build_object('target', target, 'due_at', due_at)
    FROM alerted ORDER BY ticket_id, target
)"""


def _alerts_sql(kind: str) -> str:
    due = "\n    UNION ALL".join(
        _DUE[kind].format(n=n, col=col, where=where)
        for n, (col, where) in enumerate(_TARGETS.values())
    )
    return _ALERTS_SQL.format(due=due, logged=_LOG_BREACHES if kind == "breach" else "")


_ALERTS = {kind: _alerts_sql(kind) for kind in ("breach", "warning")}

Alerts = dict[str, list[tuple[int, int | None, int | None]]]


def check_sla(*, now: datetime | None = None) -> dict[str, int]:
    """Record new breaches as events and warn about tickets about to breach."""
    now = now or timezone.now()
    params: dict[str, Any] = {"now": now}
    params.update({f"target_{n}": target for n, target in enumerate(_TARGETS)})
    # Breaches first: they lead each agent's summary.
    alerts: Alerts = {f"{t}_{k}": [] for k in ("breach", "warning") for t in _TARGETS}
    with transaction.atomic(), connection.cursor() as cursor:
        for kind, sql in _ALERTS.items():
            cursor.execute(sql, {**params, "kind": kind})
            for target, number, (assignee_id, team_id) in cursor.fetchall():
                alerts[f"{target}_{kind}"].append((number, assignee_id, team_id))
        transaction.on_commit(lambda: _notify(alerts))
    return {key: len(rows) for key, rows in alerts.items()}


_HEADLINES = {
    "first_response_warning": gettext_noop("first reply due soon"),
    "resolution_warning": gettext_noop("resolution due soon"),
    "first_response_breach": gettext_noop("first reply overdue (SLA breached)"),
    "resolution_breach": gettext_noop("resolution overdue (SLA breached)"),
}


def _notify(alerts: Alerts) -> None:
    """One summary email per agent and run: the assignee, or the team when unassigned."""
    team_ids = {team for rows in alerts.values() for _, assignee, team in rows if assignee is None}
    members: dict[int, list[int]] = defaultdict(list)
    for user_id, team_id in (
        User.objects.agents().filter(teams__in=team_ids).values_list("pk", "teams")
    ):
        members[team_id].append(user_id)
    per_agent: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for key, rows in alerts.items():
        for number, assignee, team in rows:
            for user_id in [assignee] if assignee else members.get(team or 0, []):
                per_agent[user_id][key].append(number)
    users = User.objects.in_bulk(list(per_agent))
    for user_id, per_kind in per_agent.items():
        if user_id not in users:
            continue
        kinds = dict(per_kind)
        notify_agents(
            [users[user_id]],
            next(iter(kinds.values()))[0],
            partial(_warning_headline, kinds),
            partial(_warning_text, kinds),
            kind=NotificationKind.SLA_WARNING,
        )


def _warning_headline(per_kind: dict[str, list[int]]) -> str:
    return "; ".join(
        ngettext("%(count)s ticket: %(what)s", "%(count)s tickets: %(what)s", len(numbers))
        % {"count": len(numbers), "what": gettext(_HEADLINES[key])}
        for key, numbers in per_kind.items()
    )


def _warning_text(per_kind: dict[str, list[int]]) -> str:
    lines = []
    for key, numbers in per_kind.items():
        shown = ", ".join(f"#{n}" for n in numbers[:50])
        if len(numbers) > 50:
            shown = gettext("%(shown)s and %(more)s more") % {
                "shown": shown,
                "more": len(numbers) - 50,
            }
        lines.append(f"{gettext(_HEADLINES[key])}: {shown}")
    return "\n".join(lines)


def sla_compliance(
    start: datetime, end: datetime, tickets: QuerySet[Ticket] | None = None
) -> dict[str, dict[str, Any]]:
    """Share of tickets that met each SLA target, for targets decided in [start, end).

    A first-response target is decided when the first agent reply is sent, or when the due
    time passes without one; likewise resolution with the solve. `tickets` narrows the set
    (kind, team, agent, mailbox filters of the dashboard). One statement: each target is a
    range of its own index (ticket_sla_*_decided), read index-only.
    """
    qs = tickets if tickets is not None else Ticket.objects.all()
    parts = [
        _decided(qs, target, done, due, start, end)
        for target, done, due in (
            ("first_response", "first_response_at", "first_response_due_at"),
            ("resolution", "solved_at", "resolution_due_at"),
        )
    ]
    figures = {row["target"]: row for row in parts[0].union(parts[1], all=True)}

    def share(target: str) -> dict[str, Any]:
        row = figures.get(target, {"count": 0, "met": 0})
        count, met = row["count"], row["met"]
        return {"count": count, "met": met, "rate": met / count if count else None}

    return {"first_response": share("first_response"), "resolution": share("resolution")}


class _DecidedRow(TypedDict):
    target: str
    count: int
    met: int


def _decided(
    qs: QuerySet[Ticket], target: str, done: str, due: str, start: datetime, end: datetime
) -> QuerySet[WithAnnotations[Ticket], _DecidedRow]:
    """Tickets whose `due` target was decided in [start, end): `done` then, or due then
    without being done. COALESCE(done, due) is the key of the target's index."""
    return (
        qs.filter(**{f"{due}__isnull": False})
        .alias(decided=Coalesce(done, due))
        .filter(decided__gte=start, decided__lt=end)
        .annotate(target=Value(target))
        .values("target")
        # Counting `due` (never null here, and in the index) keeps the scan index-only.
        .annotate(count=Count(due), met=Count(due, filter=Q(**{f"{done}__lte": F(due)})))
        .order_by()
    )


def open_tickets_by_due() -> QuerySet[Ticket]:
    """Open tickets, soonest resolution due first (tickets without a policy last)."""
    return Ticket.objects.filter(status__in=OPEN_STATUSES).order_by(
        F("resolution_due_at").asc(nulls_last=True), "number"
    )
