"""How assist plugs into the ticket core: a rule's "apply the routing suggestion" action
(tickets.workflow) reaches it through the `apply_routing` hook."""

from __future__ import annotations

from tickets import hooks
from tickets.models import Ticket
from tickets.services import Actor


def _apply_routing(ticket: Ticket, threshold: float, actor: Actor) -> list[str]:
    from assist.services import apply_confident

    return apply_confident(ticket, threshold, actor)


def register() -> None:
    hooks.apply_routing.register(_apply_routing)
