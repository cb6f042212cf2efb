"""The support dashboard by the value of a choice field (issue #17): tickets created,
first replies and resolutions per value of one ticket field, over the same window and
filters as the per-agent and per-team tables (aggregates' builders, grouped by
`field:<key>`), so the rows add up to the figures above them; the last row counts the
tickets with the field empty."""

from __future__ import annotations

from typing import Any

from metrics.aggregates import FIELD_GROUP, Window, grouped
from tickets import services
from tickets.models import CHOICE_TYPES, AppliesTo, FieldDefinition

EMPTY = "(empty)"


def choice_fields() -> list[FieldDefinition]:
    """The active ticket fields a dashboard can break down by: choice and multichoice."""
    return [d for d in services.definitions(AppliesTo.TICKET).values() if d.type in CHOICE_TYPES]


def field_table(definition: FieldDefinition, w: Window) -> list[dict[str, Any]]:
    """One row per value of `definition` (its choices in order, then values no longer a
    choice, then the empty row), each with the support dashboard's figures. A
    multichoice ticket counts under its list as a whole (e.g. "billing, api")."""
    group = FIELD_GROUP + definition.key
    created = grouped("tickets_created", w, group)
    frt = grouped("first_response", w, group)
    res = grouped("resolution", w, group)
    values = {*created, *frt, *res}
    order: list[str | None] = [c for c in definition.choices if c in values]
    order += sorted(v for v in values if v is not None and v not in order)
    if None in values:
        order.append(None)
    rows = []
    for value in order:
        f, r = frt.get(value, {}), res.get(value, {}).get("resolution", {})
        rows.append(
            {
                "name": _label(value),
                "created": created.get(value, {}).get("count", 0),
                "frt_count": f.get("count", 0),
                "frt_median": f.get("median_seconds"),
                "solved": r.get("count", 0),
                "resolution_median": r.get("median_seconds"),
            }
        )
    return rows


def _label(value: str | None) -> str:
    if value is None:
        return EMPTY
    if value.startswith("["):  # a multichoice list, as ->> gives it
        return value.strip("[]").replace('"', "")
    return value
