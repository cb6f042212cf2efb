"""`manage.py bench_peer_side`: our side of the django-helpdesk comparison.

../shared/bench/peer_helpdesk/ times django-helpdesk with its project-neutral
`bench_common.measure` (in-process test Client, signed-in user, warm-ups, up to 25 timed
requests in 30 s, one extra request with its queries captured). This command points the
same function at our pages on the bench database, so both sides are timed the same way
in one sitting (interleave: peer, ours, peer, ours). The harness is read from where it
lies (`--harness`, default ../shared/bench/peer_helpdesk beside the clone); it is not
copied into this tree.

Pages (the peer's counterparts in brackets): the inbox's first page (its list JSON), a
ticket page of 6 messages (ticket with 6 follow-ups), search for "printer" and "invoice"
(its search), the support dashboard (its dashboard) and the summary API (its reports).
"""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path
from types import ModuleType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test.utils import override_settings
from django.urls import reverse

from bench import seed as bench_seed
from bench.core import Bench
from bench.management.commands.bench import Command as BenchCommand
from tickets.models import Message, Ticket

DEFAULT_HARNESS = Path(settings.BASE_DIR).parent / "shared" / "bench" / "peer_helpdesk"


def load_harness(directory: Path) -> ModuleType:
    path = directory / "bench_common.py"
    if not path.is_file():
        raise CommandError(f"{path} not found: pass --harness DIR (the peer_helpdesk folder)")
    spec = importlib.util.spec_from_file_location("bench_common", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Command(BaseCommand):
    help = "Time our pages with the peer harness's bench_common, for side-by-side ratios."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", help="Default: <current name>_bench.")
        parser.add_argument("--harness", type=Path, default=DEFAULT_HARNESS)
        parser.add_argument("--max-n", type=int, default=25)
        parser.add_argument("--out", type=Path, help="Write the results as JSON here too.")

    def handle(self, *args: Any, **options: Any) -> None:
        harness = load_harness(options["harness"])
        # Django takes any file-like stdout, its own OutputWrapper included.
        command = BenchCommand(stdout=self.stdout)  # type: ignore[arg-type]  # django-stubs: TextIO only
        command._use_bench_database(options["database"])
        bench = Bench(out=self.stdout, tickets=bench_seed.seeded_count())
        agent, manager = bench.agent, bench.manager
        six = (
            Ticket.objects.visible_to(agent)
            .filter(message_count=6)
            .values_list("number", flat=True)
            .first()
        )
        if six is None:
            raise CommandError("no ticket of 6 messages visible to the bench agent")
        pages = [
            ("ticket list, first page", agent, reverse("tickets:inbox")),
            ("ticket page, 6 messages", agent, reverse("tickets:detail", args=[six])),
            ("search, printer", agent, reverse("tickets:search") + "?q=printer"),
            ("search, invoice", agent, reverse("tickets:search") + "?q=invoice"),
            ("dashboard", manager, reverse("metrics:support")),
            ("reports (summary API)", manager, "/api/v1/metrics/summary/"),
        ]
        results: dict[str, Any] = {"tickets": bench.tickets, "messages_in_ticket": 6}
        logging.disable(logging.WARNING)
        try:
            with override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"]):
                for name, user, url in pages:
                    client = harness.make_client(user)
                    result = harness.measure(client, url, max_n=options["max_n"])
                    harness.print_row(name, result)
                    results[name] = result
        finally:
            logging.disable(logging.NOTSET)
        self.stdout.write(f"{Message.objects.count():,} messages, {bench.tickets:,} tickets")
        if options["out"]:
            options["out"].write_text(json.dumps(results, indent=1, default=str))
