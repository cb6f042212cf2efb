"""A customer the desk knows everything about, through the doors data comes in by."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token

from kb.models import ArticleFeedback, SearchQueryLog
from metrics.models import SurveyResponse
from portal.models import SignInLink
from tests.conftest import Personas
from tests.factories import hours, make_article, open_ticket, reply, set_status
from tickets import services
from tickets.mail.inbound import accept
from tickets.mail.ingest import quarantine
from tickets.mail.intake import ingest_message
from tickets.models import Direction, Ticket

ADDRESS = "li@customer.test"
NAME = "Li Wei"
ATTACHMENT = b"Scan of the receipt. Contact: li@customer.test, Li Wei"

MAIL = f"""From: {NAME} <{ADDRESS}>
To: Support A <a@tandem.test>
Subject: Refund for order 1001
Date: Tue, 03 Nov 2026 09:15:00 +0000
Message-ID: <refund-1@customer.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain; charset=utf-8

Please refund order 1001. My number is +44 20 7946 0000. Li
--b
Content-Type: text/plain; name="receipt.txt"
Content-Disposition: attachment; filename="receipt.txt"

{ATTACHMENT.decode()}
--b--
"""


@pytest.fixture(autouse=True)
def media(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "media"
    with override_settings(MEDIA_ROOT=root):
        yield root


@dataclass
class Story:
    mailed: Ticket
    portal: Ticket
    copied: Ticket


@pytest.fixture
def story(personas: Personas) -> Story:
    """Li writes by mail (with an attachment) and is answered; opens a solved ticket at
    known times (figures); is copied on Sam's ticket and writes there; answers surveys;
    has a pending webhook mail, a quarantined one, a portal link, a token, kb traces."""
    p = personas
    li = p.customer
    mailed = Ticket.objects.get(pk=ingest_message(MAIL.encode(), mailbox=p.mailbox_a).ticket_id)
    reply(mailed, p.agent_a, timezone.now(), cc=["boss@customer.test"])
    portal = open_ticket(p.mailbox_a, li, at=hours(0), team=p.team_a)
    reply(portal, p.agent_a, hours(1))
    set_status(portal, p.agent_a, "solved", hours(2))
    copied = open_ticket(p.mailbox_a, p.other_customer, at=hours(1))
    services.update_ticket(copied, actor=services.SYSTEM, cc=[ADDRESS])
    services.reply(copied, p.agent_a, f"Copying {NAME} ({ADDRESS}) as asked.", at=hours(3))
    services.add_message(
        copied,
        direction=Direction.INBOUND,
        body_text="I agree with Sam.",
        from_address=ADDRESS,
        from_name=NAME,
        actor=services.MAIL,
        at=hours(4),
    )
    SurveyResponse.objects.create(
        kind="csat",
        score=4,
        comment=f"Thanks, {NAME}",
        customer=li,
        ticket=portal,
        submitted_at=hours(5),
    )
    SurveyResponse.objects.create(
        kind="nps", score=9, comment="Great desk", customer=li, submitted_at=hours(6)
    )
    accept(MAIL.replace("order 1001", "order 1002").encode(), p.mailbox_a)
    quarantine(f"From: {ADDRESS}\n\nbroken".encode(), p.mailbox_a, "unreadable", source="imap")
    SignInLink.objects.create(
        customer=li, token_hash="0" * 64, expires_at=timezone.now() + timedelta(hours=1)
    )
    Token.objects.create(user=li.user)
    article = make_article("Refunds", author=p.agent_a)
    ArticleFeedback.objects.create(
        article=article, helpful=False, comment=f"Write to {ADDRESS}", user=li.user, voter_key="k"
    )
    SearchQueryLog.objects.create(
        query="refund", normalized="refund", source="help", result_count=0, user=li.user
    )
    return Story(mailed=mailed, portal=portal, copied=copied)


def traces(*needles: str) -> list[str]:
    """Every column of every table whose text holds one of the needles (case ignored):
    the database dump, grepped."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND data_type <> 'bytea'"
            " AND table_name IN (SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE')"
        )
        for table, column in cursor.fetchall():
            for needle in needles:
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',  # noqa: S608
                    [f"%{needle}%"],
                )
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column}: {needle}")
    return found


def files_holding(root: Path, needle: bytes) -> list[str]:
    return [
        str(path)
        for path in root.rglob("*")
        if path.is_file() and needle.lower() in path.read_bytes().lower()
    ]
