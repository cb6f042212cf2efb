"""Words for numbers and times that every screen and message uses the same way."""

from __future__ import annotations

from datetime import datetime

from django.utils.timesince import timesince


def ago(value: datetime | None) -> str:
    """Compact relative time: "5 minutes ago", "3 days ago" (one unit, not two)."""
    if value is None:
        return ""
    since = timesince(value, depth=1)
    return "just now" if since.startswith("0") else f"{since} ago"
