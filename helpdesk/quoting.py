"""Where a plain-text mail body's own words end: quoted history and signatures follow.

No domain knowledge: the mail view folds what follows (tickets/mail/quotes.py), and the
core reads only what the customer wrote this time (tickets/services/courtesy.py).
"""

from __future__ import annotations

import re

_ATTRIBUTION = re.compile(
    r"^(on .{4,200}wrote:?|am .{4,200}schrieb.*:|le .{4,200}a écrit ?:|"
    r"el .{4,200}escribió:?|"
    r"-{2,}\s*original message\s*-{2,}|-{2,}\s*forwarded message\s*-{2,}|"
    r"_{10,}|from:\s.+@.+)$",
    re.I,
)
_SIGNATURE = re.compile(r"^(-- ?|--|sent from my \w+.*)$", re.I)


def split_text(text: str) -> tuple[str, str]:
    """(what to show, what to fold) for a plain-text body."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        quoted_from_here = stripped.startswith(">") and all(
            not rest.strip() or rest.lstrip().startswith(">") for rest in lines[index:]
        )
        if index > 0 and (
            _ATTRIBUTION.match(stripped) or _SIGNATURE.match(line.rstrip()) or quoted_from_here
        ):
            return "\n".join(lines[:index]).rstrip(), "\n".join(lines[index:])
    return text.rstrip(), ""
