"""Every message of a set, ingested in place, twice: the project's own test messages
always, and the real-world corpus in ../shared/corpus/email where it is present.

Each must end as a ticket, a message on a ticket, or a quarantine entry with a reason,
never an exception; the second pass must change nothing. The corpus files are read where
they are and never copied into the project (licences and real people's addresses), so a
plain clone has no corpus and skips that test; the checks it makes run on our own
messages in every run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import Personas
from tests.mail.conftest import MESSAGES
from tickets.mail.ingest import Outcome
from tickets.mail.intake import ingest_message
from tickets.mail.models import QuarantinedEmail
from tickets.mail.sources import iter_path
from tickets.models import Message, Ticket

# Beside the checkout by default. TANDEM_EMAIL_CORPUS points elsewhere (e.g. from a git
# worktree); a corpus asked for by name must be there, so a typo fails instead of skipping.
CORPUS_ASKED_FOR = os.environ.get("TANDEM_EMAIL_CORPUS", "")
CORPUS = Path(CORPUS_ASKED_FOR or Path(settings.BASE_DIR).parent / "shared/corpus/email")

pytestmark = pytest.mark.django_db


def corpus_messages() -> list[tuple[str, bytes]]:
    files = [p for p in sorted(CORPUS.rglob("*")) if p.is_file()]
    files = [p for p in files if p.name not in ("README.md", "MANIFEST.tsv")]
    return [item for path in files for item in iter_path(path)]


def ingest_twice(messages: list[tuple[str, bytes]]) -> dict[str, Outcome]:
    """Ingest every message, check where each ended, then again: nothing may change."""
    outcomes: dict[str, Outcome] = {}
    for label, raw in messages:
        result = ingest_message(raw, source="corpus")
        outcomes[label] = result.outcome
        if result.outcome == Outcome.QUARANTINED:
            entry = QuarantinedEmail.objects.get(pk=result.quarantine_id)
            assert entry.reason.strip(), label
            assert not entry.reason.startswith("Unexpected error"), (label, entry.reason)
        elif result.outcome in (Outcome.NEW_TICKET, Outcome.ADDED):
            assert Message.objects.filter(pk=result.message_pk, ticket_id=result.ticket_id).exists()
    state = (Ticket.objects.count(), Message.objects.count(), QuarantinedEmail.objects.count())
    for label, raw in messages:
        assert ingest_message(raw, source="corpus").outcome == Outcome.DUPLICATE, label
    assert state == (
        Ticket.objects.count(),
        Message.objects.count(),
        QuarantinedEmail.objects.count(),
    )
    return outcomes


def test_own_messages_ingest_totally_and_idempotently(personas: Personas) -> None:
    messages = list(iter_path(MESSAGES))
    # Every .eml beside the tests, and both messages of the mbox.
    assert len(messages) == len(list(MESSAGES.glob("*.eml"))) + 2
    outcomes = list(ingest_twice(messages).values())
    # New tickets, replies threaded onto them, and unparseable mail held with a reason.
    assert outcomes.count(Outcome.NEW_TICKET) >= 5
    assert Outcome.ADDED in outcomes
    assert Outcome.QUARANTINED in outcomes


@pytest.mark.skipif(
    not CORPUS.is_dir() and not CORPUS_ASKED_FOR,
    reason=f"no email corpus at {CORPUS} (a plain clone has none; TANDEM_EMAIL_CORPUS=DIR "
    "points at one); our own messages get the same checks",
)
def test_corpus_ingests_totally_and_idempotently(personas: Personas) -> None:
    assert CORPUS.is_dir(), f"TANDEM_EMAIL_CORPUS={CORPUS_ASKED_FOR} is not a directory"
    messages = corpus_messages()
    assert len(messages) >= 240
    outcomes = list(ingest_twice(messages).values())
    print("corpus:", {o.value: outcomes.count(o) for o in Outcome})
    assert outcomes.count(Outcome.NEW_TICKET) > 100
