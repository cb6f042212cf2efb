"""History import from JSON Lines (specs/import-format.md).

`import_lines` reads records one line at a time; a bad line is reported with its number
and reason and skipped, good lines still import. A ticket is replayed with the original
timestamps and the IMPORT actor through the same state logic as live changes, so
imported history yields the same events, and so the same figures, as history lived
through the UI: line by line through the services (`import_ticket`: create_ticket,
add_message, update_ticket), or, for runs of ticket lines, in batches that replay each
history in memory with the services' own functions and write it in bulk
(tickets/import_batch.py; tests/tickets/test_import_batch.py holds the two paths to the
same result). `external_id` (and for people, places and calendars their natural key)
makes a second import of the same file change nothing. Used by `manage.py
import_tickets` and by POST /api/v1/import/."""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, DataError, IntegrityError, connection, transaction

from metrics.models import SCORE_RANGES, SurveyKind
from metrics.surveys import SurveyLink, existing_answers, record_answers
from tickets import calendars, import_batch, services
from tickets.business_hours import CalendarError, parse_hours
from tickets.import_batch import answer_link
from tickets.models import (
    EMAIL_MAX_LENGTH,
    ActorKind,
    BusinessCalendar,
    Channel,
    Customer,
    DeliveryStatus,
    Direction,
    EventKind,
    Kind,
    Mailbox,
    Priority,
    Role,
    Status,
    Team,
    Ticket,
    User,
)
from tickets.services import IMPORT, Actor

IMPORTED, UNCHANGED = "imported", "unchanged"
# Times outside these years are refused: the same bounds as the metrics API's times.
MIN_YEAR, MAX_YEAR = 1900, 9000
AGENT_ROLES = (Role.AGENT, Role.MANAGER, Role.ADMIN)


class LineRejected(ValueError):
    """The reason a line cannot be imported; the line is skipped, the import goes on."""


@dataclass
class LineError:
    line: int
    reason: str


@dataclass
class ImportResult:
    read: int = 0
    imported: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[LineError] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.read} records read, {self.imported} imported, "
            f"{self.unchanged} unchanged, {self.rejected} rejected"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "imported": self.imported,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": [{"line": e.line, "reason": e.reason} for e in self.errors],
        }


# --- reading fields -----------------------------------------------------------------


def _require(record: dict[str, Any], name: str, where: str = "") -> Any:
    value = record.get(name)
    if value is None or value == "":
        raise LineRejected(f"{where}missing field {name!r}")
    return value


def _text(record: dict[str, Any], name: str, *, where: str = "", required: bool = True) -> str:
    value = record.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise LineRejected(f"{where}{name!r} must be a string")
    value = value.strip()
    if required and not value:
        raise LineRejected(f"{where}missing field {name!r}")
    return value


def _email(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise LineRejected(f"{what} must be an email address")
    value = value.strip().lower()
    if not _is_email(value):
        raise LineRejected(f"{what} {value!r} is not a valid email address")
    return value


@lru_cache(maxsize=4096)
def _is_email(value: str) -> bool:
    # Validation is a costly regex, and an import names the same few agents and
    # customers over and over.
    if len(value) > EMAIL_MAX_LENGTH:
        return False
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def _choice(record: dict[str, Any], name: str, choices: Any, default: str | None = None) -> str:
    value = record.get(name, default)
    allowed = _values(choices)
    if value not in allowed:
        raise LineRejected(f"bad {name} {value!r} (one of {', '.join(allowed)})")
    return str(value)


@lru_cache
def _values(choices: Any) -> list[str]:
    # Reading an enum's members is slow, and every message and event names one.
    return [c.value for c in choices]


def _timestamp(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise LineRejected(f"missing or bad timestamp {what}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise LineRejected(f"{what} {value!r} is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise LineRejected(f"{what} {value!r} has no offset (e.g. Z or +02:00)")
    # Stored as UTC and read back by Python, whose datetimes end at year 9999: a time
    # past that (or before year 1) would be written, then break every page that shows it.
    try:
        year = parsed.astimezone(UTC).year
    except OverflowError:
        year = 0
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise LineRejected(f"{what} {value!r} is not a year from {MIN_YEAR} to {MAX_YEAR}")
    return parsed


def _list(record: dict[str, Any], name: str) -> list[Any]:
    value = record.get(name) or []
    if not isinstance(value, list):
        raise LineRejected(f"{name!r} must be a list")
    return value


class Lookups:
    """Mailboxes, agents and teams seen during one import, so each is read once."""

    def __init__(self) -> None:
        self.mailboxes: dict[str, Mailbox] = {}
        self.agents: dict[str, User | None] = {}
        self.teams: dict[str, Team] = {}

    def mailbox(self, address: str) -> Mailbox:
        address = address.strip().lower()
        if address not in self.mailboxes:
            found = Mailbox.objects.filter(address=address).first()
            if found is None:
                raise LineRejected(f"unknown mailbox {address!r} (import its mailbox record first)")
            self.mailboxes[address] = found
        return self.mailboxes[address]

    def agent(self, email: str) -> User | None:
        email = email.strip().lower()
        if email not in self.agents:
            self.agents[email] = User.objects.filter(
                email__iexact=email, role__in=AGENT_ROLES
            ).first()
        return self.agents[email]

    def team(self, name: str) -> Team:
        if name not in self.teams:
            self.teams[name], _ = Team.objects.get_or_create(name=name[:100])
        return self.teams[name]

    def forget(self) -> None:
        """After a rolled-back line, rows it created (e.g. a team) may not exist."""
        self.teams.clear()
        self.agents = {k: v for k, v in self.agents.items() if v is not None}


# --- records --------------------------------------------------------------------------


def import_calendar(record: dict[str, Any], lookups: Lookups) -> str:
    name = _text(record, "name")[:100]
    zone = _text(record, "timezone", required=False) or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise LineRejected(f"unknown time zone {zone!r}") from None
    hours = record.get("hours") or {}
    try:
        parse_hours(hours)
    except CalendarError as exc:
        raise LineRejected(f"bad hours: {exc}") from None
    holidays: list[date] = []
    for value in _list(record, "holidays"):
        try:
            holidays.append(date.fromisoformat(str(value)))
        except ValueError:
            raise LineRejected(f"holiday {value!r} is not a date like 2026-12-25") from None
    is_default = record.get("default", False)
    if not isinstance(is_default, bool):
        raise LineRejected("'default' must be true or false")
    wanted = {"timezone": zone, "hours": hours, "holidays": sorted(holidays)}
    calendar = BusinessCalendar.objects.filter(name=name).first()
    if (
        calendar is not None
        and all(getattr(calendar, key) == value for key, value in wanted.items())
        and (calendar.is_default or not is_default)
    ):
        return UNCHANGED
    if is_default:
        BusinessCalendar.objects.filter(is_default=True).exclude(name=name).update(is_default=False)
        wanted["is_default"] = True
    calendar = calendar or BusinessCalendar(name=name)
    for key, value in wanted.items():
        setattr(calendar, key, value)
    calendars.save_calendar(calendar)
    return IMPORTED


def import_mailbox(record: dict[str, Any], lookups: Lookups) -> str:
    address = _email(_require(record, "address"), "address")
    name = _text(record, "name", required=False)[:100] or address
    calendar = None
    calendar_name = _text(record, "calendar", required=False)
    if calendar_name:
        calendar = BusinessCalendar.objects.filter(name=calendar_name).first()
        if calendar is None:
            raise LineRejected(f"unknown calendar {calendar_name!r} (import it first)")
    mailbox = Mailbox.objects.filter(address=address).first()
    if mailbox is not None:
        if mailbox.name == name and mailbox.calendar_id == (calendar.pk if calendar else None):
            return UNCHANGED
        mailbox.name, mailbox.calendar = name, calendar
        calendars.save_mailbox(mailbox, update_fields=["name", "calendar"])
    else:
        mailbox = Mailbox.objects.create(address=address, name=name, calendar=calendar)
    lookups.mailboxes[address] = mailbox
    return IMPORTED


def import_agent(record: dict[str, Any], lookups: Lookups) -> str:
    email = _email(_require(record, "email"), "email")
    name = _text(record, "name", required=False)
    role = _choice(record, "role", AGENT_ROLES, default=Role.AGENT)
    team_names = [_team_name(value) for value in _list(record, "teams")]
    first, _, last = name.partition(" ")
    changed = False
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(username=email[:150], email=email, first_name=first[:150], last_name=last[:150])
        user.role = role
        user.set_unusable_password()
        user.save()
        changed = True
    elif user.role != role or (name and user.get_full_name() != name):
        if user.role == Role.CUSTOMER:
            raise LineRejected(f"{email} is a customer's portal account, not an agent")
        user.role = role
        if name:
            user.first_name, user.last_name = first[:150], last[:150]
        user.save(update_fields=["role", "first_name", "last_name"])
        changed = True
    current = set(user.teams.values_list("name", flat=True))
    for team_name in team_names:
        if team_name not in current:
            lookups.team(team_name).members.add(user)
            changed = True
    lookups.agents[email] = user
    return IMPORTED if changed else UNCHANGED


def _team_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LineRejected(f"team {value!r} must be a non-empty name")
    return value.strip()[:100]


@dataclass
class _MessageStep:
    direction: str
    body: str
    author: User | None
    automatic: bool
    sender: str
    fields: dict[str, Any]

    def message_fields(self, at: datetime) -> dict[str, Any]:
        """The message as `services.add_message` and `services.new_message` take it."""
        return {
            "direction": self.direction,
            "body_text": self.body,
            "author": self.author,
            "at": at,
            "automatic": self.automatic,
            "from_address": self.sender,
            "send": False,
            **self.fields,
        }


@dataclass
class _Step:
    at: datetime
    order: int  # messages before events at the same instant, then file order
    message: _MessageStep | None = None
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Survey:
    kind: str
    score: int
    at: datetime
    comment: str


@dataclass
class TicketPlan:
    """A validated ticket record, its steps in the order they happened."""

    external_id: str
    mailbox: Mailbox
    subject: str
    kind: str
    priority: str
    tags: list[str]
    team_name: str | None
    created_at: datetime
    customer_email: str
    customer_name: str
    organization: str
    steps: list[_Step]
    surveys: list[_Survey]

    def ticket_fields(self, team: Team | None) -> dict[str, Any]:
        """The new ticket as `services.create_ticket` and `services.new_ticket` take it."""
        return {
            "mailbox": self.mailbox,
            "subject": self.subject,
            "channel": Channel.IMPORT,
            "kind": self.kind,
            "priority": self.priority,
            "tags": self.tags,
            "team": team,
            "at": self.created_at,
            "external_id": self.external_id,
        }


def _external_id(record: dict[str, Any]) -> str:
    return _text(record, "external_id")[:200]


def plan_ticket(record: dict[str, Any], external_id: str, lookups: Lookups) -> TicketPlan:
    """Check a ticket record whose external_id is new; LineRejected says what is wrong."""
    mailbox = lookups.mailbox(_text(record, "mailbox"))
    subject = _text(record, "subject", required=False) or "(no subject)"
    kind = _choice(record, "kind", Kind, default=Kind.SUPPORT)
    priority = _choice(record, "priority", Priority, default=Priority.NORMAL)
    tags = _list(record, "tags")
    if not all(isinstance(tag, str) for tag in tags):
        raise LineRejected("'tags' must be a list of strings")
    team_name = record.get("team")
    created_at = _timestamp(record.get("created_at"), "created_at")
    customer_record = record.get("customer")
    if not isinstance(customer_record, dict):
        raise LineRejected("missing field 'customer' (an object with email, name, organization)")
    customer_email = _email(customer_record.get("email"), "customer email")
    customer_name = _text(customer_record, "name", required=False)
    organization = _text(customer_record, "organization", required=False)

    steps: list[_Step] = []
    for index, message in enumerate(_list(record, "messages"), start=1):
        steps.append(
            _message_step(message, index, created_at, customer_email, customer_name, lookups)
        )
    for index, event in enumerate(_list(record, "events"), start=1):
        steps.append(_event_step(event, index, created_at, lookups))
    surveys = [_survey(s, i, created_at) for i, s in enumerate(_list(record, "surveys"), start=1)]
    if len({survey.kind for survey in surveys}) < len(surveys):
        raise LineRejected("a ticket has at most one survey of each type")
    steps.sort(key=lambda step: (step.at, step.order))
    return TicketPlan(
        external_id=external_id,
        mailbox=mailbox,
        subject=subject,
        kind=kind,
        priority=priority,
        tags=tags,
        team_name=_team_name(team_name) if team_name else None,
        created_at=created_at,
        customer_email=customer_email,
        customer_name=customer_name,
        organization=organization,
        steps=steps,
        surveys=surveys,
    )


def import_ticket(record: dict[str, Any], lookups: Lookups) -> str:
    """One ticket through the per-change services (the per-line path)."""
    external_id = _external_id(record)
    if Ticket.objects.filter(external_id=external_id).exists():
        return UNCHANGED
    plan = plan_ticket(record, external_id, lookups)
    team = lookups.team(plan.team_name) if plan.team_name else None
    customer = services.get_or_create_customer(
        plan.customer_email, plan.customer_name, plan.organization or None
    )
    ticket = services.create_ticket(
        **plan.ticket_fields(team), customer=customer, actor=IMPORT, first_message=False
    )
    for step in plan.steps:
        if step.message is not None:
            services.add_message(
                ticket,
                actor=Actor(ActorKind.IMPORT, step.message.author),
                apply_status_rules=False,
                **step.message.message_fields(step.at),
            )
        else:
            services.update_ticket(ticket, actor=IMPORT, at=step.at, **step.changes)
    for survey in plan.surveys:
        _save_survey(ticket, customer, survey)
    return IMPORTED


def _message_step(
    message: Any,
    index: int,
    created_at: datetime,
    customer_email: str,
    customer_name: str,
    lookups: Lookups,
) -> _Step:
    where = f"message {index}: "
    if not isinstance(message, dict):
        raise LineRejected(f"{where}must be an object")
    try:
        direction = _choice(message, "direction", Direction)
    except LineRejected as exc:
        raise LineRejected(f"{where}{exc}") from None
    at = _timestamp(message.get("at"), f"{where}at")
    if at < created_at:
        raise LineRejected(f"{where}at {message['at']} is before created_at")
    body = message.get("body", "")
    if not isinstance(body, str):
        raise LineRejected(f"{where}'body' must be a string")
    automatic = message.get("auto", False)
    if not isinstance(automatic, bool):
        raise LineRejected(f"{where}'auto' must be true or false")
    sender = _email(_require(message, "from", where), f"{where}from")
    author = None
    if direction != Direction.INBOUND:
        author = lookups.agent(sender)
        if author is None and not automatic:
            raise LineRejected(f"{where}unknown agent {sender!r} (import the agent first)")
    fields: dict[str, Any] = {"external_id": str(index)}
    if direction == Direction.OUTBOUND:
        # Delivered by the old help desk: never queued for sending again.
        fields.update(delivery_status=DeliveryStatus.SENT, sent_at=at)
    if direction == Direction.INBOUND and sender == customer_email:
        fields["from_name"] = customer_name[:200]
    return _Step(at, 0, message=_MessageStep(direction, body, author, automatic, sender, fields))


def _event_step(event: Any, index: int, created_at: datetime, lookups: Lookups) -> _Step:
    where = f"event {index}: "
    if not isinstance(event, dict):
        raise LineRejected(f"{where}must be an object")
    at = _timestamp(event.get("at"), f"{where}at")
    if at < created_at:
        raise LineRejected(f"{where}at {event['at']} is before created_at")
    changes: dict[str, Any] = {}
    if "status" in event:
        try:
            changes["status"] = _choice(event, "status", Status)
        except LineRejected as exc:
            raise LineRejected(f"{where}{exc}") from None
    if "assignee" in event:
        if event["assignee"] is None:
            changes["assignee"] = None
        else:
            email = _email(event["assignee"], f"{where}assignee")
            agent = lookups.agent(email)
            if agent is None:
                raise LineRejected(f"{where}unknown agent {email!r} (import the agent first)")
            changes["assignee"] = agent
    if not changes:
        raise LineRejected(f"{where}changes nothing (give status, assignee or both)")
    return _Step(at, 1, changes=changes)


def _survey(survey: Any, index: int, created_at: datetime) -> _Survey:
    where = f"survey {index}: "
    if not isinstance(survey, dict):
        raise LineRejected(f"{where}must be an object")
    kind = survey.get("type")
    if kind not in (SurveyKind.CSAT, SurveyKind.CES):
        raise LineRejected(f"{where}bad type {kind!r} (one of csat, ces; nps is its own record)")
    score = _score(survey, kind, where)
    at = _timestamp(survey.get("at"), f"{where}at")
    if at < created_at:
        raise LineRejected(f"{where}at {survey['at']} is before created_at")
    return _Survey(kind, score, at, _text(survey, "comment", required=False))


def _score(record: dict[str, Any], kind: str, where: str = "") -> int:
    low, high = SCORE_RANGES[SurveyKind(kind)]
    score = record.get("score")
    if isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high:
        raise LineRejected(f"{where}{kind} score {score!r} must be a whole number {low}-{high}")
    return score


def _save_survey(ticket: Ticket, customer: Customer, survey: _Survey) -> None:
    """Record the answer the way a live answer is recorded (metrics.surveys), filed under
    the assignee of that moment."""
    assignee_event = (
        ticket.events.filter(kind=EventKind.ASSIGNEE, at__lte=survey.at)
        .order_by("-at", "-id")
        .first()
    )
    assignee_id = None
    if assignee_event is not None and assignee_event.after:
        agent = User.objects.filter(email__iexact=assignee_event.after).first()
        assignee_id = agent.pk if agent else None
    link = answer_link(ticket, customer, survey.kind, assignee_id)
    record_answers(link, {survey.kind: survey.score}, survey.comment, at=survey.at)


def import_nps(record: dict[str, Any], lookups: Lookups) -> str:
    email = _email(_require(record, "customer"), "customer")
    score = _score(record, SurveyKind.NPS)
    at = _timestamp(record.get("at"), "at")
    comment = _text(record, "comment", required=False)
    # One answer per customer and time: the invitation of a live NPS answer.
    link = SurveyLink(
        SurveyKind.NPS, Customer(email=email), None, f"import:{email}:{at.isoformat()}"
    )
    if existing_answers(link):
        return UNCHANGED
    customer = services.get_or_create_customer(email)
    record_answers(
        SurveyLink(SurveyKind.NPS, customer, None, link.invitation_id),
        {SurveyKind.NPS: score},
        comment,
        at=at,
    )
    return IMPORTED


IMPORTERS: dict[str, Callable[[dict[str, Any], Lookups], str]] = {
    "calendar": import_calendar,
    "mailbox": import_mailbox,
    "agent": import_agent,
    "ticket": import_ticket,
    "nps": import_nps,
}


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


# Ticket lines are imported this many at a time (tickets/import_batch.py).
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
