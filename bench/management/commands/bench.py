"""`manage.py bench` (`make bench`): seed a large data set, then time what matters.

It works on its own database, `<DATABASE NAME>_bench` on the same server unless
`--database` names another, created and migrated on first use, so benchmarks never
disturb development or test data. If that database holds fewer than `--tickets`
tickets in the bench mailboxes, it adds the rest with COPY (bench/seed.py);
`--reseed` empties the ticket tables first.

Sections. Each is a module of this package (bench/tickets.py, kb.py, portal.py,
metrics.py, listed in SECTIONS) with

    def run(bench: bench.core.Bench) -> None: ...

The section's name is the module's; `--only NAME` runs one. Inside, time latency with
`bench.measure(name, fn, samples=40, target_ms=...)` (fn(i) is called per sample and
reported as p50/p95) or throughput with `bench.rate(name, count, seconds, unit=...,
target=...)`. `bench.agent` / `bench.manager` are seeded users, `bench.client(user)` a
signed-in test Client for the real URLs (server-side time: middleware, view, template),
`bench.sample_tickets(user, n)` ticket numbers the user may see, `bench.search_terms(n)`
words with matches. The command prints every result in one table at the end.
"""

from __future__ import annotations

import importlib
import logging
import time
from typing import Any

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test.utils import override_settings
from psycopg import sql

from bench import seed as bench_seed
from bench.core import Bench

# One module of this package per section, in this order: tickets (with mail and the
# workflow), then the help center, the portal and the figures, and last the whole stack
# under concurrent agents (gunicorn and Locust).
SECTIONS = ("tickets", "kb", "portal", "metrics", "service", "load")


class Command(BaseCommand):
    help = "Seed a large benchmark database (COPY) and print p50/p95 timings per section."
    # The checks run on the bench database, once it exists: the database the settings
    # name may not (only its server is needed).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, default=1_000_000)
        parser.add_argument("--reseed", action="store_true", help="Empty and seed again.")
        parser.add_argument("--only", metavar="SECTION", help="Run one section (app label).")
        parser.add_argument(
            "--import-tickets",
            type=int,
            default=5_000,
            help="Tickets in the generated file of the import throughput run.",
        )
        parser.add_argument(
            "--database", help="Database to use (default: <current name>_bench, same server)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sections = self._sections(options["only"])
        self._use_bench_database(options["database"])
        self.check()
        call_command("migrate", interactive=False, verbosity=0)
        self._seed(options["tickets"], reseed=options["reseed"])
        self._analyze()
        bench = Bench(
            out=self.stdout,
            tickets=bench_seed.seeded_count(),
            import_tickets=options["import_tickets"],
        )
        # Production-like request handling: no per-query logging of DEBUG. The sections
        # run thousands of tasks and feed the mail path bad messages on purpose: their
        # INFO and WARNING lines would bury the figures (errors still print).
        logging.disable(logging.WARNING)
        try:
            with override_settings(
                DEBUG=False, ALLOWED_HOSTS=["testserver", *settings.ALLOWED_HOSTS]
            ):
                for label, module in sections:
                    bench.section = label
                    self.stdout.write(self.style.MIGRATE_HEADING(f"{label}"))
                    module.run(bench)
        finally:
            logging.disable(logging.NOTSET)
        self.stdout.write("")
        self.stdout.write(
            f"{bench.tickets:,} tickets in {connection.settings_dict['NAME']}, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        )
        self.stdout.write(bench.table())

    def _sections(self, only: str | None) -> list[tuple[str, Any]]:
        found = [(label, importlib.import_module(f"bench.{label}")) for label in SECTIONS]
        if only:
            found = [(label, module) for label, module in found if label == only]
            if not found:
                raise CommandError(f"No bench section {only!r}.")
        return found

    def _use_bench_database(self, name: str | None) -> None:
        current = connection.settings_dict["NAME"]
        name = name or (current if current.endswith("_bench") else f"{current}_bench")
        params: dict[str, Any] = {
            "host": connection.settings_dict.get("HOST") or None,
            "port": connection.settings_dict.get("PORT") or None,
            "user": connection.settings_dict.get("USER") or None,
            "password": connection.settings_dict.get("PASSWORD") or None,
        }
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            exists = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if not exists:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        connection.close()
        connection.settings_dict["NAME"] = name
        self.stdout.write(f"bench database: {name}")

    def _analyze(self) -> None:
        """Fresh planner statistics, as autovacuum keeps them on a production server: each
        run adds tens of thousands of tickets (mail, import) to a mailbox of its own, and
        on a server with autovacuum off the plans of the next run would be made for the
        data of the seed (see the inbox note in docs/benchmarks.md)."""
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(
            f"planner statistics refreshed (ANALYZE) in {time.monotonic() - started:.1f} s"
        )

    def _seed(self, tickets: int, *, reseed: bool) -> None:
        if reseed:
            bench_seed.truncate()
        have = bench_seed.seeded_count()
        if have >= tickets:
            self.stdout.write(f"seeded already: {have:,} tickets")
            return
        from tqdm import tqdm

        started = time.monotonic()
        with tqdm(total=tickets - have, unit="ticket", unit_scale=True, desc="seeding") as bar:
            added = bench_seed.seed(tickets, progress=bar.update)
        self.stdout.write(f"seeded {added:,} tickets in {time.monotonic() - started:.0f} s")
