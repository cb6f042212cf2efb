"""The rule engine: ordering, no loops, scheduled rules on an injected clock, built-in rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import Personas
from tests.factories import make_customer, make_ticket
from tickets import services
from tickets.models import (
    ActorKind,
    Direction,
    EventKind,
    Kind,
    Organization,
    Priority,
    Status,
    Ticket,
)
from tickets.services import Actor
from tickets.workflow import automation, setup
from tickets.workflow.models import AutomationRule

pytestmark = pytest.mark.django_db


def make_rule(
    name: str, trigger: str, conditions: list[Any], actions: list[Any], **kw: Any
) -> AutomationRule:
    return setup.save_rule(
        AutomationRule(name=name, trigger=trigger, conditions=conditions, actions=actions, **kw)
    )


def test_rules_run_in_position_order_and_log_their_name(
    personas: Personas, no_builtin_rules: None, django_capture_on_commit_callbacks: Any
) -> None:
    make_rule(
        "Second",
        "created",
        [{"field": "subject", "op": "contains", "value": "refund"}],
        [{"type": "set_priority", "value": "urgent"}],
        position=20,
    )
    make_rule(
        "First",
        "created",
        [{"field": "subject", "op": "contains", "value": "refund"}],
        [{"type": "set_priority", "value": "high"}, {"type": "add_tags", "value": ["billing"]}],
        position=10,
    )
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(personas.mailbox_a, personas.customer, subject="Refund please")
    ticket.refresh_from_db()
    assert ticket.priority == Priority.URGENT
    assert ticket.tags == ["billing"]
    events = list(ticket.events.filter(kind=EventKind.PRIORITY).order_by("id"))
    assert [(e.after, e.actor_kind, e.data["rule"]) for e in events] == [
        ("high", ActorKind.RULE, "First"),
        ("urgent", ActorKind.RULE, "Second"),
    ]


def test_non_matching_rule_does_nothing(
    personas: Personas, no_builtin_rules: None, django_capture_on_commit_callbacks: Any
) -> None:
    make_rule(
        "Mailbox B only",
        "created",
        [{"field": "mailbox", "op": "is", "value": [personas.mailbox_b.pk]}],
        [{"type": "set_team", "value": personas.team_b.pk}],
    )
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(personas.mailbox_a, personas.customer)
    ticket.refresh_from_db()
    assert ticket.team is None
    assert not ticket.events.filter(actor_kind=ActorKind.RULE).exists()


def test_rules_never_loop(
    personas: Personas, no_builtin_rules: None, django_capture_on_commit_callbacks: Any
) -> None:
    # Two rules that undo each other on every update: each acts at most once per change.
    make_rule(
        "To high",
        "updated",
        [{"field": "priority", "op": "is", "value": "normal"}],
        [{"type": "set_priority", "value": "high"}],
        position=1,
    )
    make_rule(
        "To normal",
        "updated",
        [{"field": "priority", "op": "is", "value": "high"}],
        [{"type": "set_priority", "value": "normal"}],
        position=2,
    )
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(personas.mailbox_a, personas.customer)
    assert not ticket.events.filter(kind=EventKind.PRIORITY).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.update_ticket(ticket, actor=Actor.agent(personas.agent_a), status=Status.OPEN)
    priority_events = ticket.events.filter(kind=EventKind.PRIORITY)
    assert [e.data["rule"] for e in priority_events] == ["To high", "To normal"]


def test_a_rules_change_triggers_later_rules_but_not_itself(
    personas: Personas, no_builtin_rules: None, django_capture_on_commit_callbacks: Any
) -> None:
    make_rule(
        "Tag on urgent",
        "updated",
        [{"field": "priority", "op": "is", "value": "urgent"}],
        [{"type": "add_tags", "value": ["escalated"]}],
        position=1,
    )
    make_rule(
        "Urgent for VIPs",
        "created",
        [{"field": "customer", "op": "is", "value": ["li@customer.test"]}],
        [{"type": "set_priority", "value": "urgent"}],
        position=2,
    )
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(personas.mailbox_a, personas.customer)
    ticket.refresh_from_db()
    assert ticket.priority == Priority.URGENT
    assert ticket.tags == ["escalated"]


def test_imported_history_runs_no_rules(
    personas: Personas, no_builtin_rules: None, django_capture_on_commit_callbacks: Any
) -> None:
    make_rule("All", "created", [], [{"type": "set_priority", "value": "low"}])
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(personas.mailbox_a, personas.customer, actor=services.IMPORT)
    ticket.refresh_from_db()
    assert ticket.priority == Priority.NORMAL


def test_rules_evaluate_once_when_hooks_fire_twice(
    personas: Personas, no_builtin_rules: None
) -> None:
    make_rule("Note", "created", [], [{"type": "add_note", "value": "Welcome"}])
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    automation.run_rules(ticket.pk)
    automation.run_rules(ticket.pk)
    assert ticket.messages.filter(direction=Direction.NOTE).count() == 1


def test_scheduled_rule_with_injected_clock_acts_once(
    personas: Personas, no_builtin_rules: None, django_capture_on_commit_callbacks: Any
) -> None:
    make_rule(
        "Stale open",
        "scheduled",
        [
            {"field": "status", "op": "is", "value": "open"},
            {"field": "hours_since_update", "op": "more_than", "value": 48},
        ],
        [{"type": "add_tags", "value": ["stale"]}],
    )
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    services.update_ticket(ticket, status=Status.OPEN)
    now = timezone.now()
    assert automation.run_scheduled_rules(now=now + timedelta(hours=47)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert automation.run_scheduled_rules(now=now + timedelta(hours=49)) == 1
    ticket.refresh_from_db()
    assert ticket.tags == ["stale"]
    # The rule's own change made the ticket "recent" again; a rerun does not act twice.
    assert automation.run_scheduled_rules(now=now + timedelta(hours=50)) == 0


def test_builtin_pending_rule_solves_with_a_polite_note(
    personas: Personas, builtin_rules: None, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    services.reply(ticket, personas.agent_a, "Could you send a screenshot?", status_after="pending")
    now = timezone.now()
    assert automation.run_scheduled_rules(now=now + timedelta(days=4)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert automation.run_scheduled_rules(now=now + timedelta(days=6)) == 1
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED
    note = ticket.messages.order_by("-id").first()
    assert note.direction == Direction.OUTBOUND and note.automatic
    assert f"(#{ticket.pk})" in note.body_text and note.body_text.startswith("Hi Li,")
    solve = ticket.events.get(kind=EventKind.STATUS, after="solved")
    assert solve.actor_kind == ActorKind.RULE and solve.data["rule"].startswith("Pending 5 days")


def test_builtin_frustration_rule_flags_and_raises_priority(
    personas: Personas, builtin_rules: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        calm = make_ticket(
            personas.mailbox_a, personas.customer, body_text="Thanks, how do I export?"
        )
        angry = make_ticket(
            personas.mailbox_a,
            personas.other_customer,
            body_text="This is terrible and useless. I am furious, worst service ever!",
        )
    calm.refresh_from_db()
    angry.refresh_from_db()
    assert (calm.priority, calm.tags) == (Priority.NORMAL, [])
    assert (angry.priority, angry.tags) == (Priority.HIGH, ["frustrated"])
    # A later customer message in an angry tone flags a calm ticket too.
    with django_capture_on_commit_callbacks(execute=True):
        services.add_message(
            calm, direction=Direction.INBOUND, body_text="Still broken. This is awful, I hate it."
        )
    calm.refresh_from_db()
    assert (calm.priority, calm.tags) == (Priority.HIGH, ["frustrated"])


def test_builtin_follow_up_after_three_support_tickets(
    personas: Personas,
    builtin_rules: None,
    django_capture_on_commit_callbacks: Any,
    eager_tasks: None,
    mailoutbox: Any,
) -> None:
    org = Organization.objects.create(name="Customer Ltd", success_contact=personas.agent_a)
    customer = make_customer("kim@customer.test", organization=org, name="Kim Lee")
    for _ in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            make_ticket(personas.mailbox_a, customer)
    follow_ups = Ticket.objects.filter(customer=customer, kind=Kind.SERVICE)
    assert follow_ups.count() == 1
    follow_up = follow_ups.get()
    assert follow_up.assignee == personas.agent_a
    assert "3 support tickets" in follow_up.subject
    assert follow_up.messages.get().direction == Direction.NOTE
    assert [m.to for m in mailoutbox] == [["agent.a@staff.test"]]


def test_validation_explains_problems() -> None:
    errors = automation.validate_rule(
        "scheduled",
        [{"field": "sentiment", "op": "below", "value": "x"}, {"field": "nope"}],
        [{"type": "set_priority"}],
    )
    assert any("needs a number" in e for e in errors)
    assert any("only works when a ticket changes" in e for e in errors)
    assert any("choose what to check" in e for e in errors)
    assert any("needs a value" in e for e in errors)
    assert (
        automation.validate_rule(
            "created",
            [{"field": "tag", "op": "has", "value": "vip"}],
            [{"type": "set_priority", "value": "high"}],
        )
        == []
    )


def test_a_failing_workflow_step_does_not_break_the_change(
    personas: Personas,
    no_builtin_rules: None,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tickets.workflow import sla

    def broken(ticket: Ticket) -> bool:
        raise RuntimeError("policy table unreachable")

    monkeypatch.setattr(sla, "refresh_due_times", broken)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(personas.mailbox_a, personas.customer)
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    assert "policy table unreachable" in caplog.text


def test_survey_answer_committed_with_imported_history_runs_no_rules(
    personas: Personas, no_builtin_rules: None, django_capture_on_commit_callbacks: Any
) -> None:
    """History import saves a customer's old survey answer in the ticket's transaction;
    live, an answer fires no hook at all, so neither may it here."""
    from metrics.surveys import SurveyLink, record_answers

    make_rule("All", "created", [], [{"type": "set_priority", "value": "low"}])
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(personas.mailbox_a, personas.customer, actor=services.IMPORT)
        record_answers(SurveyLink("csat", personas.customer, ticket), {"csat": 5})
    ticket.refresh_from_db()
    assert ticket.priority == Priority.NORMAL
    assert not ticket.events.filter(actor_kind=ActorKind.RULE).exists()
