"""`manage.py import_tickets PATH`: ticket history from JSON Lines (specs/import-format.md)."""

from __future__ import annotations

import sys
import zlib
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from importer.lines import LineError, import_lines, open_source


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

        broken: list[Exception] = []
        try:
            with open_source(path, progress=progress) as lines:
                result = import_lines(_until_broken(lines, broken), on_error=report)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from None
        self.stdout.write(result.summary())
        if broken:
            raise CommandError(
                f"{path} ends early ({broken[0]}): the summary above covers the "
                f"{result.read} records before the break; nothing after it was read."
            )


def _until_broken(lines: Iterator[bytes], broken: list[Exception]) -> Iterator[bytes]:
    """The lines up to where the file breaks off (a truncated .gz, a bad gzip block), so
    the records before the break keep their summary instead of ending in a traceback."""
    started = False
    try:
        for line in lines:
            started = True
            yield line
    except (EOFError, OSError, zlib.error) as exc:
        if not started:
            raise  # not a readable file at all: "Cannot read"
        broken.append(exc)
