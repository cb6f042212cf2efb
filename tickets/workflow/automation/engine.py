"""Running the rules on a change: claim the new events of a ticket, evaluate each rule's
conditions, apply the actions of those that match, at most MAX_DEPTH passes deep."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from tickets.models import (
    ActorKind,
    Direction,
    EventKind,
    Message,
    Ticket,
)
from tickets.workflow import follow_ups
from tickets.workflow.automation.actions import apply_or_log
from tickets.workflow.automation.context import Context, TicketFacts, recent_support_counts
from tickets.workflow.automation.rules import CachedRule, active_rules
from tickets.workflow.models import Trigger

log = logging.getLogger(__name__)

MAX_DEPTH = 3


@dataclass
class NewEvents:
    kinds: list[str]
    actor_kinds: list[str]
    rule_ids: set[int]
    message_ids: list[int]
    ticket: TicketFacts

    @property
    def triggers_rules(self) -> bool:
        """Imported history runs no rules, and neither does a survey answer (live, it
        fires no after-commit hook at all; imported, it commits with the history)."""
        return any(
            actor_kind != ActorKind.IMPORT and kind != EventKind.SURVEY
            for kind, actor_kind in zip(self.kinds, self.actor_kinds, strict=True)
        )


# One round trip: read the events after the ticket's cursor, move the cursor past them
# with compare-and-set, and read the ticket columns the conditions need. Only the caller
# that saw the old position moves it; a concurrent caller that read the same events gets
# no row and leaves the rules alone. The events come back as arrays in id order.
#
# Run on its own (autocommit, as from the after-commit hook), the claim commits without
# waiting for the WAL flush (/*async_commit*/ below): the flush wait was most of a
# no-match evaluation. It keeps the guarantees: a rule that acts commits its change
# synchronously, and that flush covers the earlier cursor move, so no rule can act twice
# on one change. Only a server crash within a fraction of a second, before any rule acted
# on the claimed events, can lose the move, and then those events are looked at again
# with the next change.
_CLAIM_NEW_EVENTS_SQL = """
WITH cur AS (
    SELECT COALESCE(
        (SELECT last_event_id FROM tickets_rulecursor WHERE ticket_id = %(t)s), 0
    ) AS seen
), fresh AS (
    SELECT e.id, e.kind, e.actor_kind, e.data->>'rule_id' AS rule_id, e.message_id,
           e.after #>> '{}' AS after
    FROM tickets_ticketevent e, cur
    WHERE e.ticket_id = %(t)s AND e.id > cur.seen
), claim AS (
    INSERT INTO tickets_rulecursor (ticket_id, last_event_id)
    SELECT %(t)s, max(id) FROM fresh HAVING count(*) > 0
    ON CONFLICT (ticket_id) DO UPDATE SET last_event_id = EXCLUDED.last_event_id
    WHERE tickets_rulecursor.last_event_id = (SELECT seen FROM cur)
    RETURNING 1
), batch AS (
    SELECT array_agg(kind ORDER BY id) AS kinds,
           array_agg(actor_kind ORDER BY id) AS actor_kinds,
           array_agg(rule_id ORDER BY id) FILTER (WHERE rule_id IS NOT NULL) AS rule_ids,
           array_agg(message_id ORDER BY id)
               FILTER (WHERE kind = %(message)s AND after = 'inbound') AS message_ids
    FROM fresh
)
SELECT b.kinds, b.actor_kinds, b.rule_ids, b.message_ids,
       t.number, t.subject, t.mailbox_id, t.customer_id, c.email, c.organization_id,
       t.tags, t.priority, t.kind, t.status, t.updated_at, t.fields
FROM batch b, tickets_ticket t JOIN tickets_customer c ON c.id = t.customer_id
     /*async_commit*/
WHERE t.number = %(t)s AND EXISTS (SELECT FROM claim)
"""
_CLAIM_ALONE_SQL = _CLAIM_NEW_EVENTS_SQL.replace(
    "/*async_commit*/", ", (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit"
)


# The same claim for many tickets at once (the tickets of one mail batch), one row per
# ticket that had new events and whose cursor this statement moved.
_CLAIM_MANY_SQL = """
WITH cur AS (
    SELECT ids.t, COALESCE(rc.last_event_id, 0) AS seen
    FROM unnest(%(ts)s::bigint[]) AS ids (t)
    LEFT JOIN tickets_rulecursor rc ON rc.ticket_id = ids.t
), fresh AS (
    SELECT e.ticket_id, e.id, e.kind, e.actor_kind, e.data->>'rule_id' AS rule_id,
           e.message_id, e.after #>> '{}' AS after
    FROM cur JOIN tickets_ticketevent e ON e.ticket_id = cur.t AND e.id > cur.seen
), claim AS (
    INSERT INTO tickets_rulecursor (ticket_id, last_event_id)
    SELECT ticket_id, max(id) FROM fresh GROUP BY ticket_id
    ON CONFLICT (ticket_id) DO UPDATE SET last_event_id = EXCLUDED.last_event_id
    WHERE tickets_rulecursor.last_event_id
          = (SELECT seen FROM cur WHERE cur.t = EXCLUDED.ticket_id)
    RETURNING ticket_id
), batch AS (
    SELECT ticket_id,
           array_agg(kind ORDER BY id) AS kinds,
           array_agg(actor_kind ORDER BY id) AS actor_kinds,
           array_agg(rule_id ORDER BY id) FILTER (WHERE rule_id IS NOT NULL) AS rule_ids,
           array_agg(message_id ORDER BY id)
               FILTER (WHERE kind = %(message)s AND after = 'inbound') AS message_ids
    FROM fresh GROUP BY ticket_id
)
SELECT b.kinds, b.actor_kinds, b.rule_ids, b.message_ids,
       t.number, t.subject, t.mailbox_id, t.customer_id, c.email, c.organization_id,
       t.tags, t.priority, t.kind, t.status, t.updated_at, t.fields
FROM batch b JOIN claim ON claim.ticket_id = b.ticket_id
     JOIN tickets_ticket t ON t.number = b.ticket_id
     JOIN tickets_customer c ON c.id = t.customer_id
     /*async_commit*/
"""
_CLAIM_MANY_ALONE_SQL = _CLAIM_MANY_SQL.replace(
    "/*async_commit*/", "CROSS JOIN (SELECT set_config('synchronous_commit', 'off', true)) AS a"
)


def _new_events(row: tuple[Any, ...]) -> NewEvents:
    kinds, actor_kinds, rule_ids, message_ids, *ticket = row
    # The cursor hands jsonb over as text (Django leaves parsing to JSONField).
    if isinstance(ticket[-1], str):
        ticket[-1] = json.loads(ticket[-1])
    return NewEvents(
        kinds=kinds,
        actor_kinds=actor_kinds,
        rule_ids={int(r) for r in rule_ids or ()},
        message_ids=message_ids or [],
        ticket=TicketFacts(*ticket),
    )


def _claim_new_events(ticket_id: int) -> NewEvents | None:
    # Inside a caller's transaction, that transaction's commit decides durability.
    sql = _CLAIM_NEW_EVENTS_SQL if connection.in_atomic_block else _CLAIM_ALONE_SQL
    with connection.cursor() as cursor:
        cursor.execute(sql, {"t": ticket_id, "message": EventKind.MESSAGE})
        row = cursor.fetchone()
    return None if row is None else _new_events(row)


def _claim_many(ticket_ids: list[int]) -> dict[int, NewEvents]:
    sql = _CLAIM_MANY_SQL if connection.in_atomic_block else _CLAIM_MANY_ALONE_SQL
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ts": ticket_ids, "message": EventKind.MESSAGE})
        claimed = [_new_events(row) for row in cursor.fetchall()]
    return {batch.ticket.number: batch for batch in claimed}


def _load_ticket(ticket_id: int) -> Ticket | None:
    return Ticket.objects.select_related("customer", "mailbox").filter(pk=ticket_id).first()


def run_rules(ticket_id: int, *, now: datetime | None = None) -> list[int]:
    """Evaluate change-triggered rules for whatever happened to the ticket; ids that acted.

    A change that no rule matches costs one statement (see _CLAIM_NEW_EVENTS_SQL) and one
    Redis read of the rule list's version.
    """
    return _run(ticket_id, _claim_new_events(ticket_id), now, _Prefetched())


def run_rules_many(ticket_ids: list[int], *, now: datetime | None = None) -> bool:
    """`run_rules` for each of these tickets (distinct ids), in order, a pass at a time
    for all of them: what a pass reads is one statement for the whole batch (the claim,
    the new customer messages' texts, the customers' recent ticket counts, the tickets a
    rule will act on), and the success follow-ups its rules ask for are opened together
    when the pass ends (tickets/workflow/follow_ups.py). True if any rule acted.

    Between tickets, only the order of passes differs from running each alone: a batch's
    rules see the state after the whole batch (docs/workflow.md)."""
    claimed = _claim_many(ticket_ids)
    now = now or timezone.now()
    prefetched = _Prefetched.of([b for b in claimed.values() if b.triggers_rules], now)
    # The first pass of every ticket evaluated up front, so that the tickets some rule
    # will act on are loaded in one query.
    matched = []
    for ticket_id, batch in claimed.items():
        if not batch.triggers_rules:
            continue
        trigger, rules = _pass(batch, 0, [])
        ctx = prefetched.contexts[ticket_id] = Context(
            batch.ticket, trigger, now, batch.message_ids
        )
        prefetched.fill(ctx)
        if any(rule.matches(ctx) for rule in rules):
            matched.append(ticket_id)
    if matched:
        prefetched.tickets = {
            t.pk: t
            for t in Ticket.objects.select_related("customer", "mailbox").filter(pk__in=matched)
        }
    acted: dict[int, list[int]] = {ticket_id: [] for ticket_id in ticket_ids}
    pending = list(ticket_ids)
    for depth in range(MAX_DEPTH):
        again = []
        with follow_ups.together():
            for ticket_id in pending:
                if _ticket_pass(
                    ticket_id, claimed.get(ticket_id), depth, acted[ticket_id], now, prefetched
                ):
                    again.append(ticket_id)
        if not again:
            break
        # What the rules changed is looked at again, for all the tickets they acted on.
        pending = again
        claimed = _claim_many(again)
    return any(acted.values())


@dataclass
class _Prefetched:
    """Facts the conditions of the active rules read, for the tickets of a batch."""

    texts: dict[int, str] | None = None
    recent: dict[int, dict[int, int]] = field(default_factory=dict)  # days -> customer -> n
    # The first pass's context of each ticket, and the tickets a rule will act on.
    contexts: dict[int, Context] = field(default_factory=dict)
    tickets: dict[int, Ticket] = field(default_factory=dict)

    @classmethod
    def of(cls, batches: list[NewEvents], now: datetime) -> _Prefetched:
        fields = {c.get("field") for rule in active_rules() for c in rule.conditions}
        prefetched = cls()
        if not batches:
            return prefetched
        message_ids = [pk for batch in batches for pk in batch.message_ids]
        if message_ids and fields & {"body", "sentiment"}:
            prefetched.texts = dict(
                Message.objects.filter(pk__in=message_ids, direction=Direction.INBOUND).values_list(
                    "pk", "body_text"
                )
            )
        customers = sorted({batch.ticket.customer_id for batch in batches})
        for days in _recent_days():
            prefetched.recent[days] = recent_support_counts(customers, days, now)
        return prefetched

    def fill(self, ctx: Context) -> None:
        if self.texts is not None:
            ids = ctx.new_message_ids
            ctx.__dict__["new_inbound_texts"] = [self.texts[pk] for pk in ids if pk in self.texts]
        for days, counts in self.recent.items():
            if ctx.ticket.customer_id in counts:
                ctx.recent_support[days] = counts[ctx.ticket.customer_id]


def _recent_days() -> set[int]:
    days = set()
    for rule in active_rules():
        for condition in rule.conditions:
            if condition.get("field") == "recent_support_tickets":
                try:
                    days.add(int(condition.get("days", 30)))
                except (TypeError, ValueError):
                    continue
    return days


def _run(
    ticket_id: int, batch: NewEvents | None, now: datetime | None, prefetched: _Prefetched
) -> list[int]:
    acted: list[int] = []
    for depth in range(MAX_DEPTH):
        if depth:
            batch = _claim_new_events(ticket_id)
        if not _ticket_pass(ticket_id, batch, depth, acted, now, prefetched):
            break
    return acted


def _ticket_pass(
    ticket_id: int,
    batch: NewEvents | None,
    depth: int,
    acted: list[int],
    now: datetime | None,
    prefetched: _Prefetched,
) -> bool:
    """One pass of the rules over a ticket's new events (`batch`); whether a rule acted."""
    if batch is None or not batch.triggers_rules:
        return False
    trigger, rules = _pass(batch, depth, acted)
    if not rules:
        return False
    ctx = prefetched.contexts.pop(ticket_id, None) if depth == 0 else None
    if ctx is None:
        ctx = Context(batch.ticket, trigger, now or timezone.now(), batch.message_ids)
        if depth == 0:
            prefetched.fill(ctx)
    loaded = prefetched.tickets.pop(ticket_id, None) if depth == 0 else None
    return _apply_matching(rules, ctx, acted, loaded)


def _pass(batch: NewEvents, depth: int, acted: list[int]) -> tuple[str, list[CachedRule]]:
    """The trigger of a pass over the new events and the rules that may act in it."""
    trigger = Trigger.CREATED if EventKind.CREATED in batch.kinds else Trigger.UPDATED
    if depth == 0 and not acted and all(k == ActorKind.RULE for k in batch.actor_kinds):
        # Changes a scheduled rule made: the rule that made them must not run on them.
        acted.extend(batch.rule_ids)
    return trigger, [r for r in active_rules() if r.fires_on(trigger) and r.id not in acted]


def _apply_matching(
    rules: list[CachedRule], ctx: Context, acted: list[int], loaded: Ticket | None = None
) -> bool:
    """One pass: each matching rule acts, in order, and later rules see its changes.

    The full Ticket, which the actions need, is loaded at the first match only (or was,
    `loaded`, for a batch). Returns whether any rule acted.
    """
    ticket: Ticket | None = None
    for rule in rules:
        if not rule.matches(ctx):
            continue
        if ticket is None:
            ticket = loaded or _load_ticket(ctx.ticket.number)
            if ticket is None:
                return False
        acted.append(rule.id)
        for action in rule.actions:
            apply_or_log(rule, ticket, action)
        ctx.ticket = TicketFacts.of(ticket)
    return ticket is not None


_MARK_SEEN_SQL = """
INSERT INTO tickets_rulecursor (ticket_id, last_event_id)
SELECT ticket_id, max(id) FROM tickets_ticketevent WHERE ticket_id = ANY(%s) GROUP BY ticket_id
ON CONFLICT (ticket_id) DO UPDATE SET last_event_id = EXCLUDED.last_event_id
WHERE tickets_rulecursor.last_event_id < EXCLUDED.last_event_id
"""


def mark_events_seen(ticket_ids: list[int]) -> None:
    """Move the rule cursor of these tickets past their events, in one statement: what
    `run_rules` does for changes no rule acts on (imported history; see import_batch)."""
    with connection.cursor() as cursor:
        cursor.execute(_MARK_SEEN_SQL, [ticket_ids])
