"""Reading the fields of an import record: each helper returns a clean value or raises
LineRejected with the reason the line is skipped."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from tickets import services
from tickets.models import (
    EMAIL_MAX_LENGTH,
    AppliesTo,
    FieldDefinition,
    Mailbox,
    Role,
    Team,
    User,
)

IMPORTED, UNCHANGED = "imported", "unchanged"
# Times outside these years are refused: the same bounds as the metrics API's times.
MIN_YEAR, MAX_YEAR = 1900, 9000
AGENT_ROLES = (Role.AGENT, Role.MANAGER, Role.ADMIN)


class LineRejected(ValueError):
    """The reason a line cannot be imported; the line is skipped, the import goes on."""


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
        # (team id, mailbox id) pairs known to be linked during this import.
        self.working: set[tuple[int, int]] = set()
        # The active ticket fields by key, read on the first record that has fields.
        self.field_definitions: dict[str, FieldDefinition] | None = None

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

    def ticket_team(self, name: str | None, mailbox: Mailbox) -> Team | None:
        """The team of an imported ticket. A ticket's team must work its mailbox
        (services.check_team: every member may open the tickets of the team); the
        history says this team worked this mailbox, so, as agent records give agents
        their teams, the ticket's team is given its mailbox."""
        if not name:
            return None
        team = self.team(name)
        if (team.pk, mailbox.pk) not in self.working:
            mailbox.teams.add(team)
            self.working.add((team.pk, mailbox.pk))
        return team

    def ticket_field_values(self, value: Any) -> dict[str, Any]:
        """A ticket record's `fields` as the ticket stores them (services.clean_fields,
        the API's check), the definitions read once per import."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise LineRejected("'fields' must be an object of key: value")
        if self.field_definitions is None:
            self.field_definitions = services.definitions(AppliesTo.TICKET)
        try:
            return services.clean_fields(AppliesTo.TICKET, {}, value, known=self.field_definitions)
        except services.FieldErrors as refusal:
            raise LineRejected(f"fields: {refusal}") from None

    def forget(self) -> None:
        """After a rolled-back line, rows it created (e.g. a team) may not exist."""
        self.teams.clear()
        self.working.clear()
        self.agents = {k: v for k, v in self.agents.items() if v is not None}
