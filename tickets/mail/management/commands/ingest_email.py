"""`manage.py ingest_email [--mailbox ADDRESS] PATH...`: the command-line door for mail."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from tickets.mail.ahead import parsed_ahead
from tickets.mail.ingest import Outcome
from tickets.mail.intake import chunked, ingest_many
from tickets.mail.redis import UNAVAILABLE
from tickets.mail.sources import iter_path
from tickets.models import Mailbox


class Command(BaseCommand):
    help = (
        "Ingest raw email from .eml/.box files, directories of them, or mbox files. Without "
        "--mailbox, each message goes to the mailbox its recipients name, else the default."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--mailbox", metavar="ADDRESS", help="Mailbox address to file into.")

    def handle(self, *args: Any, **options: Any) -> None:
        mailbox = None
        if options["mailbox"]:
            mailbox = Mailbox.objects.filter(address=options["mailbox"].strip().lower()).first()
            if mailbox is None:
                raise CommandError(f"No mailbox with the address {options['mailbox']!r}.")
        paths = [Path(p) for p in options["paths"]]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise CommandError(f"No such file or directory: {', '.join(missing)}")
        counts: Counter[Outcome] = Counter()
        read = 0
        skipped: list[Path] = []

        def skip(path: Path) -> None:
            skipped.append(path)
            self.stderr.write(
                f"{path}: skipped, its name says it is no mail ({path.suffix}); name it "
                ".eml, or pass the file itself, to ingest it"
            )

        messages = (item for path in paths for item in iter_path(path, skipped=skip))
        batches = chunked(messages, lambda item: len(item[1]))
        for batch, parsed in parsed_ahead(batches):
            try:
                results = ingest_many(
                    [raw for _, raw in batch], mailbox=mailbox, source="command", parsed=parsed
                )
            except UNAVAILABLE as exc:
                # Nothing of this batch was kept, and nothing is quarantined for it: the
                # messages are fine, the infrastructure is not.
                what = "the database" if isinstance(exc, DatabaseError) else "Redis"
                raise CommandError(
                    f"Stopped: {what} is unavailable ({type(exc).__name__}: {exc}). "
                    f"{read} messages were handled before; {counts[Outcome.QUARANTINED]} "
                    "quarantined. Nothing from here on was stored or quarantined: run the "
                    "command again once it is back (messages already stored are recognized "
                    "as duplicates)."
                ) from exc
            for (label, _), result in zip(batch, results, strict=True):
                read += 1
                counts[result.outcome] += 1
                self.stdout.write(f"{label}: {result.describe()}")
        self.stdout.write(
            f"{read} read, {counts[Outcome.NEW_TICKET]} new tickets, "
            f"{counts[Outcome.ADDED]} added to tickets, {counts[Outcome.DUPLICATE]} duplicates, "
            f"{counts[Outcome.QUARANTINED]} quarantined"
            + (f", {len(skipped)} files skipped (see above)" if skipped else "")
        )
