"""Storing one inbound message: the decisions (which mailbox, which customer, which
ticket, bounce or refusal) and the quarantine. `tickets/mail/intake.py` is the door every
source calls; it stores a batch in bulk (tickets/mail/bulk.py) or, message by message,
through `ingest_guarded` here."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q

from tickets import services
from tickets.history import continued_ticket
from tickets.mail import delivery, notify, sender_auth
from tickets.mail.limits import OverLimit
from tickets.mail.models import QuarantinedEmail, QuarantineState
from tickets.mail.notify import NO_REPLY
from tickets.mail.parse import ParsedEmail, UnparseableEmail, parse_message
from tickets.mail.redis import UNAVAILABLE, sender_rate
from tickets.mail.tokens import base_address, ticket_from_address, ticket_from_subject
from tickets.models import Direction, Mailbox, Message, Ticket

logger = logging.getLogger(__name__)

# One transaction of ingest_many: big enough that per-batch work (the duplicate query,
# the commit) is spread thin, small enough that a batch's bytes stay a few MB.
BATCH_MESSAGES = 100
BATCH_BYTES = 20 * 1024 * 1024
# First header of a quarantine entry that holds only a message's headers (the message
# was over the size limit and stays on the IMAP server): there is nothing to retry.
HEADERS_ONLY = "X-Tandem-Headers-Only"


class Outcome(StrEnum):
    NEW_TICKET = "new ticket"
    ADDED = "added to ticket"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"


@dataclass(frozen=True)
class IngestResult:
    outcome: Outcome
    ticket_id: int | None = None
    message_pk: int | None = None
    quarantine_id: int | None = None
    reason: str = ""

    def describe(self) -> str:
        if self.outcome == Outcome.NEW_TICKET:
            return f"new ticket #{self.ticket_id}"
        if self.outcome == Outcome.ADDED:
            return f"added to ticket #{self.ticket_id}"
        if self.outcome == Outcome.DUPLICATE:
            return f"duplicate ({self.reason})"
        return f"quarantined: {self.reason}"


@dataclass
class _Batch:
    """What the messages of one batch look up once: known keys, our addresses."""

    stored_keys: set[str]
    outbound_ids: set[str]
    ours: set[str]
    active: list[Mailbox] = field(default_factory=list)

    @classmethod
    def load(cls, parsed: list[ParsedEmail], mailbox: Mailbox | None) -> _Batch:
        keys = {p.dedupe_key for p in parsed}
        message_ids = {p.message_id for p in parsed if p.message_id}
        stored: set[str] = set()
        outbound: set[str] = set()
        if parsed:
            # This very message stored before, or our own outgoing message fetched back
            # (e.g. from a Sent folder or a Bcc to the mailbox): one query for the batch.
            seen = Q(dedupe_key__in=keys)
            if message_ids:
                seen |= Q(message_id__in=message_ids, direction=Direction.OUTBOUND)
            for key, message_id, direction in Message.objects.filter(seen).values_list(
                "dedupe_key", "message_id", "direction"
            ):
                stored.add(key)
                if direction == Direction.OUTBOUND:
                    outbound.add(message_id)
        boxes = list(Mailbox.objects.all())
        return cls(
            stored_keys=stored & keys,
            outbound_ids=outbound,
            ours={m.address for m in boxes},
            active=[m for m in boxes if m.is_active] if mailbox is None else [],
        )

    def choose_mailbox(self, parsed: ParsedEmail) -> Mailbox | None:
        return choose_mailbox(parsed, self.active)


def parse_all(raws: Sequence[bytes]) -> list[ParsedEmail | str]:
    """Each message parsed, or why it must be quarantined (needs no database)."""
    return [parse_one(raw) for raw in raws]


def parse_one(raw: bytes) -> ParsedEmail | str:
    """The parsed message, or why it must be quarantined."""
    limit = settings.MAIL_MAX_MESSAGE_BYTES
    if len(raw) > limit:
        return f"Too large: {len(raw)} bytes, the limit is {limit} bytes."
    try:
        return parse_message(raw)
    except UnparseableEmail as exc:
        return f"Cannot be parsed: {exc}"
    except OverLimit as exc:
        return f"Over a safety limit: {exc}"
    except MemoryError:
        raise  # tickets/mail/sandbox.py names the limit
    except Exception as exc:
        logger.exception("parsing failed; quarantining the message")
        return f"Unexpected error while ingesting: {type(exc).__name__}: {exc}"


def ingest_guarded(
    raw: bytes,
    parsed: ParsedEmail | str,
    mailbox: Mailbox | None,
    source: str,
    retry_of: QuarantinedEmail | None,
    batch: _Batch,
) -> IngestResult:
    if isinstance(parsed, str):
        return quarantine(raw, mailbox, parsed, source=source, retry_of=retry_of)
    if parsed.dedupe_key in batch.stored_keys:
        return IngestResult(Outcome.DUPLICATE, reason="already stored")
    if parsed.message_id and parsed.message_id in batch.outbound_ids:
        return IngestResult(Outcome.DUPLICATE, reason="one of our own messages")
    try:
        # The message's own savepoint: whatever fails rolls back this message alone.
        with transaction.atomic():
            result = _ingest(raw, parsed, mailbox, source, retry_of, batch)
    except UNAVAILABLE:
        raise
    except IntegrityError:
        # Another door stored the same message between our check and our insert.
        if Message.objects.filter(dedupe_key=parsed.dedupe_key).exists():
            return IngestResult(Outcome.DUPLICATE, reason="already stored")
        logger.exception("ingest failed; quarantining the message")
        return quarantine(
            raw,
            mailbox,
            "Unexpected error while ingesting: IntegrityError",
            source=source,
            parsed=parsed,
            retry_of=retry_of,
        )
    except Exception as exc:
        logger.exception("ingest failed; quarantining the message")
        return quarantine(
            raw,
            mailbox,
            f"Unexpected error while ingesting: {type(exc).__name__}: {exc}",
            source=source,
            parsed=parsed,
            retry_of=retry_of,
        )
    if result.message_pk is not None:
        batch.stored_keys.add(parsed.dedupe_key)
    return result


def _ingest(
    raw: bytes,
    parsed: ParsedEmail,
    mailbox: Mailbox | None,
    source: str,
    retry_of: QuarantinedEmail | None,
    batch: _Batch,
) -> IngestResult:
    def refuse(reason: str, parsed: ParsedEmail | None = None) -> IngestResult:
        return quarantine(raw, mailbox, reason, source=source, parsed=parsed, retry_of=retry_of)

    mailbox = mailbox or batch.choose_mailbox(parsed)
    if mailbox is None:
        return refuse("No mailbox: no recipient is one of ours and there is no default mailbox.")
    if parsed.is_bounce:
        return _ingest_bounce(raw, parsed, mailbox, refuse)

    ours = batch.ours
    name, address = customer_address(parsed, ours)
    if not address:
        return refuse(
            "No usable sender address (From, Reply-To and Sender are missing or invalid).", parsed
        )
    if base_address(address) in ours:
        return refuse(f"Sent from our own address {address}: refused to avoid a mail loop.", parsed)

    ticket, by_subject_tag = find_ticket(parsed, address)
    opens_ticket = ticket is None or services.opens_follow_up(ticket)
    if opens_ticket and retry_of is None and sender_rate().hit(address):
        return refuse(
            f"Rate limit: more than {settings.MAIL_RATE_LIMIT_PER_HOUR} new tickets from "
            f"{address} within an hour.",
            parsed,
        )
    result = _store(parsed, mailbox, ticket, name, address, ours, cc_joins=not by_subject_tag)
    if retry_of is not None:
        QuarantinedEmail.objects.filter(pk=retry_of.pk).update(
            state=QuarantineState.RELEASED, ticket_id=result.ticket_id
        )
    return result


def _store(
    parsed: ParsedEmail,
    mailbox: Mailbox,
    ticket: Ticket | None,
    name: str,
    address: str,
    ours: set[str],
    *,
    cc_joins: bool,
) -> IngestResult:
    fields = message_fields(parsed)
    if ticket is not None:
        services.remember_mail_language(address, parsed.content_language)
        # A reply: the same as one from the portal or the API (a closed ticket's opens a
        # follow-up), which tells the agents or acknowledges the follow-up.
        reply = services.customer_reply(
            ticket,
            actor=services.MAIL,
            sender=address,
            body_text=parsed.body_text,
            body_html=parsed.body_html,
            mailbox=mailbox,
            automatic=parsed.is_automated,
            attachments=parsed.attachments,
            ours=ours,
            cc_joins=cc_joins,
            **fields,
        )
        outcome = Outcome.NEW_TICKET if reply.opened_follow_up else Outcome.ADDED
        return IngestResult(outcome, ticket_id=reply.ticket.pk, message_pk=reply.message.pk)

    customer = services.get_or_create_customer(address, name, mail_language=parsed.content_language)
    new_ticket, message = services.create_inbound_ticket(
        mailbox=mailbox,
        customer=customer,
        subject=parsed.subject,
        body_text=parsed.body_text,
        body_html=parsed.body_html,
        actor=services.MAIL,
        linked_from=None,
        ours=ours,
        message_fields={**fields, "automatic": parsed.is_automated},
    )
    services.attach_files(message, parsed.attachments)
    notify.customer_wrote(message, opened_ticket=True)
    return IngestResult(Outcome.NEW_TICKET, ticket_id=new_ticket.pk, message_pk=message.pk)


def _ingest_bounce(raw: bytes, parsed: ParsedEmail, mailbox: Mailbox, refuse) -> IngestResult:  # type: ignore[no-untyped-def]
    original = (
        Message.objects.filter(
            message_id__in=parsed.bounced_message_ids, direction=Direction.OUTBOUND
        )
        .select_related("ticket")
        .order_by("-created_at")
        .first()
        if parsed.bounced_message_ids
        else None
    )
    if original is None:
        return refuse("Bounce (delivery failure report) for no message we sent.", parsed)
    with transaction.atomic():
        message = services.add_message(
            original.ticket,
            direction=Direction.INBOUND,
            body_text=parsed.body_text,
            body_html=parsed.body_html,
            actor=services.MAIL,
            from_address=parsed.from_address,
            automatic=True,
            apply_status_rules=False,
            **message_fields(parsed),
        )
        services.attach_files(message, parsed.attachments)
        reason = parsed.bounce_diagnostic or parsed.subject or "The message bounced."
        delivery.mark_undelivered(original, reason, bounce=message)
    return IngestResult(Outcome.ADDED, ticket_id=original.ticket_id, message_pk=message.pk)


class MessageFields(TypedDict):
    """The Message columns a parsed email fills, beside the body and the sender."""

    spf_result: str
    dkim_result: str
    dmarc_result: str
    from_name: str
    to: list[str]
    cc: list[str]
    subject: str
    message_id: str
    in_reply_to: str
    references: str
    headers: dict[str, str]
    dedupe_key: str


def message_fields(parsed: ParsedEmail) -> MessageFields:
    checks = sender_auth.verdict(parsed.authentication_results)
    return {
        "spf_result": checks.get("spf", ""),
        "dkim_result": checks.get("dkim", ""),
        "dmarc_result": checks.get("dmarc", ""),
        "from_name": parsed.from_name[:200],
        "to": parsed.to[:50],
        "cc": parsed.cc[:50],
        "subject": parsed.subject,
        "message_id": parsed.message_id,
        "in_reply_to": " ".join(parsed.in_reply_to)[:998],
        "references": " ".join(parsed.references),
        "headers": parsed.headers,
        "dedupe_key": parsed.dedupe_key,
    }


def choose_mailbox(parsed: ParsedEmail, active: Iterable[Mailbox]) -> Mailbox | None:
    """The mailbox a recipient address names (plus-addressing allowed), else the default
    of the `active` mailboxes."""
    boxes = {m.address: m for m in active}
    for address in parsed.recipients:
        found = boxes.get(base_address(address))
        if found is not None:
            return found
    return next((m for m in boxes.values() if m.is_default), None)


def _valid(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def customer_address(parsed: ParsedEmail, ours: set[str]) -> tuple[str, str]:
    """Who the ticket is for: From, unless From is a no-reply or our own address and
    Reply-To names someone else (web forms, notification relays)."""
    candidates: list[tuple[str, str]] = []
    from_pair = (parsed.from_name, parsed.from_address)
    from_is_relay = bool(parsed.from_address) and (
        NO_REPLY.match(parsed.from_address) is not None or base_address(parsed.from_address) in ours
    )
    if parsed.from_address and not from_is_relay:
        candidates.append(from_pair)
    candidates += [pair for pair in parsed.reply_to if base_address(pair[1]) not in ours]
    if parsed.from_address:
        candidates.append(from_pair)
    if parsed.sender:
        candidates.append(("", parsed.sender))
    for name, address in candidates:
        if _valid(address):
            return name, address.lower()
    return "", ""


def find_ticket(parsed: ParsedEmail, sender: str) -> tuple[Ticket | None, bool]:
    """The ticket this message continues, across all mailboxes, or None for a new one;
    and whether only the unsigned subject tag said so (then its Cc joins nothing:
    `services.conversation_cc`)."""
    ids = parsed.thread_ids
    if ids:
        known = dict(
            Message.objects.filter(message_id__in=ids)
            .order_by("created_at")
            .values_list("message_id", "ticket_id")
        )
        for message_id in ids:
            if message_id in known:
                return continued_ticket(known[message_id]), False
    for address in parsed.recipients:
        number = ticket_from_address(address)
        if number is not None:
            ticket = continued_ticket(number)
            if ticket is not None:
                return ticket, False
    number = ticket_from_subject(parsed.subject)
    if number is not None:
        ticket = continued_ticket(number)
        # The subject tag is unsigned: only the ticket's own people may thread by it.
        if ticket is not None and (sender == ticket.customer.email or sender in ticket.cc):
            return ticket, True
    return None, False


def quarantine(
    raw: bytes,
    mailbox: Mailbox | None,
    reason: str,
    *,
    source: str,
    parsed: ParsedEmail | None = None,
    retry_of: QuarantinedEmail | None = None,
) -> IngestResult:
    """Keep the raw bytes with the reason; the same bytes twice are one entry."""
    if retry_of is not None:
        QuarantinedEmail.objects.filter(pk=retry_of.pk).update(
            reason=reason, attempts=retry_of.attempts + 1
        )
        return IngestResult(Outcome.QUARANTINED, quarantine_id=retry_of.pk, reason=reason)
    digest = hashlib.sha256(raw).hexdigest()
    existing = QuarantinedEmail.objects.filter(sha256=digest).first()
    if existing is not None:
        return IngestResult(
            Outcome.DUPLICATE, quarantine_id=existing.pk, reason="already quarantined"
        )
    try:
        with transaction.atomic():
            entry = QuarantinedEmail.objects.create(
                mailbox=mailbox,
                raw=ContentFile(raw, name="message.eml"),
                sha256=digest,
                size=len(raw),
                reason=reason,
                source=source[:16],
                subject=parsed.subject if parsed else "",
                from_address=parsed.from_address[:320] if parsed else "",
            )
    except IntegrityError:
        return IngestResult(Outcome.DUPLICATE, reason="already quarantined")
    logger.warning("quarantined message %s: %s", entry.pk, reason)
    return IngestResult(Outcome.QUARANTINED, quarantine_id=entry.pk, reason=reason)
