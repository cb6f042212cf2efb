"""The sidebar's counts, cached per agent under a version that every change moves.

Every open agent screen polls the counts; a few seconds of caching spares the database a
burst of identical COUNTs from one agent's tabs. A change that can move a count (any
change to a ticket, after commit: tickets.services.events; a saved view saved or
deleted) bumps one version number, which is part of every agent's key: the next read
after an action counts afresh, so the counts are right at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.core.cache import cache

from helpdesk.cache import UNREACHABLE, unavailable, writer

COUNTS_TTL = 10
VERSION_KEY = "tandem:inbox-counts-version"


def counts_changed() -> None:
    """Move the version: every agent's cached counts are stale from now on (one INCR)."""
    try:
        writer().incr(cache.make_and_validate_key(VERSION_KEY))
    except UNREACHABLE:
        # Without Redis nothing is cached either (reads miss): nothing can be stale.
        unavailable("the sidebar counts' version was not moved")


def cached_counts[T](user_id: int, compute: Callable[[], T]) -> T:
    """The agent's counts as of the latest change: cached for COUNTS_TTL seconds under
    the current version (two Redis round trips when cached), else computed."""
    version = cache.get(VERSION_KEY) or 0
    # django-stubs: get_or_set may answer None; here it answers what `compute` returned.
    return cast(
        T, cache.get_or_set(f"tandem:inbox-counts:{user_id}:{version}", compute, COUNTS_TTL)
    )
