"""Erasing what people wrote and who they are, keeping tickets, events and figures.

`erase_ticket_content` is the one eraser of a ticket's content, for a customer's erasure
and for the retention policy alike: subjects, message bodies and subjects, sender names,
mail headers, delivery errors, attachments (rows now, files after commit), survey
comments, the stored raw mail and the JSON that webhook deliveries kept. Ticket rows,
their events (kinds, times, actors, statuses) and the figures derived from them stay, so
every metric answers the same.

`erase_customer` does that for the customer's tickets and messages, then removes the
person: their address wherever the desk kept it (Cc lists, other people's messages and
events on the tickets they were copied on, quarantined and raw mail), their name and
profile, their portal account's identity, and their answers' comments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from django.contrib.admin.models import LogEntry
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.db.models import Q, Value
from rest_framework.authtoken.models import Token

from audit import services as audit
from audit.models import AuditKind
from audit.services import Actor
from kb.models import ArticleFeedback, SearchQueryLog
from metrics.models import SurveyResponse
from portal.models import SignInLink
from tickets.mail.models import InboundEmail, QuarantinedEmail
from tickets.models import (
    Attachment,
    Customer,
    CustomerEmail,
    EventKind,
    Message,
    Notification,
    PastEmail,
    Ticket,
    TicketEvent,
    User,
)
from webhooks.models import WebhookDelivery, WebhookEvent

ERASED = "[erased]"
# Addresses that replace an erased person's (the columns are unique and not null).
ERASED_DOMAIN = "erased.invalid"


@dataclass
class Erased:
    tickets: int = 0
    messages: int = 0
    attachments: int = 0
    raw_mail: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _delete_files_on_commit(names: Iterable[str]) -> None:
    """Files go once the rows that name them are gone for good (a rollback keeps both)."""
    names = [name for name in names if name]

    def delete() -> None:
        for name in names:
            default_storage.delete(name)

    if names:
        transaction.on_commit(delete)


def _erase_messages(messages: models.QuerySet[Message], erased: Erased) -> None:
    attachments = Attachment.objects.filter(message__in=messages)
    files = list(attachments.values_list("file", flat=True))
    erased.attachments += attachments.delete()[0]
    _delete_files_on_commit(files)
    erased.messages += messages.update(
        subject=ERASED,
        body_text=ERASED,
        body_html="",
        from_name="",
        headers={},
        delivery_error="",
    )


def _delete_raw_mail(rows: models.QuerySet, erased: Erased) -> None:  # type: ignore[type-arg]
    files = list(rows.values_list("raw", flat=True))
    erased.raw_mail += rows.delete()[0]
    _delete_files_on_commit(files)


def erase_ticket_content(ticket_ids: list[int], erased: Erased | None = None) -> Erased:
    """Delete the content of these tickets, keeping the tickets, events and figures."""
    erased = erased or Erased()
    erased.tickets += Ticket.objects.filter(pk__in=ticket_ids).update(subject=ERASED)
    _erase_messages(Message.objects.filter(ticket_id__in=ticket_ids), erased)
    events = TicketEvent.objects.filter(ticket_id__in=ticket_ids)
    events.filter(kind=EventKind.SUBJECT).update(
        before=Value(ERASED, models.JSONField()), after=Value(ERASED, models.JSONField())
    )
    # A delivery error quotes the mail server, which quotes the recipient.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TicketEvent._meta.db_table} SET data = data || %s::jsonb"  # noqa: S608
            " WHERE ticket_id = ANY(%s) AND kind = %s AND data ? 'error'",
            ['{"error": ""}', ticket_ids, EventKind.DELIVERY],
        )
    SurveyResponse.objects.filter(ticket_id__in=ticket_ids).update(comment="")
    # In-app notices quote the messages ("New reply from <name>" and its text).
    Notification.objects.filter(ticket_id__in=ticket_ids).delete()
    _delete_raw_mail(InboundEmail.objects.filter(ticket_id__in=ticket_ids), erased)
    _delete_raw_mail(QuarantinedEmail.objects.filter(ticket_id__in=ticket_ids), erased)
    # A webhook delivery keeps the JSON it sent (the ticket, its messages): blanked, and a
    # delivery still owed builds it again, from the erased rows, on its next attempt.
    WebhookDelivery.objects.filter(ticket_id__in=ticket_ids).exclude(body="").update(body="")
    return erased


def _touched_tickets(address: str) -> list[int]:
    """Tickets where the address appears in a message's sender, To or Cc, or the
    ticket's Cc list: one pass over each table."""
    message_table = Message._meta.db_table
    ticket_table = Ticket._meta.db_table
    like = f"%{_like_escape(address)}%"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ticket_id FROM {message_table} WHERE lower(from_address) = %s"  # noqa: S608
            f' OR EXISTS (SELECT 1 FROM unnest("to" || cc) x WHERE x ILIKE %s)'
            f" UNION SELECT number FROM {ticket_table}"
            f" WHERE EXISTS (SELECT 1 FROM unnest(cc) x WHERE x ILIKE %s)",
            [address, like, like],
        )
        return [row[0] for row in cursor.fetchall()]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# A name shorter than this is not looked for in other people's text: "Li" would erase
# every "Li" of every message the customer was copied on.
NAME_MIN_LENGTH = 5


def _scrub_address(address: str, name: str, ticket_ids: list[int]) -> None:
    """The address (and a full name) out of these tickets' Cc lists, their messages'
    headers, To, Cc and text, and their events: replaced by [erased] where quoted,
    dropped from lists."""
    quoted = [address] + ([name] if len(name) >= NAME_MIN_LENGTH else [])
    pattern = "|".join(re.escape(text) for text in quoted)
    like = f"%{_like_escape(address)}%"
    message_table = Message._meta.db_table
    event_table = TicketEvent._meta.db_table
    ticket_table = Ticket._meta.db_table
    keep = "ARRAY(SELECT x FROM unnest({0}) x WHERE x NOT ILIKE %s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ticket_table} SET cc = {keep.format('cc')},"  # noqa: S608
            " subject = regexp_replace(subject, %s, %s, 'gi')"
            " WHERE number = ANY(%s) AND concat(array_to_string(cc, ' '), subject) ~* %s",
            [like, pattern, ERASED, ticket_ids, pattern],
        )
        text = ", ".join(
            f"{column} = regexp_replace({column}, %s, %s, 'gi')"
            for column in ("from_address", "subject", "body_text", "body_html")
        )
        cursor.execute(
            f"UPDATE {message_table} SET {text},"  # noqa: S608
            f' "to" = {keep.format('"to"')}, cc = {keep.format("cc")},'
            " headers = regexp_replace(headers::text, %s, %s, 'gi')::jsonb"
            " WHERE ticket_id = ANY(%s)",
            [*[pattern, ERASED] * 4, like, like, pattern, ERASED, ticket_ids],
        )
        json = ", ".join(
            f"{column} = regexp_replace({column}::text, %s, %s, 'gi')::jsonb"
            for column in ("before", "after", "data")
        )
        cursor.execute(
            f"UPDATE {event_table} SET {json} WHERE ticket_id = ANY(%s)"  # noqa: S608
            " AND concat(before::text, after::text, data::text) ~* %s",
            [*[pattern, ERASED] * 3, ticket_ids, pattern],
        )
        # What webhooks sent about these tickets (a Cc list, a message from the address)
        # and the changes a ticket.updated still owes.
        cursor.execute(
            f"UPDATE {WebhookDelivery._meta.db_table} SET body = '',"  # noqa: S608
            " changes = regexp_replace(changes::text, %s, %s, 'gi')::jsonb"
            " WHERE ticket_id = ANY(%s) AND concat(body, changes::text) ~* %s",
            [pattern, ERASED, ticket_ids, pattern],
        )
    Message.objects.filter(ticket_id__in=ticket_ids, from_address=ERASED).update(from_address="")


def _raw_mentions(name: str, address: bytes) -> bool:
    if not name:
        return False
    try:
        with default_storage.open(name, "rb") as raw:
            return address in raw.read().lower()
    except OSError:
        return False


def _erase_raw_mail(address: str, ticket_ids: list[int], erased: Erased) -> None:
    """Raw mail from or about the address: quarantined messages and stored webhook mail
    of the tickets it appears on or of no ticket yet."""
    needle = address.encode()
    held = [
        row.pk
        for row in QuarantinedEmail.objects.only("pk", "raw", "from_address")
        if address in row.from_address.lower() or _raw_mentions(row.raw.name or "", needle)
    ]
    _delete_raw_mail(QuarantinedEmail.objects.filter(pk__in=held), erased)
    stored = [
        row.pk
        for row in InboundEmail.objects.filter(
            Q(ticket_id__in=ticket_ids) | Q(ticket__isnull=True)
        ).only("pk", "raw")
        if _raw_mentions(row.raw.name or "", needle)
    ]
    _delete_raw_mail(InboundEmail.objects.filter(pk__in=stored), erased)


def _blank_profile(customer: Customer) -> None:
    """Every field of the customer's own row blanked (whatever fields it has, today's
    and future ones), its address replaced by one that names no one."""
    for field in Customer._meta.concrete_fields:
        if field.primary_key or field.is_relation or not field.editable:
            continue
        if isinstance(field, models.EmailField):
            setattr(customer, field.attname, f"erased-{customer.pk}@{ERASED_DOMAIN}")
        elif isinstance(field, models.CharField | models.TextField) and field.blank:
            setattr(customer, field.attname, "")
        elif isinstance(field, models.JSONField):
            setattr(customer, field.attname, field.get_default())
    customer.save()


def _erase_account(user: User) -> None:
    """The portal account of an erased customer: no name, no address, no way in. The row
    stays (events name it as their actor); update(), not save(), so that User.save does
    not keep the old address as a PastEmail."""
    User.objects.filter(pk=user.pk).update(
        username=f"erased-{user.pk}",
        email=f"erased-user-{user.pk}@{ERASED_DOMAIN}",
        first_name="",
        last_name="",
        password=make_password(None),  # unusable: no password signs in
        is_active=False,
    )
    user.refresh_from_db()
    PastEmail.objects.filter(user=user).delete()
    for token in Token.objects.filter(user=user):
        token.delete()
    SignInLink.objects.filter(customer__user=user).delete()
    ArticleFeedback.objects.filter(user=user).update(comment="")
    SearchQueryLog.objects.filter(user=user).update(user=None)
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
    ).update(object_repr=ERASED, change_message="")


@transaction.atomic
def erase_customer(customer: Customer, *, actor: Actor = None, actor_label: str = "") -> Erased:
    """Remove the person; their tickets, events and figures stay, anonymous."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    address = customer.email.strip().lower()
    theirs = list(Ticket.objects.filter(customer=customer).values_list("pk", flat=True))
    touched = sorted(set(theirs) | set(_touched_tickets(address)))
    erased = erase_ticket_content(theirs)
    _erase_messages(
        Message.objects.filter(ticket_id__in=touched, from_address__iexact=address), erased
    )
    _scrub_address(address, customer.name.strip(), touched)
    _erase_raw_mail(address, touched, erased)
    SurveyResponse.objects.filter(customer=customer).update(comment="")
    SignInLink.objects.filter(customer=customer).delete()
    WebhookDelivery.objects.filter(
        event=WebhookEvent.CUSTOMER_CREATED, object_id=customer.pk
    ).update(body="")
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id=str(customer.pk)
    ).update(object_repr=ERASED, change_message="")
    # Their other addresses go: kept, they would still name them (and route mail to the
    # blanked row).
    CustomerEmail.objects.filter(customer=customer).delete()
    _blank_profile(customer)
    if customer.user is not None:
        _erase_account(customer.user)
    audit.record_about_customer(
        AuditKind.ERASURE,
        "customer erased",
        customer,
        actor=actor,
        actor_label=actor_label,
        data={**erased.as_dict(), "tickets_touched": len(touched)},
    )
    return erased
