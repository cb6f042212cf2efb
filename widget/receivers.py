"""The widget listens to the ticket core: a changed ticket wakes the streams following it."""

from tickets import hooks
from widget import services


def _one(ticket_id: int) -> None:
    services.nudge([ticket_id])


def register() -> None:
    hooks.ticket_changed.register(_one)
    hooks.tickets_changed.register(services.nudge)
