"""Ticket tokens carried by our mail: the reply address and the subject tag.

The reply address `support+t1234-5f2a9c1e@acme.test` names the ticket and is signed,
so nobody can post into a ticket by guessing its number. The subject tag `[#1234]` is
unsigned, so threading trusts it only for the ticket's own customer and Cc addresses.
"""

from __future__ import annotations

import hmac
import re
from hashlib import sha256

from django.conf import settings

_PLUS_TOKEN = re.compile(r"^[^@+]+\+t(\d{1,18})-([0-9a-f]{8})@", re.I)
SUBJECT_TOKEN = re.compile(r"\[#(\d{1,18})\]")


def _signature(number: int) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"ticket-reply:{number}".encode(), sha256).hexdigest()[:8]


def reply_address(mailbox_address: str, number: int) -> str:
    local, _, domain = mailbox_address.partition("@")
    return f"{local}+t{number}-{_signature(number)}@{domain}"


def ticket_from_address(address: str) -> int | None:
    match = _PLUS_TOKEN.match(address)
    if match and hmac.compare_digest(match.group(2).lower(), _signature(int(match.group(1)))):
        return int(match.group(1))
    return None


def base_address(address: str) -> str:
    """support+anything@acme.test -> support@acme.test, to match a mailbox."""
    local, _, domain = address.lower().partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def ticket_from_subject(subject: str) -> int | None:
    match = SUBJECT_TOKEN.search(subject)
    return int(match.group(1)) if match else None


def subject_with_token(subject: str, number: int) -> str:
    tag = f"[#{number}]"
    return subject if tag in subject else f"{subject} {tag}".strip()
