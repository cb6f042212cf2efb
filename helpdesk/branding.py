"""The product's name as lower layers show it (outgoing mail and its signature), without
knowing where it is kept: the settings area (console.branding) registers the reader when
it starts.

Until then, or when no reader is registered (a script, a test without the app), the
name is Tandem's own.
"""

from __future__ import annotations

from collections.abc import Callable

DEFAULT_PRODUCT_NAME = "Tandem"

_reader: Callable[[], str] | None = None


def register(reader: Callable[[], str]) -> None:
    """Name the function that returns the product name chosen in the settings."""
    global _reader
    _reader = reader


def product_name() -> str:
    """The product name for pages and mail: the chosen one, else Tandem."""
    return (_reader() if _reader is not None else "") or DEFAULT_PRODUCT_NAME


def signature(mailbox_signature: str = "") -> str:
    """How mail to people is signed: the mailbox's signature, else the product's name
    (replies, surveys; the invitation and sign-in mails, sent from no mailbox)."""
    return mailbox_signature or product_name()
