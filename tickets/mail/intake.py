"""The one ingest function behind every door: IMAP, the inbound webhook, ingest_email.

`ingest_many(raws)` is total: whatever the bytes, it returns one IngestResult per
message saying it opened a ticket, was added to one, was a duplicate, or was quarantined
with a reason. It raises only when the database or Redis is unreachable
(`tickets.mail.redis.UNAVAILABLE`): that is no fault of the message, so no message is
quarantined for it, and the caller leaves the messages where they are for the next
attempt (an IMAP poll on the server, the webhook's row for the sweep, `ingest_email` in
its files, exiting with an error).

A batch is one transaction, and the outcome of each message is the one
`ingest_message` gives it alone, in order: a reply later in the batch threads onto a
ticket opened earlier in it. The duplicate checks of the whole batch are one query.
The batch is first stored in bulk (tickets/mail/bulk.py: a few statements for the whole
batch); if that path does not cover it (a bounce, a quarantine retry) or anything in
it fails, nothing of it is kept and the messages are stored one by one instead
(tickets/mail/ingest.py), each in its own savepoint, so that one that fails is
quarantined alone and the others are kept. After commit, the batch's tickets go through
the workflow (figures, rules, SLA) together (`tickets.hooks.tickets_changed`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence

from django.db import transaction

from tickets import services
from tickets.mail import bulk, notify, sending
from tickets.mail.ingest import (
    BATCH_BYTES,
    BATCH_MESSAGES,
    HEADERS_ONLY,
    IngestResult,
    Outcome,
    _Batch,
    ingest_guarded,
    quarantine,
)
from tickets.mail.models import QuarantinedEmail, QuarantineState
from tickets.mail.parse import ParsedEmail
from tickets.mail.redis import UNAVAILABLE
from tickets.mail.sandbox import parse_isolated
from tickets.models import Mailbox
from tickets.rows import NotCovered

logger = logging.getLogger(__name__)


def ingest_message(
    raw: bytes,
    *,
    mailbox: Mailbox | None = None,
    source: str = "command",
    retry_of: QuarantinedEmail | None = None,
) -> IngestResult:
    """Store one raw RFC 822 message; see the module docstring for the guarantees."""
    return ingest_many([raw], mailbox=mailbox, source=source, retry_of=retry_of)[0]


def ingest_many(
    raws: Sequence[bytes],
    *,
    mailbox: Mailbox | None = None,
    source: str = "command",
    retry_of: QuarantinedEmail | None = None,
    parsed: Sequence[ParsedEmail | str] | None = None,
) -> list[IngestResult]:
    """Store raw messages in one transaction; one result per message, in order.

    `parsed`, when the caller has it already, is `parse_isolated(raws)`
    (tickets/mail/ahead.py parses the next batch while this one is stored)."""
    if retry_of is not None and len(raws) != 1:
        raise ValueError("a quarantine retry ingests exactly one message")
    if not raws:
        return []
    if parsed is None:
        # Parsing needs no database: done before the transaction opens, in a child
        # process that a hostile message cannot take down this one with.
        parsed = parse_isolated(raws)
    elif len(parsed) != len(raws):
        raise ValueError("one parsed message per raw message")
    with transaction.atomic(), services.changes_in_bulk():
        batch = _Batch.load([p for p in parsed if isinstance(p, ParsedEmail)], mailbox)
        if retry_of is None:
            stored = _ingest_in_bulk(raws, parsed, mailbox, source, batch)
            if stored is not None:
                return stored
        return [
            ingest_guarded(raw, item, mailbox, source, retry_of, batch)
            for raw, item in zip(raws, parsed, strict=True)
        ]


def chunked[T](
    items: Iterable[T],
    weight: Callable[[T], int],
    *,
    count: int = BATCH_MESSAGES,
    size: int = BATCH_BYTES,
) -> Iterator[list[T]]:
    """Batches for ingest_many: at most `count` items and, unless one item weighs more on
    its own (it then is a batch alone), at most `size` in weight (bytes), so a batch
    never holds much in memory."""
    batch: list[T] = []
    held = 0
    for item in items:
        grams = weight(item)
        if batch and (len(batch) >= count or held + grams > size):
            yield batch
            batch, held = [], 0
        batch.append(item)
        held += grams
    if batch:
        yield batch


def _ingest_in_bulk(
    raws: Sequence[bytes],
    parsed: Sequence[ParsedEmail | str],
    mailbox: Mailbox | None,
    source: str,
    batch: _Batch,
) -> list[IngestResult] | None:
    """The batch through tickets/mail/bulk.py, with the outcomes `ingest_guarded` would
    give; None (nothing kept) when that path does not cover it or a statement failed,
    and the caller then takes the messages one by one."""
    results: list[IngestResult | None] = [None] * len(raws)
    items: list[tuple[int, ParsedEmail]] = []
    first_of: dict[str, int] = {}
    again: list[int] = []  # the same message a second time in the batch (a redelivery)
    for index, item in enumerate(parsed):
        if isinstance(item, str):
            continue
        if item.dedupe_key in batch.stored_keys:
            results[index] = IngestResult(Outcome.DUPLICATE, reason="already stored")
        elif item.message_id and item.message_id in batch.outbound_ids:
            results[index] = IngestResult(Outcome.DUPLICATE, reason="one of our own messages")
        elif item.dedupe_key in first_of:
            again.append(index)
        else:
            first_of[item.dedupe_key] = index
            items.append((index, item))
    try:
        with transaction.atomic():
            stored, refused = bulk.store_batch(
                items, mailbox=mailbox, active=batch.active, ours=batch.ours
            )
            kept = {done.index for done in stored}
            for index in again:
                item = parsed[index]
                assert isinstance(item, ParsedEmail)
                if first_of[item.dedupe_key] not in kept:
                    # Its first copy was refused: alone, the second would be tried again.
                    raise NotCovered("a refused message arrived twice in the batch")
                results[index] = IngestResult(Outcome.DUPLICATE, reason="already stored")
            for index, item in enumerate(parsed):
                if isinstance(item, str):
                    results[index] = quarantine(raws[index], mailbox, item, source=source)
            for plan in refused:
                item = parsed[plan.index]
                results[plan.index] = quarantine(
                    raws[plan.index],
                    mailbox,
                    plan.reason,
                    source=source,
                    parsed=item if plan.with_parsed and isinstance(item, ParsedEmail) else None,
                )
            for done in stored:
                item = parsed[done.index]
                assert isinstance(item, ParsedEmail)
                if done.acknowledgement is not None:
                    sending.enqueue_send(done.acknowledgement.pk)
                elif not done.new_ticket and not item.is_automated:
                    notify.customer_replied(done.message)
                services.after_commit(done.ticket.pk)
    except NotCovered:
        return None
    except UNAVAILABLE:
        raise
    except Exception:
        # Whatever failed (a statement, a file write), the per-message path finds which
        # message it was and quarantines that one alone.
        logger.warning("a mail batch failed in bulk; storing it one by one", exc_info=True)
        return None
    for done in stored:
        item = parsed[done.index]
        assert isinstance(item, ParsedEmail)
        batch.stored_keys.add(item.dedupe_key)
        outcome = Outcome.NEW_TICKET if done.new_ticket else Outcome.ADDED
        results[done.index] = IngestResult(outcome, done.ticket.pk, done.message.pk)
    done_all = [result for result in results if result is not None]
    assert len(done_all) == len(raws), "every message of the batch has its outcome"
    return done_all


# The reasons ingest gave, before it knew outages apart from bad mail, to messages it
# quarantined because Redis (the rate limit) or the database was down.
_OUTAGE_REASON = (
    r"^Unexpected error while ingesting: "
    r"(ConnectionError|TimeoutError|BusyLoadingError|OperationalError):"
)


def release_outage_quarantine(limit: int = 100) -> int:
    """Ingest again the held messages an outage quarantined (mail.sweep_inbound, every
    minute); how many went in. One still refused keeps its entry, with the new reason."""
    entries = QuarantinedEmail.objects.filter(
        state=QuarantineState.HELD, reason__regex=_OUTAGE_REASON
    ).order_by("received_at")[:limit]
    released = 0
    for entry in entries:
        try:
            result = retry_quarantined(entry)
        except UNAVAILABLE:
            logger.info("still unavailable; outage quarantine waits", exc_info=True)
            break
        released += result.outcome != Outcome.QUARANTINED
    return released


def retry_quarantined(entry: QuarantinedEmail) -> IngestResult:
    """An admin's retry: ingest the kept bytes again, without the rate limit."""
    with entry.raw.open("rb") as handle:
        raw = handle.read()
    if raw.startswith(HEADERS_ONLY.encode() + b":"):
        # Ingesting the headers alone would open a ticket with an empty body and release
        # the entry, while the real message stays on the server, unread by anyone.
        return IngestResult(
            Outcome.QUARANTINED,
            quarantine_id=entry.pk,
            reason=(
                "Only the headers were kept: the message itself is over the size limit and "
                "was left on the mail server. Read it there, or raise MAIL_MAX_MESSAGE_BYTES "
                "and ingest it with manage.py ingest_email."
            ),
        )
    return ingest_message(raw, mailbox=entry.mailbox, source="retry", retry_of=entry)
