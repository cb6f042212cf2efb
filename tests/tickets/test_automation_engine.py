"""The rule engine's cost per change, and its compiled conditions against the SQL ones."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench import workflow as bench_workflow
from tests.conftest import Personas
from tests.factories import make_customer, make_ticket
from tickets import services
from tickets.models import Direction, Kind, Organization, Priority, Status, Ticket
from tickets.services import Actor
from tickets.workflow import automation, setup
from tickets.workflow.automation import engine, rules
from tickets.workflow.models import AutomationRule, RuleCursor

pytestmark = pytest.mark.django_db


@pytest.fixture
def fifty_rules(no_builtin_rules: None) -> None:
    """The bench's 50 rules (subject, tag, priority+kind+subject, customer, body) only."""
    AutomationRule.objects.bulk_create(bench_workflow._bench_rules())
    automation.rules_changed()
    assert len(automation.active_rules()) == 50


def test_a_change_no_rule_matches_costs_one_query(personas: Personas, fifty_rules: None) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    automation.run_rules(ticket.pk)  # the creation
    services.update_ticket(ticket, actor=Actor.agent(personas.agent_a), priority=Priority.HIGH)
    # Query: the claim statement (new events, cursor moved, the ticket's condition columns).
    # The rule list comes from the process cache (a Redis read of its version).
    with CaptureQueriesContext(connection) as queries:
        assert automation.run_rules(ticket.pk) == []
    assert len(queries) == 1, [q["sql"] for q in queries]
    # Nothing new since: the same one statement, and no rule is evaluated.
    with CaptureQueriesContext(connection) as queries:
        assert automation.run_rules(ticket.pk) == []
    assert len(queries) == 1


def test_a_customer_message_adds_one_query_for_the_body_conditions(
    personas: Personas, fifty_rules: None
) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    automation.run_rules(ticket.pk)
    services.add_message(ticket, direction=Direction.INBOUND, body_text="Any news?")
    # Queries: the claim statement; the new inbound message's text, once for the ten
    # "body contains" rules.
    with CaptureQueriesContext(connection) as queries:
        assert automation.run_rules(ticket.pk) == []
    assert len(queries) == 2, [q["sql"] for q in queries]


def test_a_matching_rule_among_fifty_acts_once_and_later_rules_see_its_change(
    personas: Personas, fifty_rules: None
) -> None:
    first = setup.save_rule(
        AutomationRule(
            name="Body says zz-body-4",
            trigger="changed",
            conditions=[{"field": "body", "op": "contains", "value": "ZZ-BODY-4"}],
            actions=[{"type": "add_tags", "value": ["bench-never-1"]}],
            position=1,
        )
    )
    automation.rules_changed()
    ticket = make_ticket(
        personas.mailbox_a, personas.customer, body_text="Please look at zz-body-4 today"
    )
    acted = automation.run_rules(ticket.pk)
    # Bench rule 4 matches the body, bench rule 1 the tag the first rule added.
    by_name = dict(AutomationRule.objects.values_list("name", "pk"))
    assert acted == [first.pk, by_name["bench-workflow 1"], by_name["bench-workflow 4"]]
    ticket.refresh_from_db()
    assert ticket.tags == ["bench-never-1", "bench-rule-1", "bench-rule-4"]
    assert automation.run_rules(ticket.pk) == []


def test_a_rule_with_unreadable_conditions_never_matches_and_the_others_still_act(
    personas: Personas, no_builtin_rules: None
) -> None:
    AutomationRule.objects.create(
        name="Broken",
        trigger="created",
        conditions=[{"field": "hours_since_update", "op": "more_than", "value": "soon"}],
        actions=[{"type": "set_priority", "value": "low"}],
        position=1,
    )
    working = AutomationRule.objects.create(
        name="Works",
        trigger="created",
        conditions=[],
        actions=[{"type": "add_tags", "value": ["seen"]}],
        position=2,
    )
    automation.rules_changed()
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    assert automation.run_rules(ticket.pk) == [working.pk]
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.tags) == (Priority.NORMAL, ["seen"])


CONDITIONS_BOTH_WAYS: list[dict[str, Any]] = [
    {"field": "subject", "op": "contains", "value": " REFUND "},
    {"field": "subject", "op": "not_contains", "value": "refund"},
    {"field": "tag", "op": "has", "value": "VIP"},
    {"field": "tag", "op": "has_not", "value": "vip"},
    {"field": "priority", "op": "is", "value": ["high", "urgent"]},
    {"field": "priority", "op": "is_not", "value": "normal"},
    {"field": "kind", "op": "is", "value": "service"},
    {"field": "status", "op": "is_not", "value": ["new"]},
    {"field": "customer", "op": "is", "value": ["LI@customer.test"]},
    {"field": "customer", "op": "is_not", "value": "li@customer.test"},
    {"field": "hours_since_update", "op": "more_than", "value": 2},
    {"field": "hours_since_update", "op": "less_than", "value": "2.5"},
]


def test_compiled_conditions_select_what_the_scheduled_sql_selects(
    personas: Personas, no_builtin_rules: None
) -> None:
    org = Organization.objects.create(name="Org")
    in_org = make_customer("kim@org.test", organization=org)
    made = [
        make_ticket(personas.mailbox_a, personas.customer, subject="Refund for order 7"),
        make_ticket(personas.mailbox_b, in_org, subject="Login broken", tags=["vip"]),
        make_ticket(personas.mailbox_a, personas.other_customer, subject="REFUNDS?"),
        make_ticket(personas.mailbox_b, personas.customer, kind=Kind.SERVICE),
    ]
    services.update_ticket(made[1], priority=Priority.URGENT, status=Status.OPEN)
    services.update_ticket(made[2], priority=Priority.LOW, status=Status.PENDING)
    services.update_ticket(made[3], priority=Priority.HIGH)
    Ticket.objects.filter(pk=made[0].pk).update(updated_at=timezone.now() - timedelta(hours=3))
    now = timezone.now()
    facts = {}
    for ticket in made:
        batch = engine._claim_new_events(ticket.pk)
        assert batch is not None
        loaded = Ticket.objects.select_related("customer").get(pk=ticket.pk)
        # The claim statement reads the same facts the ORM does.
        assert batch.ticket == automation.TicketFacts.of(loaded)
        facts[ticket.pk] = batch.ticket
    conditions = [
        *CONDITIONS_BOTH_WAYS,
        {"field": "mailbox", "op": "is", "value": [personas.mailbox_b.pk]},
        {"field": "organization", "op": "is_not", "value": org.pk},
    ]
    for condition in conditions:
        rule = rules._cached_rule(
            AutomationRule(id=1, name="r", trigger="scheduled", conditions=[condition])
        )
        in_python = {
            pk for pk, f in facts.items() if rule.matches(automation.Context(f, "scheduled", now))
        }
        in_sql = set(automation.rule_queryset(rule, now).values_list("pk", flat=True))
        assert in_python == in_sql, condition


@pytest.mark.django_db(transaction=True)
def test_the_claim_on_its_own_skips_the_flush_wait_for_itself_only(
    personas: Personas, no_builtin_rules: None
) -> None:
    rule = setup.save_rule(
        AutomationRule(
            name="Tag new",
            trigger="created",
            conditions=[],
            actions=[{"type": "add_tags", "value": ["new"]}],
        )
    )
    # No test transaction here: the after-commit hook runs the rules in autocommit, as in
    # production, so the claim statement carries its own asynchronous commit.
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    ticket.refresh_from_db()
    assert ticket.tags == ["new"]
    assert ticket.events.filter(data__rule_id=rule.pk).count() == 1
    cursor_at = RuleCursor.objects.get(ticket=ticket).last_event_id
    assert cursor_at == ticket.events.order_by("-id").values_list("id", flat=True)[0]
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
    assert automation.run_rules(ticket.pk) == []
