"""Benchmark of the team workflow (called from the tickets app's bench section).

- rules per change: what `run_rules` adds to a ticket change with 50 active rules
  (target p95 <= 5 ms); the change itself is made outside the timed part;
- SLA beat task: `check_sla` over 100,000 open tickets with due times (target < 10 s),
  first the run that finds ~30 % of them breached, then a steady-state run.

Everything the section creates (rules, due times, alerts, breach events) is removed at
the end, so other sections and later runs see the seeded data unchanged.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.db import connection
from django.test.utils import override_settings
from django.utils import timezone

from bench.core import Result
from helpdesk.celery import app
from tickets import services
from tickets.models import EventKind, Ticket, TicketEvent
from tickets.workflow import after_change, automation, sla
from tickets.workflow.models import AutomationRule, SlaAlert, SlaPolicy

RULES = 50
RULES_ADDED_MS = 5.0
SLA_TICKETS = 100_000
SLA_SECONDS = 10.0
BENCH_TAG = "bench-workflow"
# Django 6.1 mailers: EMAIL_BACKEND no longer chooses the backend once MAILERS is set.
LOCAL_OUTBOX = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def _bench_rules() -> list[AutomationRule]:
    """50 rules of the kinds teams write: routing by subject, tags, priority, mailbox."""
    rules = []
    for n in range(RULES):
        shape = n % 5
        shapes: list[list[dict[str, Any]]] = [
            [{"field": "subject", "op": "contains", "value": f"zz-no-match-{n}"}],
            [{"field": "tag", "op": "has", "value": f"bench-never-{n}"}],
            [
                {"field": "priority", "op": "is", "value": ["urgent"]},
                {"field": "kind", "op": "is", "value": ["service"]},
                {"field": "subject", "op": "contains", "value": f"zz-{n}"},
            ],
            [{"field": "customer", "op": "is", "value": [f"nobody{n}@bench.invalid"]}],
            [{"field": "body", "op": "contains", "value": f"zz-body-{n}"}],
        ]
        conditions = shapes[shape]
        rules.append(
            AutomationRule(
                name=f"{BENCH_TAG} {n}",
                trigger="changed",
                conditions=conditions,
                actions=[{"type": "add_tags", "value": [f"bench-rule-{n}"]}],
                position=1000 + n,
            )
        )
    return rules


def run(bench: Any) -> None:
    # A yardstick for the rules figure, on the same machine at the same moment: loading
    # one ticket through the ORM (run_rules does so only when a rule matches).
    numbers = bench.sample_tickets(bench.agent, 20)
    bench.measure(
        "one ticket loaded through the ORM (reference)",
        lambda i: Ticket.objects.select_related("customer", "mailbox").get(
            pk=numbers[i % len(numbers)]
        ),
        samples=60,
        note="compare with rules per change: one claim statement and a Redis read",
    )
    _rules_per_change(bench)
    _sla_beat(bench)


def _rules_per_change(bench: Any) -> None:
    created = AutomationRule.objects.bulk_create(_bench_rules())
    automation.rules_changed()
    agent = bench.agent
    numbers = bench.sample_tickets(agent, 60)
    result = Result(
        bench.section,
        f"rules per change ({RULES} active)",
        target_ms=RULES_ADDED_MS,
        note="automation.run_rules after an agent's priority change (the change itself is "
        f"not timed): new events read, cursor claimed and the ticket's condition columns "
        f"read in one statement, {RULES} compiled rules evaluated (none matches, as on "
        "most changes)",
    )
    try:
        for i in range(63):
            number = numbers[i % len(numbers)]
            ticket = Ticket.objects.get(pk=number)
            with after_change.held(number):
                services.update_ticket(
                    ticket,
                    actor=services.Actor.agent(agent),
                    priority="high" if ticket.priority != "high" else "normal",
                )
            started, cpu_started = time.perf_counter(), time.process_time()
            automation.run_rules(number)
            if i >= 3:  # warm-up: the rule list and VADER load once per process
                result.samples_ms.append((time.perf_counter() - started) * 1000)
                result.cpu_ms.append((time.process_time() - cpu_started) * 1000)
        bench.results.append(result)
        bench.out.write(
            f"  {result.name}: p50 {result.percentile(50):.2f} ms, "
            f"p95 {result.percentile(95):.2f} ms, Python CPU p95 "
            f"{result.percentile(95, cpu=True):.2f} ms ({len(result.samples_ms)} samples)\n"
        )
    finally:
        AutomationRule.objects.filter(pk__in=[r.pk for r in created]).delete()
        automation.rules_changed()


def _sla_beat(bench: Any) -> None:
    now = timezone.now()
    policy = SlaPolicy.objects.create(
        name=BENCH_TAG, priority="normal", first_response_hours=8, resolution_hours=40
    )
    with connection.cursor() as cursor:
        # Due times spread from two days ago to five days ahead: ~30 % already breached.
        cursor.execute(
            """
            WITH chosen AS (
                SELECT number FROM tickets_ticket
                WHERE status IN ('new', 'open', 'pending', 'on_hold')
                ORDER BY number LIMIT %(n)s
            )
            UPDATE tickets_ticket t SET
                sla_policy_id = %(policy)s,
                first_response_due_at = %(now)s + (random() * 7 - 2) * interval '1 day',
                resolution_due_at = %(now)s + (random() * 7 - 2) * interval '1 day'
            FROM chosen WHERE t.number = chosen.number
            """,
            {"n": SLA_TICKETS, "policy": policy.pk, "now": now},
        )
        prepared = cursor.rowcount
    if prepared < SLA_TICKETS:
        bench.note(f"only {prepared:,} open tickets in the bench data (wanted {SLA_TICKETS:,})")
    eager = app.conf.task_always_eager
    # Warnings are mailed through the real task, in-process, to a local outbox.
    app.conf.task_always_eager = True
    try:
        with override_settings(MAILERS=LOCAL_OUTBOX):
            started = time.perf_counter()
            first = sla.check_sla(now=now)
            first_ms = (time.perf_counter() - started) * 1000
            result = Result(
                bench.section,
                f"SLA beat, first run ({prepared:,} open)",
                samples_ms=[first_ms],
                target_ms=SLA_SECONDS * 1000,
                note=f"check_sla recording {first} (breaches as events, warnings mailed)",
            )
            bench.results.append(result)
            bench.out.write(f"  {result.name}: {first_ms:.0f} ms, {first}\n")
            bench.measure(
                f"SLA beat, steady run ({prepared:,} open)",
                lambda i: sla.check_sla(now=now + timedelta(minutes=1 + i)),
                samples=5,
                warmup=0,
                target_ms=SLA_SECONDS * 1000,
                note="check_sla a minute later: scans every open ticket, finds few new alerts",
            )
    finally:
        app.conf.task_always_eager = eager
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE tickets_ticket SET sla_policy_id = NULL, first_response_due_at = NULL,"
                " resolution_due_at = NULL WHERE sla_policy_id = %s",
                [policy.pk],
            )
        SlaAlert.objects.filter(created_at__gte=now - timedelta(seconds=1)).delete()
        TicketEvent.objects.filter(kind=EventKind.SLA, at__gte=now).delete()
        policy.delete()
        sla.policies_changed()
