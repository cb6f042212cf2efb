"""Saving custom field definitions: the settings page, the API and the admin reach the
same rules here (`definition_errors`) and each change is written to the audit log.

A definition's key, type and kind of record are fixed once it exists: values stored
under the key were checked against that type. To change them, archive the field and
define a new one; archiving keeps every stored value (a field made active again finds
them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import current_app
from django.db import transaction

from audit import services as audit
from audit.models import AuditKind
from helpdesk.celery import enqueue_on_commit
from tickets.models import AppliesTo, FieldDefinition, FieldType
from tickets.services import field_indexes
from tickets.services.fields import FieldErrors, definition_errors

FIXED = ("key", "type", "applies_to")


@transaction.atomic
def save_definition(definition: FieldDefinition, *, actor: Any = None) -> FieldDefinition:
    """Create or update a definition; FieldErrors (by attribute) saving nothing if the
    rules refuse it. A new one goes after the last of its kind."""
    errors = definition_errors(
        key=definition.key,
        type=definition.type,
        applies_to=definition.applies_to,
        choices=list(definition.choices),
        required_to_solve=definition.required_to_solve,
        pk=definition.pk,
    )
    before = audit.stored_snapshot(FieldDefinition, definition.pk)
    if before is not None:
        for name in FIXED:
            if before[name] != getattr(definition, name):
                errors[name] = (
                    "Cannot be changed once the field exists: archive it and define a new one."
                )
    if errors:
        raise FieldErrors(errors, summary="Please correct the field definition.")
    if definition.pk is None and not definition.position:
        last = (
            FieldDefinition.objects.filter(applies_to=definition.applies_to)
            .order_by("-position")
            .values_list("position", flat=True)
            .first()
        )
        definition.position = (last or 0) + 1
    definition.save()
    audit.record_saved(AuditKind.SETTINGS, definition, before)
    _index_later(definition)
    return definition


def _index_later(definition: FieldDefinition) -> None:
    """A ticket choice field's index (tickets/services/field_indexes.py), built by a task
    after commit; named, not imported, so that the services do not import the tasks."""
    if (
        definition.applies_to == AppliesTo.TICKET
        and definition.type == FieldType.CHOICE
        and definition.active
    ):
        task = current_app.signature(field_indexes.TASK)
        enqueue_on_commit(task, definition.key)  # type: ignore[arg-type]


@transaction.atomic
def set_active(definition: FieldDefinition, active: bool, *, actor: Any = None) -> None:
    """Archive a field (hidden from every form, filter and rule; its values kept) or
    bring it back."""
    before = audit.stored_snapshot(FieldDefinition, definition.pk)
    definition.active = active
    definition.save(update_fields=["active"])
    audit.record_change(
        AuditKind.SETTINGS, definition, before, audit.snapshot(definition), actor=actor
    )
    _index_later(definition)


@transaction.atomic
def move_definition(definition: FieldDefinition, step: int, *, actor: Any = None) -> None:
    """Move a field one place up (`step` -1) or down (+1) among its kind's fields; the
    positions of that kind are renumbered 1, 2, 3... in the new order."""
    siblings = list(
        FieldDefinition.objects.select_for_update()
        .filter(applies_to=definition.applies_to)
        .order_by("position", "key")
    )
    order = [d.pk for d in siblings]
    index = order.index(definition.pk)
    target = min(max(index + step, 0), len(order) - 1)
    order.insert(target, order.pop(index))
    _renumber(siblings, order, actor=actor)


def _renumber(siblings: Sequence[FieldDefinition], order: list[int], *, actor: Any) -> None:
    by_pk = {d.pk: d for d in siblings}
    for position, pk in enumerate(order, start=1):
        row = by_pk[pk]
        if row.position != position:
            before = audit.snapshot(row)
            row.position = position
            row.save(update_fields=["position"])
            audit.record_change(AuditKind.SETTINGS, row, before, audit.snapshot(row), actor=actor)
