"""Every real-world message in ../shared/corpus/email, ingested in place, twice.

Each must end as a ticket, a message on a ticket, or a quarantine entry with a reason,
never an exception; the second pass must change nothing. The files are read where they
are and never copied into the project (licences and real people's addresses).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import Personas
from tickets.mail.ingest import Outcome
from tickets.mail.intake import ingest_message
from tickets.mail.models import QuarantinedEmail
from tickets.mail.sources import iter_path
from tickets.models import Message, Ticket

# Beside the checkout; TANDEM_EMAIL_CORPUS points elsewhere (e.g. from a git worktree).
CORPUS = Path(
    os.environ.get("TANDEM_EMAIL_CORPUS") or Path(settings.BASE_DIR).parent / "shared/corpus/email"
)

pytestmark = pytest.mark.django_db


def corpus_messages() -> list[tuple[str, bytes]]:
    files = [p for p in sorted(CORPUS.rglob("*")) if p.is_file()]
    files = [p for p in files if p.name not in ("README.md", "MANIFEST.tsv")]
    return [item for path in files for item in iter_path(path)]


def test_corpus_ingests_totally_and_idempotently(personas: Personas) -> None:
    if not CORPUS.is_dir():
        if os.environ.get("TANDEM_ALLOW_NO_CORPUS") == "1":
            print(f"corpus absent at {CORPUS}; TANDEM_ALLOW_NO_CORPUS=1 so nothing to check")
            return
        pytest.fail(
            f"The email corpus is missing at {CORPUS} (set TANDEM_ALLOW_NO_CORPUS=1 to allow)."
        )
    messages = corpus_messages()
    assert len(messages) >= 240
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
    print(
        "corpus:",
        {o.value: list(outcomes.values()).count(o) for o in Outcome},
    )
    assert list(outcomes.values()).count(Outcome.NEW_TICKET) > 100
    state = (Ticket.objects.count(), Message.objects.count(), QuarantinedEmail.objects.count())
    for label, raw in messages:
        assert ingest_message(raw, source="corpus").outcome == Outcome.DUPLICATE, label
    assert state == (
        Ticket.objects.count(),
        Message.objects.count(),
        QuarantinedEmail.objects.count(),
    )
