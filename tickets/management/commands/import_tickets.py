"""`manage.py import_tickets PATH`: ticket history from JSON Lines (specs/import-format.md)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tickets.importer import LineError, import_lines, open_source


class Command(BaseCommand):
    help = (
        "Import calendars, mailboxes, agents, tickets (with messages, events and surveys) "
        "and NPS answers from a .jsonl file, a .jsonl.gz file, or - for standard input. "
        "Bad lines are reported with their line number and skipped; importing the same "
        "file again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help='A .jsonl or .jsonl.gz file, or "-" for stdin.')
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar even on a terminal."
        )

    def handle(self, *args: Any, path: str, no_progress: bool, **options: Any) -> None:
        progress = not no_progress and sys.stderr.isatty()

        def report(error: LineError) -> None:
            self.stderr.write(f"line {error.line}: {error.reason}")

        try:
            with open_source(path, progress=progress) as lines:
                result = import_lines(lines, on_error=report)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from None
        self.stdout.write(result.summary())
