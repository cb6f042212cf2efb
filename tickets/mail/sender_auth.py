"""The SPF, DKIM and DMARC verdict of inbound mail, read from Authentication-Results.

Our receiving server checks the sender and writes what it found in an
Authentication-Results header (RFC 8601) above the message; the sender can write such
headers too, so only ours count. A server prepends its headers, so ours are the topmost.
With `MAIL_AUTHSERV_IDS` set (the authserv-ids our servers write, e.g. "mx.acme.test"),
the verdict comes from the Authentication-Results headers at the top that carry one of
them, up to the first that does not: a forged header further down is never read. Without
it, only the topmost header counts, whoever it names. RFC 8601 section 5 asks the
receiving server to remove headers that claim its own authserv-id; one that does not can
still be fooled by a forgery directly under its own header, which nothing here can tell.

Parsed with `authres` (the parser of dkimpy's authors), not with our own regexes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import authres
from django.conf import settings

logger = logging.getLogger(__name__)

METHODS = ("spf", "dkim", "dmarc")
# A receiving server writes a few short headers (one per check at most); longer or more
# are no server's, and are skipped unparsed, so parsing stays a few milliseconds.
MAX_HEADER_CHARS = 4000
MAX_HEADERS = 5


def _authserv_id(value: str) -> str:
    return value.split(";", 1)[0].split()[0].strip().lower() if value.strip() else ""


def trusted_headers(values: Sequence[str], trusted_ids: Sequence[str]) -> list[str]:
    """The Authentication-Results values (topmost first) our own server wrote."""
    if not values:
        return []
    ids = {i.strip().lower() for i in trusted_ids if i.strip()}
    if not ids:
        return [values[0]]
    ours = []
    for value in values:
        if _authserv_id(value) not in ids:
            break
        ours.append(value)
    return ours[:MAX_HEADERS]


def verdict(values: Sequence[str], trusted_ids: Sequence[str] | None = None) -> dict[str, str]:
    """{"spf": "pass", "dkim": "fail", "dmarc": "fail"} from the Authentication-Results
    header values of a message, topmost first; a method no trusted header reports is
    left out. Among several DKIM signatures one that passes is the verdict."""
    if trusted_ids is None:
        trusted_ids = settings.MAIL_AUTHSERV_IDS
    found: dict[str, str] = {}
    for value in trusted_headers(values, trusted_ids):
        if len(value) > MAX_HEADER_CHARS:
            continue
        try:
            header = authres.AuthenticationResultsHeader.parse_value(value)
        except authres.AuthResError as exc:
            logger.info("unreadable Authentication-Results header skipped: %s", exc)
            continue
        for result in header.results:
            method = str(result.method or "").lower()
            outcome = str(result.result or "").lower()[:16]
            if method not in METHODS or not outcome:
                continue
            if method not in found or (method == "dkim" and outcome == "pass"):
                found[method] = outcome
    return found
