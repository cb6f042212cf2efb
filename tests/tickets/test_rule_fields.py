"""Custom fields in automation rules: conditions `field.<key>` (is, contains, more than,
has, is empty) checked the same way on a change (Python) and on a schedule (SQL), and the
action "set field" going through update_ticket; values read by the one fields service,
through the rule builder and validate_rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import Personas
from tests.console.conftest import signed_in
from tests.factories import make_ticket
from tickets import services
from tickets.models import AppliesTo, EventKind, FieldDefinition, FieldType, Status, Ticket
from tickets.workflow import automation, setup
from tickets.workflow.models import AutomationRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def defined(db: None) -> None:
    for key, kind, choices in (
        ("order_number", FieldType.TEXT, []),
        ("plan", FieldType.CHOICE, ["free", "pro"]),
        ("seats", FieldType.NUMBER, []),
        ("areas", FieldType.MULTICHOICE, ["billing", "api"]),
        ("vip", FieldType.CHECKBOX, []),
        ("escalation", FieldType.CHOICE, ["none", "tier2"]),
    ):
        services.save_definition(
            FieldDefinition(
                key=key, label=key.title(), type=kind, applies_to=AppliesTo.TICKET, choices=choices
            )
        )


def rule(trigger: str, conditions: list[Any], actions: list[Any]) -> AutomationRule:
    problems = automation.validate_rule(trigger, conditions, actions)
    assert problems == []
    return setup.save_rule(
        AutomationRule(name="R", trigger=trigger, conditions=conditions, actions=actions)
    )


CASES = [
    ({"field": "field.plan", "op": "is", "value": "pro"}, True),
    ({"field": "field.plan", "op": "is_not", "value": "pro"}, False),
    ({"field": "field.order_number", "op": "contains", "value": "a-10"}, True),
    ({"field": "field.order_number", "op": "not_contains", "value": "a-10"}, False),
    ({"field": "field.seats", "op": "more_than", "value": 10}, True),
    ({"field": "field.seats", "op": "less_than", "value": 10}, False),
    ({"field": "field.areas", "op": "has", "value": "api"}, True),
    ({"field": "field.areas", "op": "has_not", "value": "api"}, False),
    ({"field": "field.vip", "op": "is", "value": True}, True),
    ({"field": "field.escalation", "op": "is_empty"}, True),
    ({"field": "field.plan", "op": "is_set"}, True),
]


@pytest.mark.parametrize(("condition", "matches"), CASES)
def test_conditions_agree_on_a_change_and_on_a_schedule(
    personas: Personas, defined: None, no_builtin_rules: None, condition, matches
) -> None:
    values = {"order_number": "A-1001", "plan": "pro", "seats": 12, "areas": ["api"], "vip": True}
    ticket = make_ticket(personas.mailbox_a, personas.customer, fields=values)
    loaded = Ticket.objects.select_related("customer").get(pk=ticket.pk)
    ctx = automation.Context(automation.TicketFacts.of(loaded), "updated", timezone.now())
    assert automation.compile_conditions("all", [condition])(ctx) is matches
    cached = automation.CachedRule(
        id=1,
        name="R",
        trigger="scheduled",
        match="all",
        conditions=(condition,),
        actions=(),
        matches=lambda ctx: True,
    )
    selected = automation.rule_queryset(cached, timezone.now()).filter(pk=ticket.pk).exists()
    assert selected is matches


def test_a_rule_sets_a_field_when_another_matches(
    personas: Personas, defined: None, no_builtin_rules: None, django_capture_on_commit_callbacks
) -> None:
    rule(
        "changed",
        [{"field": "field.plan", "op": "is", "value": "pro"}],
        [{"type": "set_field.escalation", "value": "tier2"}],
    )
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_ticket(
            ticket, actor=services.Actor.agent(personas.agent_a), fields={"plan": "pro"}
        )
    ticket.refresh_from_db()
    assert ticket.fields == {"plan": "pro", "escalation": "tier2"}
    event = ticket.events.filter(kind=EventKind.FIELDS).last()
    assert event.actor_kind == "rule" and event.after == {"escalation": "tier2"}


def test_a_scheduled_rule_selects_by_field(
    personas: Personas, defined: None, no_builtin_rules: None, django_capture_on_commit_callbacks
) -> None:
    rule(
        "scheduled",
        [
            {"field": "status", "op": "is", "value": "open"},
            {"field": "field.seats", "op": "more_than", "value": 100},
        ],
        [{"type": "add_tags", "value": ["big"]}],
    )
    big = make_ticket(personas.mailbox_a, personas.customer, fields={"seats": 250})
    small = make_ticket(personas.mailbox_a, personas.customer, fields={"seats": 5})
    for ticket in (big, small):
        services.update_ticket(ticket, status=Status.OPEN)
    with django_capture_on_commit_callbacks(execute=True):
        assert automation.run_scheduled_rules(now=timezone.now() + timedelta(minutes=1)) == 1
    big.refresh_from_db()
    small.refresh_from_db()
    assert (big.tags, small.tags) == (["big"], [])


@pytest.mark.parametrize(
    ("conditions", "actions", "message"),
    [
        ([{"field": "field.plan", "op": "is", "value": "gold"}], [], "Choose one of: free, pro"),
        ([{"field": "field.plan", "op": "more_than", "value": "pro"}], [], "cannot use that"),
        ([{"field": "field.gone", "op": "is", "value": "x"}], [], "no longer in use"),
        ([], [{"type": "set_field.seats", "value": "many"}], "Enter a number"),
        ([], [{"type": "set_field.gone", "value": "x"}], "no longer in use"),
    ],
)
def test_rules_refuse_values_the_field_cannot_hold(defined: None, conditions, actions, message):
    actions = actions or [{"type": "add_tags", "value": ["x"]}]
    problems = automation.validate_rule("updated", conditions, actions)
    assert any(message in p for p in problems), problems


def test_the_rule_builder_offers_fields_and_parses_their_values(
    personas: Personas, defined: None
) -> None:
    admin = signed_in(personas.admin)
    response = admin.get(reverse("tickets:rule-new"))
    assert response.status_code == 200, response
    page = response.content.decode()
    assert 'value="field.plan"' in page and 'value="set_field.escalation"' in page
    data = {
        "name": "Escalate pro",
        "trigger": "updated",
        "match": "all",
        "is_active": "on",
        "position": "5",
        "c-TOTAL_FORMS": "1",
        "c-INITIAL_FORMS": "0",
        "c-0-field": "field.seats",
        "c-0-op": "more_than",
        "c-0-value": "10",
        "a-TOTAL_FORMS": "1",
        "a-INITIAL_FORMS": "0",
        "a-0-type": "set_field.escalation",
        "a-0-value": "tier2",
    }
    assert admin.post(reverse("tickets:rule-new"), data).status_code == 302
    saved = AutomationRule.objects.get(name="Escalate pro")
    assert saved.conditions == [{"field": "field.seats", "op": "more_than", "value": 10}]
    assert saved.actions == [{"type": "set_field.escalation", "value": "tier2"}]
    listing = admin.get(reverse("tickets:rules")).content.decode()
    assert "Field Seats more than 10" in listing and "Set field Escalation" in listing
    data["name"], data["a-0-value"] = "Broken", "tier9"
    response = admin.post(reverse("tickets:rule-new"), data)
    assert response.status_code == 422
    assert "Choose one of: none, tier2" in response.content.decode()
