"""Parsing a batch of messages in a child process with a memory and CPU limit.

The limits of tickets/mail/limits.py stop the hostile inputs we know of; this stops the
ones we do not. A forked child (it inherits the loaded code and touches nothing but the
bytes) parses the whole batch, so a batch costs one fork and keeps the in-process
throughput. Before each message the child notes its index in shared memory and gives
itself MAIL_PARSE_CPU_SECONDS more CPU time (RLIMIT_CPU); its address space may grow by
MAIL_PARSE_MEMORY_BYTES (RLIMIT_AS). A message that runs out of memory in Python is
quarantined by the child itself; one that kills the child (SIGXCPU, an abort in native
code, the kernel) is named by that index and quarantined by the parent, and a new child
parses the rest. The parent also stops a child that makes no progress for a long while
in wall-clock time (a machine so loaded that CPU time hardly passes).

Where fork does not exist, parsing stays in this process (the limits still apply).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized

from django.conf import settings

from tickets.mail.ingest import parse_all, parse_one
from tickets.mail.parse import ParsedEmail

Parsed = list[ParsedEmail | str]
# Wall-clock seconds one message may take, per CPU second it is allowed, before the
# parent stops the child: generous, since other processes share the cores.
WALL_PER_CPU_SECOND = 6


def _page_size() -> int:
    return os.sysconf("SC_PAGE_SIZE")


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * _page_size()


def _child(raws: Sequence[bytes], current: Synchronized, conn: Connection) -> None:
    memory = settings.MAIL_PARSE_MEMORY_BYTES
    cpu = settings.MAIL_PARSE_CPU_SECONDS
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        # The forked child starts with the parent's whole address space mapped.
        limit = _address_space() + memory
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
    except (OSError, ValueError):
        pass
    results: Parsed = []
    for index, raw in enumerate(raws):
        current.value = index
        usage = resource.getrusage(resource.RUSAGE_SELF)
        used = int(usage.ru_utime + usage.ru_stime) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (used + cpu, resource.RLIM_INFINITY))
        try:
            results.append(parse_one(raw))
        except MemoryError:
            results.append(_memory_reason())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    conn.send((results, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024))
    conn.close()


def _memory_reason() -> str:
    memory = settings.MAIL_PARSE_MEMORY_BYTES // (1024 * 1024)
    return (
        f"Over a safety limit: reading this message needed more than {memory:,} MB of "
        "memory (MAIL_PARSE_MEMORY_BYTES)."
    )


def _death_reason(exitcode: int | None, stopped: bool) -> str:
    cpu = settings.MAIL_PARSE_CPU_SECONDS
    if stopped:
        return (
            f"Over a safety limit: reading this message took far longer than "
            f"{cpu} s (MAIL_PARSE_CPU_SECONDS) and was stopped."
        )
    if exitcode == -signal.SIGXCPU:
        return (
            f"Over a safety limit: reading this message took more than {cpu} s of CPU "
            "time (MAIL_PARSE_CPU_SECONDS)."
        )
    return _memory_reason() + f" The parsing process ended with code {exitcode}."


class ParseStats:
    """What the children of one `parse_isolated` call spent, as each reported it (a child
    that was killed reports nothing): for tests and the benchmark."""

    def __init__(self) -> None:
        self.cpu_seconds = 0.0
        self.peak_rss_bytes = 0
        self.children = 0
        self.killed = 0


def parse_isolated(raws: Sequence[bytes], stats: ParseStats | None = None) -> Parsed:
    """`parse_all(raws)`, computed in child processes with a memory and CPU limit; a
    message that kills its child is reported as over a limit, never raised."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return parse_all(raws)
    stats = stats or ParseStats()
    context = multiprocessing.get_context("fork")
    done: Parsed = []
    while len(done) < len(raws):
        rest = raws[len(done) :]
        current = context.Value("l", -1, lock=False)
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(rest, current, send), daemon=True)
        child.start()
        stats.children += 1
        send.close()
        result, stopped = _wait(child, receive, current)
        receive.close()
        if result is not None:
            parsed, cpu, rss = result
            stats.cpu_seconds += cpu
            stats.peak_rss_bytes = max(stats.peak_rss_bytes, rss)
            done += parsed
            continue
        stats.killed += 1
        culprit = max(current.value, 0)
        if culprit:
            # What the child parsed before the culprit died with it: parsed again.
            done += parse_isolated(rest[:culprit], stats)
        done.append(_death_reason(child.exitcode, stopped))
    return done


def _wait(
    child: multiprocessing.process.BaseProcess, receive: Connection, current: Synchronized
) -> tuple[tuple[Parsed, float, int] | None, bool]:
    """The child's report, or None and whether we stopped it (no progress for too long)."""
    patience = settings.MAIL_PARSE_CPU_SECONDS * WALL_PER_CPU_SECOND + 30
    seen, since = -2, time.monotonic()
    while True:
        if receive.poll(0.5):
            try:
                report = receive.recv()
            except (EOFError, OSError):
                break
            child.join()
            return report, False
        if not child.is_alive():
            break
        if current.value != seen:
            seen, since = current.value, time.monotonic()
        elif time.monotonic() - since > patience:
            child.kill()
            child.join()
            return None, True
    child.join()
    return None, False
