"""`manage.py bench_pages`: the inbox (also filtered by a choice field) and the ticket
page alone, timed and profiled.

The pages of `manage.py bench --only tickets` without its import, workflow and mail
runs (minutes): for measuring a change to either page on the bench database (seed it
first with `manage.py bench --tickets N --only portal`). Prints p50/p95, the Python
CPU p95 and the queries of one request of each page; `--profile N` adds the N
functions of most cumulative CPU time under cProfile over the timed requests of each page,
`--pyinstrument` pyinstrument's call tree of them (wall time).
"""

from __future__ import annotations

import cProfile
import io
import logging
import pstats
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from pyinstrument import Profiler

from bench import seed as bench_seed
from bench.core import Bench
from bench.management.commands.bench import Command as BenchCommand
from bench.tickets import DETAIL_MS, INBOX_MS, SEARCH_MS, _ok
from tickets.services import field_indexes

PLAN_FILTERS = ("?field.plan=enterprise", "?field.plan=free")
# The assist panel: a full-text query over messages, like search (SEARCH_MS).
ASSIST_MS = SEARCH_MS


class Command(BaseCommand):
    help = "Time (and optionally profile) the inbox and the ticket page on the bench database."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", help="Default: <current name>_bench.")
        parser.add_argument("--samples", type=int, default=40)
        parser.add_argument("--profile", type=int, default=0, metavar="N")
        parser.add_argument("--sort", default="cumulative", help="pstats order (tottime...)")
        parser.add_argument("--pyinstrument", action="store_true", help="Print a call tree.")
        parser.add_argument(
            "--only", choices=["inbox", "inbox by field", "ticket page", "assist panel"]
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Django takes any file-like stdout, its own OutputWrapper included.
        command = BenchCommand(stdout=self.stdout)  # type: ignore[arg-type]  # django-stubs: TextIO only
        command._use_bench_database(options["database"])
        bench = Bench(out=self.stdout, tickets=bench_seed.seeded_count())
        field_indexes.ensure_field_index("plan")
        bench.section = "pages"
        client = bench.client(bench.agent)
        numbers = bench.sample_tickets(bench.agent, 60)
        pages = {
            "inbox": (lambda i: reverse("tickets:inbox"), INBOX_MS),
            # A choice field's filter (issue 17): a rare value and a common one in turn.
            "inbox by field": (
                lambda i: reverse("tickets:inbox") + PLAN_FILTERS[i % len(PLAN_FILTERS)],
                INBOX_MS,
            ),
            "ticket page": (
                lambda i: reverse("tickets:detail", args=[numbers[i % len(numbers)]]),
                DETAIL_MS,
            ),
            # Issue 21: the assist panel the ticket page fetches after it loads (similar
            # solved tickets, articles, routing suggestions), on the same tickets.
            "assist panel": (
                lambda i: reverse("assist:panel", args=[numbers[i % len(numbers)]]),
                ASSIST_MS,
            ),
        }
        logging.disable(logging.WARNING)
        try:
            with override_settings(
                DEBUG=False, ALLOWED_HOSTS=["testserver", *settings.ALLOWED_HOSTS]
            ):
                for name, (url, target) in pages.items():
                    if options["only"] not in (None, name):
                        continue
                    self._page(bench, client, name, url, target, options)
        finally:
            logging.disable(logging.NOTSET)
        self.stdout.write(f"{bench.tickets:,} tickets in {connection.settings_dict['NAME']}")
        self.stdout.write(bench.table())

    def _page(
        self, bench: Bench, client: Client, name: str, url: Any, target: int, options: Any
    ) -> None:
        _ok(client.get(url(0)))
        with CaptureQueriesContext(connection) as queries:
            _ok(client.get(url(1)))
        self.stdout.write(f"{name}: {len(queries)} queries")
        for query in queries.captured_queries:
            self.stdout.write(f"    {query['sql'][:150]}")
        profiler = cProfile.Profile(time.process_time) if options["profile"] else None
        tree = Profiler(interval=0.0005) if options["pyinstrument"] else None

        def get(i: int) -> None:
            if profiler is not None:
                profiler.enable()
            if tree is not None:
                tree.start()
            _ok(client.get(url(i)))
            if tree is not None:
                tree.stop()
            if profiler is not None:
                profiler.disable()

        result = bench.measure(name, get, samples=options["samples"], target_ms=target)
        # On a busy host the median of the CPU time is the steadiest figure to compare.
        self.stdout.write(f"  {name}: Python CPU p50 {result.percentile(50, cpu=True):.1f} ms")
        if profiler is not None:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats(options["sort"])
            stats.print_stats(options["profile"])
            self.stdout.write(out.getvalue())
        if tree is not None:
            self.stdout.write(tree.output_text(show_all=False, time="percent_of_total"))
