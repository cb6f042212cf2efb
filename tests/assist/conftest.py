"""A desk whose history routes by its words: billing words to Billing, error words to
Tier 2, everything else to the front line, with the noise real mail has (greetings and
filler shared by all, words of another team in passing, a few tickets misfiled)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from tests.conftest import Personas
from tests.factories import make_customer, make_mailbox, make_user
from tickets import services
from tickets.models import Mailbox, Role, Status, Team, Ticket, User

BILLING = [
    "invoice", "refund", "charged", "payment", "card", "billing", "receipt", "subscription",
    "vat", "overcharged", "price", "plan", "renewal", "credit", "bank", "transfer",
]  # fmt: skip
ERRORS = [
    "error", "crash", "exception", "bug", "timeout", "stacktrace", "broken", "fails",
    "500", "freezes", "sync", "api", "upload", "corrupt", "outage", "logs",
]  # fmt: skip
GENERAL = [
    "how", "question", "settings", "colleague", "invite", "language", "profile", "name",
    "notifications", "email", "address", "team", "export", "report", "training", "webinar",
]  # fmt: skip
FILLER = [
    "hello", "hi", "please", "thanks", "today", "app", "account", "regards", "help",
    "could", "you", "we", "our", "since", "yesterday", "urgent", "again", "morning",
]  # fmt: skip


@dataclass
class Desk:
    mailbox: Mailbox
    front: Team
    billing: Team
    tier2: Team
    agent: User


def _text(rng: random.Random, words: list[str], other: list[str]) -> tuple[str, str]:
    subject = " ".join(rng.sample(words, 2) + rng.sample(FILLER, 1))
    body_words = rng.sample(words, 4) + rng.sample(FILLER, 5)
    if rng.random() < 0.3:  # a word of another team in passing
        body_words += rng.sample(other, 1)
    rng.shuffle(body_words)
    return subject, " ".join(body_words) + "."


@pytest.fixture
def desk(personas: Personas) -> Desk:
    front = Team.objects.create(name="Front line", tier=1)
    billing = Team.objects.create(name="Billing", tier=1)
    tier2 = Team.objects.create(name="Tier 2", tier=2)
    mailbox = make_mailbox(teams=[front, billing, tier2], address="help@tandem.test")
    agent = make_user(Role.AGENT, teams=[front, billing, tier2], first_name="Alex")
    return Desk(mailbox, front, billing, tier2, agent)


def make_history(desk: Desk, n: int = 300, misfiled: float = 0.03, seed: int = 7) -> None:
    """`n` solved tickets whose team follows their words, `misfiled` of them wrongly."""
    rng = random.Random(seed)
    teams = [(desk.billing, BILLING), (desk.tier2, ERRORS), (desk.front, GENERAL)]
    customer = make_customer("history@example.test")
    for i in range(n):
        team, words = teams[i % 3]
        other = teams[(i + 1) % 3][1]
        subject, body = _text(rng, words, other)
        if rng.random() < misfiled:
            team = rng.choice([t for t, _ in teams])
        ticket = services.create_ticket(
            mailbox=desk.mailbox, customer=customer, subject=subject, body_text=body, team=team
        )
        Ticket.objects.filter(pk=ticket.pk).update(status=Status.SOLVED)
