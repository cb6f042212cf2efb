"""helpdesk.instances.unsaved builds what `Model(**values)` builds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db.models import Model
from django.db.models.signals import post_init

from helpdesk.instances import unsaved
from metrics.models import SurveyResponse
from tickets.models import Customer, Mailbox, Message, Team, Ticket, TicketEvent, User

AT = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)


def state(instance: Model) -> dict[str, Any]:
    """Everything an unsaved instance holds: field values, relation caches, its state."""
    values = {k: v for k, v in vars(instance).items() if k != "_state"}
    return {
        "values": values,
        "cached": dict(instance._state.fields_cache),
        "adding": instance._state.adding,
        "db": instance._state.db,
    }


def related() -> dict[str, Model]:
    # Fresh objects each time: setting a relation also sets the related object's database.
    mailbox, customer = Mailbox(id=3, address="a@acme.test"), Customer(id=4, email="c@x.test")
    ticket = Ticket(number=7, mailbox=mailbox, customer=customer)
    return {
        "mailbox": mailbox,
        "customer": customer,
        "ticket": ticket,
        "team": Team(id=5, name="Tier 1"),
        "agent": User(id=6, email="ana@acme.test"),
        "message": Message(id=8, ticket=ticket),
    }


CASES: list[tuple[type[Model], Any]] = [
    (
        Ticket,
        lambda r: {
            "subject": "Invoice",
            "mailbox": r["mailbox"],
            "customer": r["customer"],
            "channel": "import",
            "kind": "support",
            "priority": "normal",
            "tags": ["billing"],
            "team": r["team"],
            "created_at": AT,
            "updated_at": AT,
            "external_id": "T-1",
            "linked_from": None,
        },
    ),
    (
        Ticket,
        lambda r: {"mailbox_id": 3, "customer": r["customer"], "created_at": AT, "updated_at": AT},
    ),
    (
        Message,
        lambda r: {
            "ticket": r["ticket"],
            "direction": "outbound",
            "body_text": "Hi",
            "author": r["agent"],
            "created_at": AT,
            "external_id": "1",
            "headers": {"x": "y"},
        },
    ),
    (Message, lambda r: {"ticket": r["ticket"], "author": None, "created_at": AT, "headers": {}}),
    (
        TicketEvent,
        lambda r: {
            "ticket": r["ticket"],
            "kind": "message",
            "at": AT,
            "actor": r["agent"],
            "actor_kind": "import",
            "before": None,
            "after": "outbound",
            "message": r["message"],
            "data": {"automatic": False},
        },
    ),
    (TicketEvent, lambda r: {"ticket_id": 7, "kind": "status", "at": AT, "data": {}}),
    (
        SurveyResponse,
        lambda r: {
            "ticket": r["ticket"],
            "kind": "csat",
            "score": 4,
            "customer": r["customer"],
            "submitted_at": AT,
            "assignee_id": None,
        },
    ),
]


@pytest.mark.parametrize(("model", "values"), CASES)
def test_unsaved_builds_what_the_model_builds(model: type[Model], values: Any) -> None:
    usual_related, fast_related = related(), related()
    usual = model(**values(usual_related))
    fast = unsaved(model)(**values(fast_related))
    assert type(fast) is model
    assert state(fast) == state(usual)
    # The related objects were touched the same way (their database is set).
    assert [o._state.db for o in fast_related.values()] == [
        o._state.db for o in usual_related.values()
    ]


def test_callable_defaults_are_called_per_instance() -> None:
    build = unsaved(TicketEvent)
    one, two = build(ticket_id=1, kind="status"), build(ticket_id=1, kind="status")
    assert one.data == {} and one.data is not two.data
    assert one.at is not None and one.pk is None and one.actor_kind == "system"


def test_unsaved_refuses_what_the_model_refuses() -> None:
    with pytest.raises(TypeError, match="unexpected"):
        unsaved(TicketEvent)(ticket_id=1, colour="red")
    with pytest.raises(ValueError, match="must be a Ticket instance"):
        unsaved(TicketEvent)(ticket=Customer(id=1))


def test_a_model_with_init_receivers_is_built_the_usual_way() -> None:
    seen: list[Model] = []

    def receiver(sender: type[Model], instance: Model, **kwargs: Any) -> None:
        seen.append(instance)

    post_init.connect(receiver, sender=TicketEvent)
    try:
        event = unsaved(TicketEvent)(ticket_id=1, kind="status", at=AT)
    finally:
        post_init.disconnect(receiver, sender=TicketEvent)
    assert seen == [event]
