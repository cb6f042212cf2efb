"""The conversation of a ticket: messages (inbound, outbound, notes) and attachments."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tickets.models.people import User

if TYPE_CHECKING:
    from tickets.models.tickets import Ticket


# The longest message body a form or the API takes (characters).
BODY_MAX = 100_000


class Direction(models.TextChoices):
    INBOUND = "inbound", _("From customer")
    OUTBOUND = "outbound", pgettext_lazy("a message", "Reply")
    NOTE = "note", _("Internal note")


class DeliveryStatus(models.TextChoices):
    NONE = "", _("Not sent by mail")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    UNDELIVERED = "undelivered", _("Bounced")


# Sender check results that say the mail is not from whom its From names (SPF's softfail
# is "probably not"); "none", "neutral" and the errors say nothing either way.
SENDER_CHECK_FAILURES = {
    "SPF": frozenset({"fail", "softfail"}),
    "DKIM": frozenset({"fail"}),
    "DMARC": frozenset({"fail"}),
}


class MessageQuerySet(models.QuerySet["Message"]):
    def with_attachments(self) -> list[Message]:
        """The messages, each with its attachments (`message.attachments.all()`, by id)
        read in the same statement: one query, where prefetch_related takes two."""
        return attach_rows(list(self.with_attachment_rows()), self.db)

    def with_attachment_rows(self) -> MessageQuerySet:
        """The messages with their attachments' rows as `attachment_rows`, for
        `attach_rows`. Raw SQL because the ORM's ArraySubquery of a JSONObject cost more
        CPU to build than the second query it saves; the outer table must be
        tickets_message itself, unaliased."""
        columns = ", ".join(f'a."{f.column}"' for f in Attachment._meta.concrete_fields)
        rows = RawSQL(  # noqa: S611 (names from the models' own metadata, no values)
            f'ARRAY(SELECT json_build_array({columns}) FROM "{Attachment._meta.db_table}" a'  # noqa: S608
            f' WHERE a."message_id" = "{Message._meta.db_table}"."id" ORDER BY a."id")',
            [],
            # No conversion: psycopg already reads a json[] as lists of values.
            output_field=models.Field(),
        )
        return self.annotate(attachment_rows=rows)


def _attachment_fields() -> list[str]:
    return [f.attname for f in Attachment._meta.concrete_fields]


def attach_rows(messages: list[Message], db: str) -> list[Message]:
    """Each message's `attachment_rows` (MessageQuerySet.with_attachment_rows) made into
    what prefetch_related leaves behind: `message.attachments.all()` answers from it."""
    fields = _attachment_fields()
    for message in messages:
        found = message.attachments.all()
        found._result_cache = [
            Attachment.from_db(db, fields, row)
            for row in message.attachment_rows  # type: ignore[attr-defined]
        ]
        found._prefetch_done = True  # type: ignore[attr-defined]  # django-stubs: private
        message._prefetched_objects_cache = {"attachments": found}  # type: ignore[attr-defined]
        del message.attachment_rows  # type: ignore[attr-defined]
    return messages


class Message(models.Model):
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=16, choices=Direction.choices)
    author = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    from_address = models.EmailField(blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to = ArrayField(models.CharField(max_length=320), default=list, blank=True)
    cc = ArrayField(models.CharField(max_length=320), default=list, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True, help_text="Sanitized HTML, safe to render.")
    automatic = models.BooleanField(
        default=False,
        help_text="Auto-acknowledgements, survey mails, reminders: not agent replies.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    # Email threading: Message-ID without angle brackets, and what it replied to.
    message_id = models.CharField(max_length=998, blank=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    # What makes an ingested message "the same" on a second delivery (Message-ID per
    # mailbox, or a content hash); the unique constraint turns retries into no-ops.
    dedupe_key = models.CharField(max_length=128, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    # Inbound mail: what our receiving server found when it checked the sender
    # (Authentication-Results, tickets/mail/sender_auth.py): "pass", "fail", "softfail",
    # "none"...; blank when it reported nothing.
    spf_result = models.CharField(max_length=16, blank=True)
    dkim_result = models.CharField(max_length=16, blank=True)
    dmarc_result = models.CharField(max_length=16, blank=True)

    delivery_status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.NONE, blank=True
    )
    delivery_error = models.TextField(blank=True)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When a worker claimed the send; the sweeper finds sends stuck in "sending".
    sending_since = models.DateTimeField(null=True, blank=True)
    # When a queued message is due to be sent (again): the send queue is this column, not
    # the broker. A lost task, a broker outage or a mail server down for days leaves the
    # row queued, and mail_out.send_due sends it when it is due (tickets/mail/sending.py).
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    search_vector = models.GeneratedField(
        expression=SearchVector("body_text", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The conversation, oldest first.
            models.Index(fields=["ticket", "created_at", "id"], name="message_ticket"),
            # Threading looks up stored Message-IDs from In-Reply-To and References.
            models.Index(
                fields=["message_id"], condition=~Q(message_id=""), name="message_message_id"
            ),
            # The send queue and the sweeper for sends stuck in progress.
            models.Index(
                fields=["delivery_status"],
                condition=Q(delivery_status__in=["queued", "sending", "failed"]),
                name="message_delivery_queue",
            ),
            # Search is on the GIN index `message_search_dated` over message_search_doc()
            # (created in migration 0007: an expression index Django cannot describe).
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"], condition=~Q(dedupe_key=""), name="message_dedupe_key"
            ),
            models.UniqueConstraint(
                fields=["ticket", "external_id"],
                condition=~Q(external_id=""),
                name="message_external_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} on #{self.ticket_id}"

    @property
    def is_agent_reply(self) -> bool:
        return self.direction == Direction.OUTBOUND and not self.automatic

    def sender_name(self, ticket: Ticket) -> str:
        """Who wrote the message, as people know them: the agent, or the customer's name."""
        if self.author is not None:
            return self.author.display_name
        if self.direction != Direction.INBOUND:
            return "Tandem"
        if self.from_name:
            return self.from_name
        if not self.from_address or self.from_address == ticket.customer.email:
            return ticket.customer.name or ticket.customer.email
        return self.from_address

    @property
    def page_url(self) -> str:
        """The web page a customer wrote this message on (the help widget keeps it, and
        whether the site vouched for the sender, in the message's headers)."""
        return str(self.headers.get("Page-URL", "")) if isinstance(self.headers, dict) else ""

    @property
    def sender_identity(self) -> str:
        return str(self.headers.get("Identity", "")) if isinstance(self.headers, dict) else ""

    @property
    def sender_checks(self) -> list[tuple[str, str, bool]]:
        """(check, result, failed) for each sender check the receiving server reported:
        [("SPF", "pass", False), ("DMARC", "fail", True)]."""
        results = {"SPF": self.spf_result, "DKIM": self.dkim_result, "DMARC": self.dmarc_result}
        return [
            (name, result, result in SENDER_CHECK_FAILURES[name])
            for name, result in results.items()
            if result
        ]

    @property
    def sender_warning(self) -> str:
        """ "Sender not verified: DMARC fail" when a check says the From is not the
        sender's, else ""."""
        failed = [f"{name} {result}" for name, result, bad in self.sender_checks if bad]
        return f"Sender not verified: {', '.join(failed)}" if failed else ""


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{timezone.now():%Y/%m}/{secrets.token_hex(8)}/{filename[-150:]}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.PositiveBigIntegerField(default=0)
    content_id = models.CharField(max_length=255, blank=True, help_text="For inline cid: images.")
    inline = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.filename
