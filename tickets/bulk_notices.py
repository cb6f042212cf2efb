"""The notices of a bulk change in the inbox (tickets.views.bulk): how many tickets it
changed, and why the rules left others as they were, in the agent's language."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tickets import services


def refused(field: str | None, count: int, data: dict[str, Any]) -> str:
    """Why the rules left `count` tickets of a bulk change as they were."""
    values = {"count": count, "tickets": tickets(count)}
    if field == "role":
        return _("%(tickets)s: %(why)s") % {**values, "why": services.LIGHT_AGENT_REFUSAL}
    if field == "status":
        why = ngettext(
            "%(count)s closed ticket, which cannot be reopened",
            "%(count)s closed tickets, which cannot be reopened",
            count,
        )
    elif field == "assignee":
        values["name"] = data["assignee_user"].display_name
        why = ngettext(
            "%(count)s ticket in mailboxes %(name)s does not work in",
            "%(count)s tickets in mailboxes %(name)s does not work in",
            count,
        )
    elif field == "tags":
        values["max"] = services.MAX_TAGS
        why = ngettext(
            "%(count)s ticket, which would carry more than %(max)s tags",
            "%(count)s tickets, which would carry more than %(max)s tags",
            count,
        )
    elif field == "fields":
        why = ngettext(
            "%(count)s ticket with a field required to solve still empty",
            "%(count)s tickets with a field required to solve still empty",
            count,
        )
    else:
        why = ngettext(
            "%(count)s ticket the change does not apply to",
            "%(count)s tickets the change does not apply to",
            count,
        )
    return why % values


def tickets(count: int) -> str:
    """ "1 ticket", "3 tickets"."""
    return ngettext("%(count)s ticket", "%(count)s tickets", count) % {"count": count}
