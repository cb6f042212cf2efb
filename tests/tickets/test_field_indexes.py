"""The index of a ticket choice field (tickets/services/field_indexes.py): queued when the
field is saved, built outside a transaction, and the one the inbox filter's SQL matches."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from tickets import services
from tickets.models import AppliesTo, FieldDefinition, FieldType, Ticket
from tickets.services import field_indexes


def define(key: str, kind: str = FieldType.CHOICE) -> FieldDefinition:
    return services.save_definition(
        FieldDefinition(
            key=key,
            label=key.title(),
            type=kind,
            applies_to=AppliesTo.TICKET,
            choices=["free", "pro"] if kind == FieldType.CHOICE else [],
        )
    )


def indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'tickets_ticket'")
        return {row[0] for row in cursor.fetchall() if row[0].startswith("ticket_field_")}


@pytest.mark.django_db
def test_saving_a_choice_field_queues_its_index(
    monkeypatch, django_capture_on_commit_callbacks
) -> None:
    queued: list[Any] = []
    monkeypatch.setattr(
        "helpdesk.celery.enqueue", lambda task, *args, **kw: queued.append((task.task, args))
    )
    with django_capture_on_commit_callbacks(execute=True):
        define("plan")
        define("order_number", FieldType.TEXT)
    assert queued == [(field_indexes.TASK, ("plan",))]


@pytest.mark.django_db(transaction=True)
def test_the_index_is_built_once_and_serves_the_filter() -> None:
    with connection.cursor() as cursor:  # a test database kept from an earlier run
        cursor.execute("DROP INDEX IF EXISTS ticket_field_plan")
    define("plan")
    define("notes", FieldType.TEXT)
    assert field_indexes.ensure_field_index("plan") is True
    assert field_indexes.ensure_field_index("plan") is False
    assert field_indexes.ensure_field_index("notes") is False
    assert indexes() == {"ticket_field_plan"}
    call_command("field_indexes", stdout=open("/dev/null", "w"))  # noqa: SIM115
    # The filter's SQL is the index's expression and predicate (the bench shows the plan).
    query = Ticket.objects.filter(services.field_filters({"field.plan": "pro"}))
    sql, params = query.query.sql_with_params()
    assert '"tickets_ticket"."fields" ? %s' in sql
    assert '("tickets_ticket"."fields" -> %s) = %s' in sql
    assert "plan" in params


def test_only_a_slug_is_written_into_the_sql() -> None:
    with pytest.raises(ValueError, match="not a field key"):
        field_indexes.index_sql("plan'; DROP TABLE x; --")
    assert field_indexes.index_name("order-type") == "ticket_field_order_type"
