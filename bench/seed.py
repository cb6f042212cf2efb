"""Large, realistic benchmark data, written fast with COPY (psycopg 3 `cursor.copy()`).

Tickets, messages, events, customers and organizations are generated in Python and
streamed with COPY in chunks; secondary indexes are dropped first and rebuilt once at
the end, and foreign-key triggers are off for the seeding session only (the generator
keeps references consistent by construction). Generated columns (the search vectors)
fill themselves. This is for the benchmark database only: live data is never written
this way, because it bypasses the services and their events on purpose for speed.
"""

from __future__ import annotations

import contextlib
import json
import queue
import random
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import DatabaseError, connection

from tickets.models import (
    AppliesTo,
    FieldDefinition,
    FieldType,
    Mailbox,
    Role,
    Team,
    Ticket,
    User,
)

BENCH_DOMAIN = "bench.test"
MAILBOX_COUNT = 4
AGENTS_PER_TEAM = 10
CHUNK = 10_000
BULK_TABLES = (
    "tickets_organization",
    "tickets_customer",
    "tickets_ticket",
    "tickets_message",
    "tickets_ticketevent",
)

_WORD_TEXT = (
    "invoice password printer refund login export timeout upgrade shipping certificate "
    "webhook discount account billing order delivery payment card subscription plan user "
    "error page report screen mobile app browser email address update change cancel "
    "renew license key access team admin setting profile data sync import file upload "
    "download slow crash bug feature request question help urgent broken missing wrong "
    "twice charged tracking package return warranty contract quote trial demo migrate "
    "server network vpn firewall backup restore calendar meeting schedule notification"
)
WORDS = _WORD_TEXT.split()
# Message text follows Zipf's law over a large vocabulary, as real text does: a few words
# are everywhere, most are rare. Pseudo-words (product names, error codes, people) make
# up the long tail; search terms are drawn from its middle (see search_terms).
_SYLLABLES = ("ba", "ce", "di", "fo", "gu", "ha", "ji", "ko", "lu", "ma", "ne", "pi", "ro",
              "su", "ta", "vi", "wo", "xe", "yu", "zo")  # fmt: skip
VOCABULARY = [
    *WORDS,
    *(
        _SYLLABLES[n // 400 % 20] + _SYLLABLES[n // 20 % 20] + _SYLLABLES[n % 20] + "n"
        for n in range(8000)
    ),
]
_CUMULATIVE: list[float] = []
_total = 0.0
for _rank in range(1, len(VOCABULARY) + 1):
    _total += 1 / _rank
    _CUMULATIVE.append(_total)


def search_terms(rng: random.Random, count: int) -> list[str]:
    """Words of middling frequency: each matches a few thousand of a million tickets."""
    return [VOCABULARY[rng.randint(150, 3000)] for _ in range(count)]


SUBJECTS = (
    "Cannot {} my {}",
    "{} fails after {}",
    "Question about {} and {}",
    "{} is {} since yesterday",
    "Please help with {} {}",
    "Wrong {} on my {}",
)
TAGS = [f"tag{n}" for n in range(30)] + ["billing", "vip", "bug", "how-to", "outage"]
PRIORITIES = ("low", "normal", "normal", "normal", "high", "urgent")
STATUSES_DONE = ("solved", "closed")
STATUSES_OPEN = ("new", "open", "pending", "on_hold")


@dataclass
class World:
    mailboxes: list[tuple[int, str, int]]  # (mailbox id, address, team id)
    agents_by_team: dict[int, list[tuple[int, str]]]  # team id -> [(user id, email)]
    customers: list[tuple[int, str, str]]  # (id, email, name)


def bench_mailboxes() -> list[Mailbox]:
    return list(Mailbox.objects.filter(address__endswith=f"@{BENCH_DOMAIN}").order_by("address"))


def seeded_count() -> int:
    return Ticket.objects.filter(mailbox__in=bench_mailboxes()).count()


def ensure_people() -> None:
    """Teams, mailboxes, agents, a manager and an admin (few rows: the ORM is fine)."""
    password = make_password("bench-password")
    for n in range(1, MAILBOX_COUNT + 1):
        team, _ = Team.objects.get_or_create(name=f"Bench team {n}")
        mailbox, _ = Mailbox.objects.get_or_create(
            address=f"support{n}@{BENCH_DOMAIN}", defaults={"name": f"Bench support {n}"}
        )
        mailbox.teams.add(team)
        for a in range(AGENTS_PER_TEAM):
            email = f"agent{(n - 1) * AGENTS_PER_TEAM + a + 1}@{BENCH_DOMAIN}"
            user, _ = User.objects.get_or_create(
                email=email,
                defaults={"username": email, "role": Role.AGENT, "password": password},
            )
            team.members.add(user)
    FieldDefinition.objects.get_or_create(
        applies_to=AppliesTo.TICKET,
        key="plan",
        defaults={
            "label": "Plan",
            "type": FieldType.CHOICE,
            "choices": [plan for plan, _ in PLAN_SHARES],
        },
    )
    for role in (Role.MANAGER, Role.ADMIN):
        email = f"{role}@{BENCH_DOMAIN}"
        User.objects.get_or_create(
            email=email, defaults={"username": email, "role": role, "password": password}
        )


def truncate() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(BULK_TABLES)} RESTART IDENTITY CASCADE")


def _extra_columns(cursor: Any, table: str, given: list[str]) -> tuple[list[str], tuple]:
    """NOT NULL columns without a default that the generator does not know about (added
    by later migrations), with a neutral value each, so seeding keeps working."""
    cursor.execute(
        """SELECT column_name, data_type FROM information_schema.columns
           WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL
             AND is_generated = 'NEVER' AND identity_generation IS NULL""",
        [table],
    )
    neutral = {
        "boolean": False,
        "integer": 0,
        "bigint": 0,
        "smallint": 0,
        "jsonb": "{}",
        "ARRAY": "{}",
        "double precision": 0.0,
        "numeric": 0,
        "timestamp with time zone": datetime(2000, 1, 1, tzinfo=UTC),
    }
    names, values = [], []
    for name, data_type in cursor.fetchall():
        if name not in given:
            names.append(name)
            values.append(neutral.get(data_type, ""))
    return names, tuple(values)


def _copy(cursor: Any, table: str, columns: list[str], rows: Iterator[tuple]) -> int:
    extra_names, extra_values = _extra_columns(cursor, table, columns)
    count = 0
    quoted = ", ".join(f'"{name}"' for name in [*columns, *extra_names])
    sql = f"COPY {table} ({quoted}) FROM STDIN"
    with cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row + extra_values if extra_values else row)
            count += 1
    return count


def _secondary_indexes(cursor: Any) -> list[tuple[str, str]]:
    """Indexes of the bulk tables that back no constraint: safe to drop and rebuild."""
    cursor.execute(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.tablename = ANY(%s) AND i.schemaname = current_schema()
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                             WHERE c.conname = i.indexname)""",
        [list(BULK_TABLES)],
    )
    return cursor.fetchall()


def _next_id(cursor: Any, table: str, column: str = "id") -> int:
    cursor.execute(f"SELECT COALESCE(MAX({column}), 0) + 1 FROM {table}")  # noqa: S608
    return int(cursor.fetchone()[0])


def _world(cursor: Any, customers: int, rng: random.Random) -> World:
    mailboxes = []
    agents_by_team: dict[int, list[tuple[int, str]]] = {}
    for mailbox in bench_mailboxes():
        team = mailbox.teams.get()
        mailboxes.append((mailbox.pk, mailbox.address, team.pk))
        agents_by_team[team.pk] = list(team.members.order_by("pk").values_list("pk", "email"))
    existing = list(
        cursor.execute("SELECT id, email, name FROM tickets_customer ORDER BY id").fetchall()
    )
    if len(existing) < customers:
        org_base = _next_id(cursor, "tickets_organization")
        org_count = max(50, customers // 40)
        _copy(
            cursor,
            "tickets_organization",
            ["id", "name", "shares_tickets"],
            ((org_base + n, f"Company {org_base + n}", n % 5 == 0) for n in range(org_count)),
        )
        base = _next_id(cursor, "tickets_customer")
        start = datetime(2024, 1, 1, tzinfo=UTC)
        new = [
            (
                base + n,
                f"customer{base + n}@example.test",
                f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}",
                org_base + rng.randrange(org_count) if n % 3 == 0 else None,
                start,
            )
            for n in range(customers - len(existing))
        ]
        _copy(
            cursor,
            "tickets_customer",
            ["id", "email", "name", "organization_id", "created_at"],
            iter(new),
        )
        existing += [(row[0], row[1], row[2]) for row in new]
    return World(mailboxes, agents_by_team, existing)


_POOL: list[str] = []


def _text(rng: random.Random, low: int, high: int) -> str:
    """A run of words from one long Zipf-distributed stream: as random as the benchmark
    needs, and far cheaper than drawing each word for four million messages."""
    if not _POOL:
        _POOL.extend(rng.choices(VOCABULARY, cum_weights=_CUMULATIVE, k=1_000_000))
    length = rng.randint(low, high)
    start = rng.randrange(len(_POOL) - length)
    return " ".join(_POOL[start : start + length])


class _Chunk:
    """The rows of CHUNK tickets, generated together so their references line up."""

    def __init__(self) -> None:
        self.tickets: list[tuple] = []
        self.messages: list[tuple] = []
        self.events: list[tuple] = []


TICKET_COLUMNS = [
    "number", "subject", "status", "priority", "kind", "channel", "mailbox_id",
    "customer_id", "assignee_id", "team_id", "tags", "cc", "created_at", "updated_at",
    "last_message_at", "first_response_at", "solved_at", "message_count", "fields",
]  # fmt: skip
# The custom choice field "plan" (issue 17's inbox filter by a choice field): its values'
# shares in percent, the rest of the tickets without one. Picked from the ticket number,
# not the seeded random stream, so the rest of the data stays as it was.
PLAN_SHARES = (("enterprise", 5), ("pro", 25), ("free", 55))


def plan_fields(number: int) -> str:
    slot = (number * 2654435761) % 100
    for plan, share in PLAN_SHARES:
        if slot < share:
            return json.dumps({"plan": plan})
        slot -= share
    return "{}"


MESSAGE_COLUMNS = [
    "id", "ticket_id", "direction", "author_id", "from_address", "from_name", "to", "cc",
    "subject", "body_text", "body_html", "automatic", "created_at", "message_id",
    "in_reply_to", "references", "headers", "dedupe_key", "external_id", "delivery_status",
    "delivery_error", "delivery_attempts", "sent_at",
]  # fmt: skip
EVENT_COLUMNS = [
    "ticket_id", "at", "kind", "actor_id", "actor_kind", "before", "after", "message_id",
    "data",
]  # fmt: skip


def _generate(
    chunk: _Chunk,
    number: int,
    message_id: int,
    created: datetime,
    now: datetime,
    world: World,
    rng: random.Random,
) -> int:
    """One ticket with 1-8 messages (4 on average) and its events; returns the next
    message id."""
    mailbox_id, address, team_id = rng.choice(world.mailboxes)
    customer_id, customer_email, customer_name = rng.choice(world.customers)
    agents = world.agents_by_team[team_id]
    agent_id, agent_email = rng.choice(agents)
    age = now - created
    done = age > timedelta(days=20) and rng.random() < 0.93
    status = rng.choice(STATUSES_DONE) if done else rng.choice(STATUSES_OPEN)
    assigned = status != "new" and rng.random() < 0.9
    subject = rng.choice(SUBJECTS).format(rng.choice(WORDS), _text(rng, 1, 1))
    tags = "{" + ",".join(rng.sample(TAGS, rng.randint(0, 2))) + "}"
    events = chunk.events
    events.append(
        (number, created, "created", None, "mail", None,
         json.dumps({"status": "new", "mailbox": address, "customer": customer_email}),
         None, "{}")
    )  # fmt: skip

    count = rng.choice((1, 2, 3, 3, 4, 4, 4, 5, 5, 6, 6, 7, 8))
    at = created
    first_response = last_public = None
    for index in range(count):
        if index == 0:
            direction = "inbound"
        elif rng.random() < 0.15:
            direction = "note"
        else:
            direction = "outbound" if index % 2 else "inbound"
        if at > now:
            at = now
        inbound = direction == "inbound"
        author = None if inbound else agent_id
        chunk.messages.append(
            (
                message_id, number, direction, author,
                customer_email if inbound else address,
                customer_name if inbound else "",
                "{}", "{}", "" if index else subject, _text(rng, 12, 60), "", False, at,
                f"m{message_id}@{BENCH_DOMAIN}" if direction != "note" else "", "", "", "{}",
                "", "", "sent" if direction == "outbound" else "", "", 0,
                at if direction == "outbound" else None,
            )
        )  # fmt: skip
        events.append(
            (number, at, "message", author, "mail" if inbound else "agent", None,
             json.dumps(direction), message_id, "{}")
        )  # fmt: skip
        if direction == "outbound" and first_response is None:
            first_response = at
            if assigned:
                events.append(
                    (number, at, "status", agent_id, "agent", '"new"', '"open"', None, "{}")
                )
        if direction != "note":
            last_public = at
        message_id += 1
        at = at + timedelta(minutes=rng.randint(5, 3000))
    if assigned:
        events.append(
            (number, created + timedelta(minutes=3), "assignee", None, "rule", None,
             json.dumps(agent_email), None, "{}")
        )  # fmt: skip
    updated = min(at, now)
    solved_at = None
    if done:
        solved_at = updated
        before = '"open"' if first_response is not None and assigned else '"new"'
        events.append(
            (number, solved_at, "status", agent_id, "agent", before, '"solved"', None, "{}")
        )
        if status == "closed":
            updated = min(solved_at + timedelta(days=4), now)
            events.append(
                (number, updated, "status", None, "system", '"solved"', '"closed"', None, "{}")
            )
    chunk.tickets.append(
        (
            number, subject, status, rng.choice(PRIORITIES),
            "service" if rng.random() < 0.12 else "support", "email", mailbox_id, customer_id,
            agent_id if assigned else None, team_id, tags, "{}", created, updated, last_public,
            first_response, solved_at, count, plan_fields(number),
        )
    )  # fmt: skip
    return message_id


def _load(
    cursor: Any,
    missing: int,
    rng: random.Random,
    count: int,
    progress: Callable[[int], None] | None,
) -> None:
    world = _world(cursor, max(1000, count // 5), rng)
    number = _next_id(cursor, "tickets_ticket", "number")
    message_id = _next_id(cursor, "tickets_message")
    # A second session can only see committed rows: inside a transaction (tests) the
    # chunks are copied in turn on this one.
    copier = None if connection.in_atomic_block else _Copier()
    try:
        _generate_all(cursor, missing, rng, world, number, message_id, copier, progress)
    finally:
        if copier is not None:
            copier.close()


def _generate_all(
    cursor: Any,
    missing: int,
    rng: random.Random,
    world: World,
    number: int,
    message_id: int,
    copier: _Copier | None,
    progress: Callable[[int], None] | None,
) -> None:
    now = datetime.now(UTC)
    span = timedelta(days=730)
    start = now - span
    step = span / max(missing, 1)
    done = 0
    while done < missing:
        chunk = _Chunk()
        for _ in range(min(CHUNK, missing - done)):
            created = start + step * done + timedelta(seconds=rng.randint(0, 59))
            message_id = _generate(chunk, number, message_id, created, now, world, rng)
            number += 1
            done += 1
        if copier is None:
            _copy_chunk(cursor, chunk)
        else:
            copier.put(chunk)
        if progress is not None:
            progress(len(chunk.tickets))


def _copy_chunk(cursor: Any, chunk: _Chunk) -> None:
    _copy(cursor, "tickets_ticket", TICKET_COLUMNS, iter(chunk.tickets))
    _copy(cursor, "tickets_message", MESSAGE_COLUMNS, iter(chunk.messages))
    _copy(cursor, "tickets_ticketevent", EVENT_COLUMNS, iter(chunk.events))


def _bulk_connection() -> Any:
    """A second database session set up like the seeding one (autocommit, no FK triggers)."""
    raw = connection.get_new_connection(connection.get_connection_params())
    raw.autocommit = True
    with raw.cursor() as cursor:
        with contextlib.suppress(Exception):
            cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '512MB'")
    return raw


class _Copier:
    """COPYs each chunk on its own session while the caller generates the next one.

    Generating rows (Python) and storing them (PostgreSQL parses rows and builds the
    search vectors) then run on the two cores at once instead of taking turns.
    """

    def __init__(self) -> None:
        self.session = _bulk_connection()
        self.chunks: queue.Queue[_Chunk | None] = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="seed-copy", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (chunk := self.chunks.get()) is not None:
            if self.error is not None:
                continue  # drain: the caller stops at its next put()
            try:
                with self.session.cursor() as cursor:
                    _copy_chunk(cursor, chunk)
            except BaseException as exc:  # re-raised in the caller's thread
                self.error = exc

    def put(self, chunk: _Chunk) -> None:
        if self.error is not None:
            raise self.error
        self.chunks.put(chunk)

    def close(self) -> None:
        self.chunks.put(None)
        self.thread.join()
        self.session.close()
        if self.error is not None:
            raise self.error


def _rebuild_indexes(cursor: Any, definitions: list[str]) -> None:
    """CREATE the dropped indexes again; outside a transaction, two sessions at a time."""
    if connection.in_atomic_block:
        for definition in definitions:
            cursor.execute(definition)
        return

    def build(definition: str) -> None:
        session = _bulk_connection()
        try:
            session.execute(definition)
        finally:
            session.close()

    # The big GIN indexes first, so the two sessions end close together.
    ordered = sorted(definitions, key=lambda d: ("USING gin" not in d, "tickets_message" not in d))
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(build, ordered))


def seed(count: int, *, progress: Callable[[int], None] | None = None, seed: int = 1) -> int:
    """Add tickets until the bench mailboxes hold `count`; returns how many were added."""
    ensure_people()
    missing = count - seeded_count()
    if missing <= 0:
        return 0
    rng = random.Random(seed + missing)
    with connection.cursor() as cursor:
        # Off for this session only: references are consistent by construction, and
        # per-row trigger checks would dominate the load. Without superuser rights the
        # SET fails and seeding runs with the checks on, only slower.
        with contextlib.suppress(DatabaseError):
            cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        indexes = _secondary_indexes(cursor)
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        try:
            _load(cursor, missing, rng, count, progress)
        finally:
            # Rebuilt once over all rows: far faster than maintaining them row by row.
            _rebuild_indexes(cursor, [definition for _, definition in indexes])
            cursor.execute("SET session_replication_role = DEFAULT")
        for table, column in (
            ("tickets_ticket", "number"),
            ("tickets_message", "id"),
            ("tickets_ticketevent", "id"),
            ("tickets_customer", "id"),
            ("tickets_organization", "id"),
        ):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "  # noqa: S608
                f"(SELECT COALESCE(MAX({column}), 1) FROM {table}))"
            )
        if not connection.in_atomic_block:  # VACUUM cannot run inside a transaction
            for table in BULK_TABLES:
                cursor.execute(f"VACUUM ANALYZE {table}")
    return missing
