"""Rebuild every ticket's figures from its event history."""

from __future__ import annotations

import os
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from metrics import extensions
from metrics.services import recompute_all


class Command(BaseCommand):
    help = (
        "Recompute all per-ticket figures from the ticket event log, then what the apps "
        "above keep from them: account health and topics (safe to run live)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=5000, help="Tickets per transaction.")
        parser.add_argument(
            "--workers",
            type=int,
            default=min(4, os.cpu_count() or 1),
            help="Processes working in parallel (default: CPU cores, at most 4).",
        )

    def handle(
        self, *args: Any, batch_size: int, workers: int, verbosity: int, **options: Any
    ) -> None:
        if batch_size < 1 or workers < 1:
            raise CommandError("--batch-size and --workers must be at least 1.")
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            if verbosity > 1:
                self.stdout.write(f"{done}/{total} tickets")

        count = recompute_all(batch_size=batch_size, workers=workers, progress=progress)
        extensions.recomputed()
        elapsed = time.monotonic() - started
        self.stdout.write(f"Recomputed figures of {count} tickets in {elapsed:.1f} s.")
