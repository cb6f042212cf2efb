"""In-app notifications: what the bell in the top bar counts and lists, and marking them
read. tickets.notify writes them; every read here goes through the visibility filter
again, so a notice about a ticket the agent may no longer open (they left its team) is
neither counted nor shown."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django.utils import timezone

from tickets.models import Notification, Ticket, User

UNREAD_CAP = 99  # the badge says "99+" above this: the COUNT reads at most this many rows
LIST_SIZE = 20


def _visible(user: User) -> QuerySet[Notification]:
    may_open = Ticket.objects.visible_to(user).filter(pk=OuterRef("ticket_id"))
    return Notification.objects.filter(recipient=user).filter(Exists(may_open))


def unread_count(user: User) -> int:
    """The bell's number, polled every 15 s: one capped COUNT on notification_unread."""
    return _visible(user).filter(read_at__isnull=True)[: UNREAD_CAP + 1].count()


def recent(user: User, limit: int = LIST_SIZE) -> list[Notification]:
    """The newest notices, read or not, with their ticket's subject: one query."""
    rows = (
        _visible(user)
        .select_related("ticket")
        .only("kind", "headline", "text", "created_at", "read_at", "ticket__subject")
    )
    return list(rows.order_by("-created_at", "-pk")[:limit])


def open_notification(user: User, notification_id: int) -> Notification:
    """The notice (404 if it is not theirs to see), marked read."""
    notification = _visible(user).filter(pk=notification_id).first()
    if notification is None:
        raise Http404("No such notification")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(user: User) -> int:
    """Every unread notice of theirs marked read; how many."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
