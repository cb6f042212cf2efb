"""Setup rows cached per process (helpdesk/local_cache.py) with Redis unreachable: every
read loads the rows, and a change saved during the outage reaches the processes that
hold the old rows once Redis is back. Before, a read with Redis down raised, and a
process that held the rows through the outage kept them after it."""

from __future__ import annotations

from typing import Any

from helpdesk.local_cache import VersionedCache
from tickets.mail.dovecot import free_port


def _redis_down(settings: Any) -> dict[str, Any]:
    up = settings.CACHES
    settings.CACHES = {
        name: {**config, "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}
        for name, config in up.items()
    }
    return up


def test_rows_saved_while_redis_is_down_reach_every_process_once_it_is_back(
    settings: Any,
) -> None:
    rows = ["rule 1"]
    # Two processes: one saves rules, the other applies them.
    saver = VersionedCache("test-rules", lambda: list(rows))
    applier = VersionedCache("test-rules", lambda: list(rows))
    assert applier.get() == ["rule 1"]

    up = _redis_down(settings)
    rows.append("rule 2")
    saver.bump()
    assert saver.get() == ["rule 1", "rule 2"]  # read from the rows, not held

    settings.CACHES = up
    assert saver.get() == ["rule 1", "rule 2"]  # and its lost bump is made now
    assert applier.get() == ["rule 1", "rule 2"]
