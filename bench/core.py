"""What `manage.py bench` hands to each app's benchmark section.

A section is a module `<app>/bench.py` exposing `run(bench: Bench) -> None`. It times
what it cares about with `bench.measure(...)` (latency samples, reported as p50/p95) or
`bench.rate(...)` (throughput), using the seeded data (`bench.agent`, `bench.manager`,
`bench.sample_tickets(...)`, `bench.client(user)` for requests through the real URLs).
The command prints one table of every result at the end.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, connection, transaction
from django.test import Client

from bench.seed import search_terms
from tickets.models import Ticket, User

if TYPE_CHECKING:
    from _typeshed import SupportsWrite


@dataclass
class Result:
    section: str
    name: str
    samples_ms: list[float] = field(default_factory=list)
    # CPU time of this process per sample: on a shared machine the wall clock includes
    # waiting for a core; this part does not (the database's own time is not in it).
    cpu_ms: list[float] = field(default_factory=list)
    target_ms: float | None = None
    rate: float | None = None
    unit: str = ""
    target_rate: float | None = None
    note: str = ""
    # What a rate's target asks besides the rate (a load run's p95 and no errors).
    conditions_met: bool = True

    def percentile(self, p: float, *, cpu: bool = False) -> float:
        ordered = sorted(self.cpu_ms if cpu else self.samples_ms)
        index = max(0, math.ceil(p / 100 * len(ordered)) - 1)
        return ordered[index]

    @property
    def passed(self) -> bool | None:
        if self.rate is not None and self.target_rate is not None:
            return self.rate >= self.target_rate and self.conditions_met
        if self.samples_ms and self.target_ms is not None:
            return self.percentile(95) <= self.target_ms
        return None


class Bench:
    def __init__(
        self, *, out: SupportsWrite[str], tickets: int, import_tickets: int = 5_000, seed: int = 7
    ) -> None:
        self.out = out
        self.tickets = tickets
        self.import_tickets = import_tickets
        self.section = ""
        self.results: list[Result] = []
        self.random = random.Random(seed)
        self._users: dict[str, User] = {}

    # --- people and data of the seed ---------------------------------------------------

    def user(self, email: str) -> User:
        if email not in self._users:
            self._users[email] = User.objects.get(email=email)
        return self._users[email]

    @property
    def agent(self) -> User:
        """An agent of one bench team: sees a quarter of the tickets, like most agents."""
        return self.user("agent1@bench.test")

    @property
    def manager(self) -> User:
        return self.user("manager@bench.test")

    def client(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def sample_tickets(self, user: User, count: int) -> list[int]:
        """`count` random ticket numbers that `user` may see."""
        bounds = Ticket.objects.order_by("number").values_list("number", flat=True)
        low, high = bounds.first() or 0, bounds.last() or 0
        found: list[int] = []
        while high and len(found) < count:
            candidates = [self.random.randint(low, high) for _ in range(count * 8)]
            found += (
                Ticket.objects.visible_to(user)
                .filter(number__in=candidates)
                .values_list("number", flat=True)
            )
        return found[:count]

    def search_terms(self, count: int) -> list[str]:
        """Words of the seeded text with realistic selectivity (bench/seed.py)."""
        return search_terms(self.random, count)

    # --- measuring -----------------------------------------------------------------------

    def measure(
        self,
        name: str,
        fn: Callable[[int], Any],
        *,
        samples: int = 40,
        warmup: int = 3,
        target_ms: float | None = None,
        note: str = "",
    ) -> Result:
        """Call fn(i) `warmup` times untimed, then `samples` times timed."""
        for i in range(warmup):
            fn(i)
        result = Result(self.section, name, target_ms=target_ms, note=note)
        for i in range(samples):
            started, cpu_started = time.perf_counter(), time.process_time()
            fn(warmup + i)
            result.samples_ms.append((time.perf_counter() - started) * 1000)
            result.cpu_ms.append((time.process_time() - cpu_started) * 1000)
        self.results.append(result)
        self.out.write(
            f"  {name}: p50 {result.percentile(50):.1f} ms, p95 {result.percentile(95):.1f} ms"
            f" (Python CPU p95 {result.percentile(95, cpu=True):.1f} ms, {samples} samples)\n"
        )
        return result

    def rate(
        self,
        name: str,
        count: int,
        seconds: float,
        *,
        unit: str,
        target: float | None = None,
        note: str = "",
    ) -> Result:
        result = Result(
            self.section,
            name,
            rate=count / seconds if seconds else 0.0,
            unit=unit,
            target_rate=target,
            note=note,
        )
        self.results.append(result)
        self.out.write(f"  {name}: {result.rate:.0f} {unit} ({count} in {seconds:.1f} s)\n")
        return result

    def note(self, text: str) -> None:
        self.out.write(f"  note: {text}\n")

    def prewarm(self, *tables: str) -> None:
        """Read these tables, their indexes and TOAST into the OS page cache (pg_prewarm,
        'read'), so the timings that follow measure a database held in memory, as a
        server of this size holds it. The VMs this runs on hand their page cache back to
        the host within minutes, and a search then reads its pages from disk (see
        docs/benchmarks.md). Without the extension (the embedded server), a note says so."""
        sql = """
            WITH t AS (SELECT unnest(%s::regclass[])::oid AS oid)
            SELECT count(*), coalesce(sum(pg_prewarm(c.oid, 'read')), 0)
              FROM pg_class c
             WHERE c.oid IN (SELECT oid FROM t)
                OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN (SELECT oid FROM t))
                OR c.oid IN (SELECT reltoastrelid FROM pg_class WHERE oid IN (SELECT oid FROM t))
        """
        started = time.monotonic()
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
                cursor.execute(sql, [list(tables)])
                relations, blocks = cursor.fetchone()
        except DatabaseError as exc:
            self.note(f"pages not prewarmed (pg_prewarm: {str(exc).strip()}); timed as cached")
            return
        self.note(
            f"prewarmed {relations} relations of {', '.join(tables)}: "
            f"{blocks * 8 / 1024:,.0f} MB in {time.monotonic() - started:.0f} s"
        )

    # --- report ------------------------------------------------------------------------

    def table(self) -> str:
        header = ("section", "what", "n", "p50 ms", "p95 ms", "cpu p95", "rate", "target", "ok")
        rows = [header]
        for r in self.results:
            if r.rate is not None:
                target = f">= {r.target_rate:.0f} {r.unit}" if r.target_rate else ""
                row = (r.section, r.name, "", "", "", "", f"{r.rate:.0f} {r.unit}", target)
            else:
                target = f"p95 <= {r.target_ms:.0f} ms" if r.target_ms else ""
                row = (
                    r.section,
                    r.name,
                    str(len(r.samples_ms)),
                    f"{r.percentile(50):.1f}",
                    f"{r.percentile(95):.1f}",
                    f"{r.percentile(95, cpu=True):.1f}" if r.cpu_ms else "",
                    "",
                    target,
                )
            ok = {True: "yes", False: "NO", None: ""}[r.passed]
            rows.append((*row, ok))
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = [
            " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
        ]
        lines.insert(1, "-+-".join("-" * w for w in widths))
        notes = [f"- {r.section}/{r.name}: {r.note}" for r in self.results if r.note]
        return "\n".join(lines + (["", *notes] if notes else []))
