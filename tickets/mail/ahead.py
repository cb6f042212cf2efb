"""Parsing the next batch of mail while this one is stored (`manage.py ingest_email`).

Parsing needs no database and is about half of the CPU time of ingesting a message;
storing a batch is mostly waiting for PostgreSQL. So for a run of several batches a
second process parses batch n+1 while this one stores batch n: on two cores a directory
goes in about a third faster. The outcomes are those of `ingest_many` parsing each batch
itself (tests/mail/test_command.py): parsing is a pure function of the bytes.

The second process is forked (it inherits the loaded code and settings, and touches
nothing but the bytes it is sent); where fork does not exist, or for a single batch,
parsing is driven from this process. Either way each batch is parsed by
`parse_isolated` (tickets/mail/sandbox.py), in a child with a memory and CPU limit.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import chain

from tickets.mail.parse import ParsedEmail
from tickets.mail.sandbox import parse_isolated

log = logging.getLogger(__name__)
Batch = list[tuple[str, bytes]]
Parsed = list[ParsedEmail | str]


def _raws(batch: Batch) -> list[bytes]:
    return [raw for _, raw in batch]


def parsed_ahead(batches: Iterable[Batch]) -> Iterator[tuple[Batch, Parsed]]:
    """Each batch of (label, raw bytes) with its messages parsed (`parse_isolated`), in order;
    from the second batch on, parsed in a second process while the caller works."""
    it = iter(batches)
    first = next(it, None)
    if first is None:
        return
    second = next(it, None)
    if second is None or "fork" not in multiprocessing.get_all_start_methods():
        for batch in chain([first] if second is None else [first, second], it):
            yield batch, parse_isolated(_raws(batch))
        return
    # Parsed before the pool starts its thread: forking a multi-threaded process can
    # leave the child a lock that no thread will release.
    parsed_first = parse_isolated(_raws(first))
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        pending: Future[Parsed] | None = pool.submit(parse_isolated, _raws(second))
        yield first, parsed_first
        current = second
        # `following` is the one after `current` (None after the last), read only now.
        for following in chain(it, [None]):
            try:
                parsed = pending.result() if pending is not None else parse_isolated(_raws(current))
            except BrokenProcessPool:
                # The second process died (out of memory, killed): parse here from now on.
                log.warning("the parsing process died; parsing in this process")
                pending, parsed = None, parse_isolated(_raws(current))
            if following is not None and pending is not None:
                pending = pool.submit(parse_isolated, _raws(following))
            yield current, parsed
            if following is not None:
                current = following
