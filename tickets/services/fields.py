"""Custom field values: the one check of a `fields` map for a ticket, a customer or an
organization, whatever the door (ticket page, API, rule action, macro, import), and the
rule that a ticket is not solved while a field `required_to_solve` is empty.

A change names only the keys it changes: a value sets the key, an empty value (None, "",
[]) clears it, and keys it does not name stay as they were. Values are stored as JSON:
text and choice as strings, number as an int or float, date as "YYYY-MM-DD", multichoice
as a list of strings in the definition's order, checkbox as true or false.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext

from helpdesk.local_cache import VersionedCache
from tickets.models import (
    CHOICE_TYPES,
    ActorKind,
    AppliesTo,
    Customer,
    FieldDefinition,
    FieldType,
    Organization,
    Status,
    Ticket,
)
from tickets.services.policy import InvalidChange

TEXT_MAX_LENGTH = 1000
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class FieldErrors(InvalidChange):
    """Values the fields refuse: `errors` maps each key at fault to its message. The API
    answers it as 400 with errors.fields.<key>."""

    def __init__(self, errors: Mapping[str, str], summary: str = "") -> None:
        self.errors = dict(errors)
        super().__init__(
            summary or "; ".join(f"{key}: {message}" for key, message in self.errors.items()),
            field="fields",
        )


def _active_definitions() -> list[FieldDefinition]:
    return list(FieldDefinition.objects.filter(active=True).order_by("position", "key"))


# Every page that shows a ticket reads the definitions: held per process, reloaded after
# any change (`definitions_changed`, connected in tickets/apps.py), five minutes at most.
_held = VersionedCache("field-definitions", _active_definitions, max_age=300)


def definitions_changed(*args: Any, **kwargs: Any) -> None:
    """Receiver of FieldDefinition saves and deletes: the held definitions reload, now
    (for this transaction's own later reads) and after commit (for a process that
    reloaded in between and so read the rows of before the change)."""
    _held.bump()
    transaction.on_commit(_held.bump)


def definitions(applies_to: str) -> dict[str, FieldDefinition]:
    """The active fields of one kind of record, by key, in their display order."""
    return {d.key: d for d in _held.get() if d.applies_to == applies_to}


def is_empty(value: Any) -> bool:
    """An empty value clears a key; a required checkbox must be ticked."""
    return value is None or value is False or value == "" or value == []


def coerce(definition: FieldDefinition, value: Any) -> Any:
    """`value` as stored for `definition`, or ValueError saying what is wrong. Strings are
    read too (a form's, a query string's): "12" for a number, "true" for a checkbox."""
    kind = definition.type
    if kind == FieldType.TEXT:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError(gettext("Enter text."))
        text = str(value).strip()
        if len(text) > TEXT_MAX_LENGTH:
            raise ValueError(gettext("At most %(count)s characters.") % {"count": TEXT_MAX_LENGTH})
        return text
    if kind == FieldType.NUMBER:
        return _number(value)
    if kind == FieldType.DATE:
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value.isoformat()
        try:
            return datetime.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValueError(gettext("Enter a date as YYYY-MM-DD.")) from None
    if kind == FieldType.CHECKBOX:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(gettext("Enter true or false."))
    if kind == FieldType.CHOICE:
        if not isinstance(value, str) or value not in definition.choices:
            raise ValueError(
                gettext("Choose one of: %(choices)s.") % {"choices": ", ".join(definition.choices)}
            )
        return value
    if kind == FieldType.MULTICHOICE:
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(gettext("Enter a list of choices."))
        wrong = [v for v in values if v not in definition.choices]
        if wrong:
            raise ValueError(
                gettext("Not a choice: %(wrong)s. Choose from: %(choices)s.")
                % {"wrong": ", ".join(wrong), "choices": ", ".join(definition.choices)}
            )
        return [choice for choice in definition.choices if choice in values]
    raise ValueError(gettext("This field has an unknown type."))


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError(gettext("Enter a number."))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(gettext("Enter a number."))
        return value
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(gettext("Enter a number.")) from None
    if not number.is_finite():
        raise ValueError(gettext("Enter a number."))
    return int(number) if number == number.to_integral_value() else float(number)


def clean_fields(
    applies_to: str,
    current: Mapping[str, Any] | None,
    changes: Mapping[str, Any],
    *,
    known: Mapping[str, FieldDefinition] | None = None,
) -> dict[str, Any]:
    """The `fields` map after `changes` (only the keys they name), or FieldErrors naming
    every key at fault: a key no active field of `applies_to` has, or a wrong value."""
    if not isinstance(changes, Mapping):
        raise FieldErrors({"fields": "Give the fields as an object of key: value."})
    known = definitions(applies_to) if known is None else known
    result = dict(current or {})
    errors: dict[str, str] = {}
    for key, value in changes.items():
        definition = known.get(key)
        if definition is None:
            errors[key] = f"There is no {applies_to} field {key!r}."
            continue
        if is_empty(value) and value is not False:
            result.pop(key, None)
            continue
        try:
            result[key] = coerce(definition, value)
        except ValueError as wrong:
            errors[key] = str(wrong)
    if errors:
        raise FieldErrors(errors)
    return result


def missing_to_solve(
    values: Mapping[str, Any], known: Iterable[FieldDefinition] | None = None
) -> dict[str, str]:
    """The ticket fields `required_to_solve` that `values` leaves empty, with a message."""
    known = definitions(AppliesTo.TICKET).values() if known is None else known
    return {
        d.key: gettext("%(label)s is required to solve the ticket.") % {"label": d.label}
        for d in known
        if d.required_to_solve and is_empty(values.get(d.key))
    }


def check_solvable(values: Mapping[str, Any]) -> None:
    """FieldErrors if a ticket with these field values may not be solved yet."""
    known = definitions(AppliesTo.TICKET)
    missing = missing_to_solve(values, known.values())
    if missing:
        labels = ", ".join(known[key].label for key in missing)
        raise FieldErrors(
            missing, summary=gettext("Fill in before solving: %(labels)s.") % {"labels": labels}
        )


def check_ticket_fields(ticket: Ticket, changes: dict[str, Any], actor_kind: str) -> dict[str, Any]:
    """`changes` with their `fields` checked and merged into the ticket's, or FieldErrors.
    Solving (status to solved) needs every field `required_to_solve` filled, unless the
    change is history replayed by import or a customer's own "this is solved" (they
    cannot see or fill internal fields)."""
    checked = dict(changes)
    if "fields" in checked:
        checked["fields"] = clean_fields(AppliesTo.TICKET, ticket.fields, checked["fields"])
    status = checked.get("status")
    if (
        status == Status.SOLVED
        and status != ticket.status
        and actor_kind not in (ActorKind.IMPORT, ActorKind.CUSTOMER)
    ):
        check_solvable(checked.get("fields", ticket.fields))
    return checked


def changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return sorted(k for k in {*before, *after} if before.get(k) != after.get(k))


FILTER_PREFIX = "field."


def field_filters(params: Mapping[str, str]) -> Q:
    """The tickets whose fields match the `field.<key>=<value>` pairs of a query string
    (the API's list, the inbox): equal values, and for a multichoice field the tickets
    whose list contains the value. A `@>` on the ticket_fields index. FieldErrors (by
    `field.<key>`) for a key no active ticket field has or a value it cannot hold."""
    wanted = {
        name.removeprefix(FILTER_PREFIX): value
        for name, value in params.items()
        if name.startswith(FILTER_PREFIX)
    }
    if not wanted:
        return Q()
    known = definitions(AppliesTo.TICKET)
    condition = Q()
    errors: dict[str, str] = {}
    for key, raw in wanted.items():
        definition = known.get(key)
        if definition is None:
            errors[FILTER_PREFIX + key] = f"There is no ticket field {key!r}."
            continue
        try:
            if definition.type == FieldType.MULTICHOICE:
                value: Any = coerce(definition, [raw])
            else:
                value = coerce(definition, raw)
        except ValueError as wrong:
            errors[FILTER_PREFIX + key] = str(wrong)
            continue
        if definition.type == FieldType.CHECKBOX and value is False:
            condition &= ~Q(fields__contains={key: True})
        elif definition.type == FieldType.CHOICE:
            # The expression of its own index (services/field_indexes.py), not `@>`.
            condition &= Q(fields__has_key=key) & Q(**{f"fields__{key}": value})
        else:
            condition &= Q(fields__contains={key: value})
    if errors:
        raise FieldErrors(errors)
    return condition


def search_documents(text: str) -> list[dict[str, Any]]:
    """What a search for `text` finds among ticket field values: a `@>` document per field
    that could hold it exactly (an order number, a plan), each served by the ticket_fields
    index. Text is matched as typed, in upper and in lower case."""
    text = text.strip()
    if not text or len(text) > TEXT_MAX_LENGTH:
        return []
    documents: list[dict[str, Any]] = []
    for key, definition in definitions(AppliesTo.TICKET).items():
        if definition.type == FieldType.TEXT:
            documents += [
                {key: variant} for variant in dict.fromkeys((text, text.upper(), text.lower()))
            ]
            continue
        if definition.type in CHOICE_TYPES:
            wanted = text.casefold()
            for choice in definition.choices:
                if choice.casefold() == wanted:
                    value = choice if definition.type == FieldType.CHOICE else [choice]
                    documents.append({key: value})
            continue
        if definition.type in (FieldType.NUMBER, FieldType.DATE):
            try:
                documents.append({key: coerce(definition, text)})
            except ValueError:
                continue
    return documents


def definition_errors(
    *,
    key: str,
    type: str,
    applies_to: str,
    choices: list[str],
    required_to_solve: bool,
    pk: int | None = None,
) -> dict[str, str]:
    """What is wrong with a field definition (the API's, the admin's; `pk` of the one
    being edited), by attribute."""
    errors: dict[str, str] = {}
    if type in CHOICE_TYPES:
        if not choices:
            errors["choices"] = "A choice field needs at least one choice."
        elif len(set(choices)) != len(choices):
            errors["choices"] = "Each choice once."
        elif any(not choice.strip() for choice in choices):
            errors["choices"] = "A choice cannot be blank."
    elif choices:
        errors["choices"] = "Only choice and multichoice fields have choices."
    if required_to_solve and applies_to != AppliesTo.TICKET:
        errors["required_to_solve"] = "Only ticket fields can be required to solve."
    same_key = FieldDefinition.objects.filter(applies_to=applies_to, key=key)
    if pk is not None:
        same_key = same_key.exclude(pk=pk)
    if same_key.exists():
        errors["key"] = f"There already is a {applies_to} field {key!r}."
    return errors


@transaction.atomic
def set_fields(record: Customer | Organization, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change the named keys of a customer's or an organization's fields (a ticket's go
    through update_ticket, with its event); FieldErrors, changing nothing, if any is wrong."""
    applies_to = AppliesTo.CUSTOMER if isinstance(record, Customer) else AppliesTo.ORGANIZATION
    locked = type(record).objects.select_for_update().get(pk=record.pk)
    record.fields = clean_fields(applies_to, locked.fields, changes)
    if record.fields != locked.fields:
        type(record).objects.filter(pk=record.pk).update(fields=record.fields)
    return record.fields
