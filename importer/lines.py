"""History import from JSON Lines (specs/import-format.md).

`import_lines` reads records one line at a time; a bad line is reported with its number
and reason and skipped, good lines still import. A ticket is replayed with the original
timestamps and the IMPORT actor through the same state logic as live changes, so
imported history yields the same events, and so the same figures, as history lived
through the UI: line by line through the services (`import_ticket`: create_ticket,
add_message, update_ticket), or, for runs of ticket lines, in batches that replay each
history in memory with the services' own functions and write it in bulk
(importer/batch.py; tests/tickets/test_import_batch.py holds the two paths to the
same result). `external_id` (and for people, places and calendars their natural key)
makes a second import of the same file change nothing. Used by `manage.py
import_tickets` and by POST /api/v1/import/."""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from django.db import DatabaseError, DataError, IntegrityError, connection, transaction

from importer import batch as import_batch
from importer.fields import IMPORTED, UNCHANGED, LineRejected, Lookups
from importer.records import IMPORTERS, TicketPlan, _external_id, plan_ticket
from importer.results import ImportResult, LineError
from tickets import services
from tickets.models import (
    Ticket,
)

# --- driving ----------------------------------------------------------------------------


def _parse(line: bytes | str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LineRejected(f"bad JSON: {exc}") from None
    except RecursionError:
        # The decoder recurses once per nesting level: "[[[[..." thousands deep.
        raise LineRejected("bad JSON: nested too deeply") from None
    if not isinstance(record, dict):
        raise LineRejected("a record must be a JSON object")
    kind = record.get("type")
    if not isinstance(kind, str) or kind not in IMPORTERS:
        raise LineRejected(f"unknown type {kind!r} (one of {', '.join(IMPORTERS)})")
    return record


def import_record(line: bytes | str, lookups: Lookups) -> str:
    """One line, in one transaction: all of it lands, or none of it."""
    return _import_one(_parse(line), lookups)


def _import_one(record: dict[str, Any], lookups: Lookups) -> str:
    try:
        with transaction.atomic(), services.coalesced_changes():
            return IMPORTERS[record["type"]](record, lookups)
    except LineRejected:
        lookups.forget()
        raise
    except IntegrityError as exc:
        lookups.forget()
        raise LineRejected(f"conflicts with existing data: {str(exc).splitlines()[0]}") from None
    except DataError as exc:
        # A value the database cannot hold (too long, out of range) that the checks
        # above let through: the line is refused like any other bad line.
        lookups.forget()
        raise LineRejected(f"a value does not fit: {str(exc).splitlines()[0]}") from None


# Ticket lines are imported this many at a time (importer/batch.py).
BATCH_SIZE = 250

_Outcome = str | LineRejected
_Entry = tuple[int, dict[str, Any] | LineRejected]


def import_lines(
    lines: Iterable[bytes | str],
    *,
    on_error: Callable[[LineError], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportResult:
    """Import every line; report bad ones through `on_error` and in the result.

    Consecutive ticket lines go in batches of `batch_size` through the bulk path; every
    other record, and a batch the bulk path does not cover, line by line. Either way each
    line's outcome is the one the line-by-line import gives, reported in line order.
    """
    result = ImportResult()
    lookups = Lookups()

    def report(outcomes: Iterable[tuple[int, _Outcome]]) -> None:
        for number, outcome in outcomes:
            if isinstance(outcome, LineRejected):
                error = LineError(number, str(outcome))
                result.rejected += 1
                result.errors.append(error)
                if on_error is not None:
                    on_error(error)
            elif outcome == IMPORTED:
                result.imported += 1
            else:
                result.unchanged += 1

    tickets: list[_Entry] = []
    with _fast_commits():
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            result.read += 1
            try:
                record = _parse(line)
            except LineRejected as exc:
                tickets.append((number, exc))
                continue
            if record["type"] == "ticket":
                tickets.append((number, record))
                if len(tickets) >= batch_size:
                    report(_import_tickets(tickets, lookups))
                    tickets = []
                continue
            # Other records (agents, mailboxes...) may be what the next tickets refer to.
            report(_import_tickets(tickets, lookups))
            tickets = []
            report([(number, _outcome(record, lookups))])
        report(_import_tickets(tickets, lookups))
    return result


def _outcome(entry: dict[str, Any] | LineRejected, lookups: Lookups) -> _Outcome:
    if isinstance(entry, LineRejected):
        return entry
    try:
        return _import_one(entry, lookups)
    except LineRejected as exc:
        return exc


def _import_tickets(entries: list[_Entry], lookups: Lookups) -> list[tuple[int, _Outcome]]:
    """Ticket lines (and lines already rejected) in one batch, as import_ticket would do
    them one by one: a known external_id is unchanged, the first of a repeated one wins."""
    records = [entry for _, entry in entries if not isinstance(entry, LineRejected)]
    wanted = set()
    for record in records:
        with suppress(LineRejected):
            wanted.add(_external_id(record))
    taken = (
        set(Ticket.objects.filter(external_id__in=wanted).values_list("external_id", flat=True))
        if wanted
        else set()
    )
    outcomes: list[tuple[int, _Outcome]] = []
    plans: list[TicketPlan] = []
    for number, entry in entries:
        if isinstance(entry, LineRejected):
            outcomes.append((number, entry))
            continue
        try:
            external_id = _external_id(entry)
            if external_id in taken:
                outcomes.append((number, UNCHANGED))
                continue
            plans.append(plan_ticket(entry, external_id, lookups))
        except LineRejected as exc:
            outcomes.append((number, exc))
            continue
        taken.add(external_id)
        outcomes.append((number, IMPORTED))
    if not plans:
        return outcomes
    try:
        import_batch.import_plans(plans, lookups)
    except (import_batch.NotCovered, DatabaseError):
        # Line by line, so each line gets exactly the outcome (or the error) it would
        # have had on its own.
        lookups.forget()
        return [(number, _outcome(entry, lookups)) for number, entry in entries]
    return outcomes


@contextmanager
def _fast_commits() -> Iterator[None]:
    """Each line commits on its own; not waiting for the WAL flush of each is what makes
    a large import fast. A crash loses at most the last moments, and a re-run of the
    same file fills them in (import is idempotent)."""
    if connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO DEFAULT")


@contextmanager
def open_source(
    path: str, *, stdin: IO[bytes] | None = None, progress: bool = False
) -> Iterator[Iterator[bytes]]:
    """The lines of PATH: a .jsonl file, a .jsonl.gz file, or "-" for standard input.

    With `progress`, a tqdm bar on stderr follows the bytes read from the file (the
    compressed bytes for .gz), so a long import shows how far it is.
    """
    with ExitStack() as stack:
        if path == "-":
            raw: IO[bytes] = stdin or sys.stdin.buffer
            size = None
        else:
            raw = stack.enter_context(Path(path).open("rb"))
            size = Path(path).stat().st_size
        gzipped = path.endswith(".gz") or (hasattr(raw, "peek") and raw.peek(2)[:2] == b"\x1f\x8b")
        stream: IO[bytes] = stack.enter_context(gzip.open(raw, "rb")) if gzipped else raw  # type: ignore[arg-type]
        if not progress:
            yield iter(stream)
            return
        from tqdm import tqdm

        bar = stack.enter_context(
            tqdm(total=size, unit="B", unit_scale=True, desc="import", file=sys.stderr)
        )
        yield _with_progress(stream, raw, bar, seekable=path != "-")


def _with_progress(
    stream: IO[bytes], raw: IO[bytes], bar: Any, *, seekable: bool
) -> Iterator[bytes]:
    done = 0
    for number, line in enumerate(stream, start=1):
        if not seekable:
            done += len(line)
            bar.update(len(line))
        elif number % 200 == 0:
            position = raw.tell()
            bar.update(position - done)
            done = position
        yield line
    if seekable:
        bar.update(raw.tell() - done)
