"""One record of each kind: calendars, mailboxes, agents, tickets (planned, then replayed
through the services), NPS answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from importer.batch import answer_link
from importer.fields import (
    AGENT_ROLES,
    IMPORTED,
    UNCHANGED,
    LineRejected,
    Lookups,
    _choice,
    _email,
    _list,
    _require,
    _text,
    _timestamp,
)
from metrics.models import SCORE_RANGES, SurveyKind
from metrics.surveys import SurveyLink, existing_answers, record_answers
from tickets import calendars, services
from tickets.business_hours import CalendarError, parse_hours
from tickets.models import (
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
    fields: dict[str, Any]

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
            "fields": self.fields,
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
    fields = lookups.ticket_field_values(record.get("fields"))
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
        fields=fields,
    )


def import_ticket(record: dict[str, Any], lookups: Lookups) -> str:
    """One ticket through the per-change services (the per-line path)."""
    external_id = _external_id(record)
    if Ticket.objects.filter(external_id=external_id).exists():
        return UNCHANGED
    plan = plan_ticket(record, external_id, lookups)
    team = lookups.ticket_team(plan.team_name, plan.mailbox)
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
    # History replays the customer's answers as they were given, changes included.
    record_answers(link, {survey.kind: survey.score}, survey.comment, at=survey.at, change=True)


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
