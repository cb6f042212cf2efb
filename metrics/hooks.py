"""How the ticket services tell the metrics workers that a ticket's figures are stale."""


def ticket_figures_stale(ticket_id: int) -> None:
    """Called after commit of any change to a ticket."""
