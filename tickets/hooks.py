"""The after-change registry: how the apps above the ticket core hear of its changes.

The core (models, services, selectors, access, the event log) imports nothing from
mail, workflow, metrics, kb or portal. Each of those registers, in its
`AppConfig.ready()`, the functions the core calls at the named moments below; the core
calls each hook and does not know who listens. No Django signals carry domain logic:
this module is the whole list of moments, and `docs/architecture.md` says who listens.

Receivers run in the order the apps are installed (INSTALLED_APPS), so figures are
marked stale before the workflow's rules run, as they always were.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.utils.safestring import SafeString

    from tickets.models import Customer, Message, Organization, Ticket, TicketEvent, User
    from tickets.profiles import TimelineEntry, TimelineQuery
    from tickets.services.events import Actor

log = logging.getLogger(__name__)


class _Receivers[F: Callable[..., object]]:
    """The receivers registered for one moment, in registration order."""

    kind = "Hook"

    def __init__(self, name: str) -> None:
        self.name = name
        self._receivers: list[F] = []

    def register(self, receiver: F) -> F:
        """Add a receiver (once: `ready()` can run twice in a test process)."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name}: {len(self._receivers)} receivers>"


class Hook[**P](_Receivers[Callable[P, object]]):
    """One moment of the core's life, with the receivers registered for it (what a
    receiver returns is not used)."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> None:
        for receiver in self._receivers:
            receiver(*args, **kwargs)


class Rewrite(_Receivers[Callable[["Message", str], str]]):
    """A moment where the apps may rewrite a text the core hands out: each receiver takes
    the message and the text and returns the text, in registration order."""

    kind = "Rewrite"

    def __call__(self, message: Message, text: str) -> str:
        for receiver in self._receivers:
            text = receiver(message, text)
        return text


class Collect[**P, T](_Receivers[Callable[P, list[T]]]):
    """A moment where the apps contribute items to a list the core builds: each
    receiver returns its items, concatenated in registration order."""

    kind = "Collect"

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> list[T]:
        return [item for receiver in self._receivers for item in receiver(*args, **kwargs)]


# After commit of any change to a ticket: metrics marks its figures stale, workflow runs
# rules, auto-assignment and SLA.
ticket_changed: Hook[[int]] = Hook("ticket_changed")
# The same for tickets committed together (a mail batch, `changes_in_bulk`): each
# receiver takes them in one go (one Redis round trip, a statement per rule pass).
tickets_changed: Hook[[list[int]]] = Hook("tickets_changed")
# Inside the transaction that stored events of tickets (`services.save_events`: every
# change but history import): webhooks write their deliveries in the same transaction.
events_recorded: Hook[[list[TicketEvent]]] = Hook("events_recorded")
# Inside the transaction that created customers (any door: mail, portal, API, agents):
# webhooks write their deliveries.
customers_created: Hook[[list[Customer]]] = Hook("customers_created")
# Inside the transaction that stored an outbound message: mail gives it its headers and
# sends it after commit.
message_queued: Hook[[Message]] = Hook("message_queued")
# Inside the transaction of an assignment: mail tells the new assignee.
ticket_assigned: Hook[[Ticket, User, User | None]] = Hook("ticket_assigned")
# Inside the transaction that stored an internal note: workflow tells @mentioned agents.
note_added: Hook[[Message]] = Hook("note_added")
# Inside the transaction that stored a customer's message on a ticket (by mail, in the
# portal or over the API; True when it opened a follow-up of a closed ticket): mail tells
# the agents of a reply, or acknowledges a follow-up opened by mail.
customer_wrote: Hook[[Message, bool]] = Hook("customer_wrote")
# Inside the transaction that changed a business calendar, or a mailbox's calendar:
# metrics re-measures the business-time figures of these mailboxes' tickets.
calendars_changed: Hook[[list[int]]] = Hook("calendars_changed")
# When the e-mail of an outbound message is built, for its text and its HTML (never
# stored): metrics puts the customer's own survey links in place of the placeholder links
# that the stored body, which agents and the portal show, carries.
outgoing_body: Rewrite = Rewrite("outgoing_body")
# When a customer's or an organization's timeline is read (tickets/profiles.py): metrics
# adds the survey answers the viewer may see, one query, at most `query.limit` of them.
timeline_entries: Collect[[TimelineQuery], TimelineEntry] = Collect("timeline_entries")
# A rule's "apply the routing suggestion" action (tickets.workflow): assist sets the
# fields its model predicts at or above the confidence given, and returns their names.
apply_routing: Collect[[Ticket, float, Actor], str] = Collect("apply_routing")
# When a page shows accounts beside their health (feedback's people who asked): the app
# that keeps health answers with (id, score 0-100) for the ids of that kind ("customer" or
# "organization") it has a score for. Until one registers, nobody answers and pages show "—".
account_health: Collect[[str, list[int]], tuple[int, int]] = Collect("account_health")
# When a customer's or an organization's page is drawn (tickets/profile_views.py): the
# apps above add panels to it (service: the account's health, its factors and trend).
account_panels: Collect[[User, Customer | Organization], SafeString] = Collect("account_panels")
