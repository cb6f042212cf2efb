"""Mail the inbound webhook receives: kept raw at once, ingested in the background, once.

A provider's request waits only for the bytes to be stored (`accept`); the
mail.ingest_inbound task then ingests them (`ingest_inbound`), with parsing in the
sandboxed child like every other door. The row is the record, not the broker: a task
lost with the broker or a worker is found by `due_inbound_ids` (mail.sweep_inbound, every
minute), and a conditional update claims a row before it is ingested, so two tasks for
one row ingest it once. A claim a dead worker left is taken again after STUCK_AFTER;
ingest itself knows a message it stored, so even then nothing is stored twice.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from tickets.mail.ingest import IngestResult, quarantine
from tickets.mail.intake import ingest_many
from tickets.mail.models import InboundEmail, InboundState
from tickets.mail.redis import UNAVAILABLE
from tickets.mail.sandbox import parse_isolated
from tickets.models import Mailbox

logger = logging.getLogger(__name__)

# A row still "received" this long after it came in lost its task (broker down).
LOST_AFTER = timedelta(minutes=1)
# A claim older than this belongs to a worker that died: parsing a message is stopped
# after seconds (MAIL_PARSE_CPU_SECONDS), storing it takes less.
STUCK_AFTER = timedelta(minutes=15)
# A message whose ingest died this many times is quarantined raw for a person.
MAX_ATTEMPTS = 3


def accept(raw: bytes, mailbox: Mailbox) -> tuple[InboundEmail, bool]:
    """Keep the raw bytes; the row, and whether it is new (the same bytes posted again
    are the same row)."""
    digest = hashlib.sha256(raw).hexdigest()
    existing = InboundEmail.objects.filter(sha256=digest).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            entry = InboundEmail.objects.create(
                mailbox=mailbox,
                raw=ContentFile(raw, name="message.eml"),
                sha256=digest,
                size=len(raw),
            )
    except IntegrityError:
        return InboundEmail.objects.get(sha256=digest), False
    return entry, True


def _claimable(now: datetime) -> Q:
    return Q(state=InboundState.RECEIVED) | Q(
        state=InboundState.INGESTING, claimed_at__lt=now - STUCK_AFTER
    )


def ingest_inbound(entry_id: int) -> IngestResult | None:
    """Ingest a received message once; None when it is gone, done, or being ingested, or
    when Redis or the database is down (it then waits for the sweep)."""
    now = timezone.now()
    claimed = InboundEmail.objects.filter(_claimable(now), pk=entry_id).update(
        state=InboundState.INGESTING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    entry = InboundEmail.objects.select_related("mailbox").get(pk=entry_id)
    with entry.raw.open("rb") as handle:
        raw = handle.read()
    if entry.attempts > MAX_ATTEMPTS:
        reason = (
            f"Ingesting this message stopped {entry.attempts - 1} times without an outcome "
            "(the worker died each time); kept here for a person to look at."
        )
        with transaction.atomic():
            result = quarantine(raw, entry.mailbox, reason, source="webhook")
            _done(entry, result)
        return result
    # Parsed before the transaction opens, as ingest_many does itself.
    parsed = parse_isolated([raw])
    try:
        with transaction.atomic():
            [result] = ingest_many([raw], mailbox=entry.mailbox, source="webhook", parsed=parsed)
            _done(entry, result)
    except UNAVAILABLE:
        # Redis or the database is down: no fault of the message, so no attempt spent.
        # Back to waiting, the sweep takes it again once they are back.
        logger.warning("inbound mail %s waits: ingest is unavailable", entry_id, exc_info=True)
        InboundEmail.objects.filter(pk=entry_id, state=InboundState.INGESTING).update(
            state=InboundState.RECEIVED, claimed_at=None, attempts=F("attempts") - 1
        )
        return None
    return result


def _done(entry: InboundEmail, result: IngestResult) -> None:
    InboundEmail.objects.filter(pk=entry.pk).update(
        state=InboundState.DONE, outcome=str(result.outcome), ticket_id=result.ticket_id, raw=""
    )
    # The message now lives as a ticket message, in quarantine, or was there already.
    storage, name = entry.raw.storage, entry.raw.name
    if name:
        transaction.on_commit(lambda: storage.delete(name))


def due_inbound_ids(limit: int = 500) -> list[int]:
    """Received messages whose task was lost, and claims a dead worker left."""
    now = timezone.now()
    lost = Q(state=InboundState.RECEIVED, received_at__lt=now - LOST_AFTER)
    stuck = Q(state=InboundState.INGESTING, claimed_at__lt=now - STUCK_AFTER)
    return list(
        InboundEmail.objects.filter(lost | stuck)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
