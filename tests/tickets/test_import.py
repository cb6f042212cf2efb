"""History import (specs/import-format.md): round trip, bad lines, idempotency, gz, stdin."""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from importer.lines import import_lines
from metrics.models import SurveyResponse
from tests.conftest import Personas
from tickets.models import (
    ActorKind,
    BusinessCalendar,
    Channel,
    DeliveryStatus,
    Direction,
    EventKind,
    Mailbox,
    Role,
    Ticket,
    TicketEvent,
    User,
)

pytestmark = pytest.mark.django_db

# The examples of specs/import-format.md, verbatim.
SPEC_EXAMPLE = [
    {
        "type": "calendar",
        "name": "Berlin office",
        "timezone": "Europe/Berlin",
        "hours": {
            "mon": [["09:00", "17:00"]],
            "tue": [["09:00", "12:00"], ["13:00", "17:00"]],
            "wed": [["09:00", "17:00"]],
            "thu": [["09:00", "17:00"]],
            "fri": [["09:00", "15:00"]],
        },
        "holidays": ["2026-12-25", "2026-12-26"],
        "default": True,
    },
    {
        "type": "mailbox",
        "address": "support@acme.test",
        "name": "Acme Support",
        "calendar": "Berlin office",
    },
    {
        "type": "agent",
        "email": "ana@acme.test",
        "name": "Ana Ruiz",
        "role": "agent",
        "teams": ["Tier 1"],
    },
    {
        "type": "ticket",
        "external_id": "T-1001",
        "mailbox": "support@acme.test",
        "subject": "Cannot connect payment processor",
        "kind": "support",
        "priority": "normal",
        "team": "Tier 1",
        "tags": ["billing", "integration"],
        "customer": {"email": "li@customer.test", "name": "Li Wei", "organization": "Customer Ltd"},
        "created_at": "2026-03-02T09:15:00Z",
        "messages": [
            {
                "direction": "inbound",
                "from": "li@customer.test",
                "at": "2026-03-02T09:15:00Z",
                "body": "Hi, ...",
            },
            {
                "direction": "outbound",
                "from": "ana@acme.test",
                "at": "2026-03-02T10:01:00Z",
                "body": "Thanks ...",
                "auto": False,
            },
            {
                "direction": "note",
                "from": "ana@acme.test",
                "at": "2026-03-02T10:02:00Z",
                "body": "Escalating to Tier 2",
            },
        ],
        "events": [
            {"at": "2026-03-02T09:20:00Z", "assignee": "ana@acme.test"},
            {"at": "2026-03-02T10:01:00Z", "status": "pending"},
            {"at": "2026-03-03T08:00:00Z", "status": "solved"},
        ],
        "surveys": [
            {
                "type": "csat",
                "score": 5,
                "at": "2026-03-03T12:00:00Z",
                "comment": "Quick fix, thanks",
            },
            {"type": "ces", "score": 6, "at": "2026-03-03T12:00:30Z"},
        ],
    },
    {
        "type": "nps",
        "customer": "li@customer.test",
        "score": 9,
        "at": "2026-04-01T08:00:00Z",
        "comment": "Great team",
    },
]


def jsonl(records: list[dict]) -> bytes:
    return b"".join(json.dumps(record).encode() + b"\n" for record in records)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def run_command(*args: str, stdin: bytes | None = None) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        import sys

        original = sys.stdin
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
        try:
            call_command("import_tickets", *args, stdout=out, stderr=err)
        finally:
            sys.stdin = original
    else:
        call_command("import_tickets", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write(tmp_path: Path, records: list[dict], name: str = "history.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(jsonl(records))
    return path


def test_spec_example_round_trip(tmp_path: Path) -> None:
    out, err = run_command(str(write(tmp_path, SPEC_EXAMPLE)))
    assert out.strip() == "5 records read, 5 imported, 0 unchanged, 0 rejected"
    assert err == ""

    calendar = BusinessCalendar.objects.get(name="Berlin office")
    assert calendar.timezone == "Europe/Berlin"
    assert calendar.is_default
    assert calendar.hours["tue"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert calendar.holidays == [date(2026, 12, 25), date(2026, 12, 26)]

    mailbox = Mailbox.objects.get(address="support@acme.test")
    assert (mailbox.name, mailbox.calendar) == ("Acme Support", calendar)

    ana = User.objects.get(email="ana@acme.test")
    assert (ana.role, ana.get_full_name()) == (Role.AGENT, "Ana Ruiz")
    assert [t.name for t in ana.teams.all()] == ["Tier 1"]
    assert not ana.has_usable_password()

    ticket = Ticket.objects.get(external_id="T-1001")
    assert ticket.subject == "Cannot connect payment processor"
    assert (ticket.kind, ticket.priority, ticket.channel) == ("support", "normal", Channel.IMPORT)
    assert (ticket.mailbox, ticket.team.name, ticket.tags) == (
        mailbox,
        "Tier 1",
        ["billing", "integration"],
    )
    assert ticket.customer.email == "li@customer.test"
    assert ticket.customer.name == "Li Wei"
    assert ticket.customer.organization.name == "Customer Ltd"
    # The current state is the result of the events.
    assert ticket.status == "solved"
    assert ticket.assignee == ana
    assert ticket.created_at == at("2026-03-02T09:15:00Z")
    assert ticket.solved_at == at("2026-03-03T08:00:00Z")
    assert ticket.first_response_at == at("2026-03-02T10:01:00Z")
    assert ticket.last_message_at == at("2026-03-02T10:01:00Z")
    assert ticket.updated_at == at("2026-03-03T08:00:00Z")
    assert ticket.message_count == 3

    messages = list(ticket.messages.all())
    assert [(m.direction, m.created_at, m.body_text) for m in messages] == [
        (Direction.INBOUND, at("2026-03-02T09:15:00Z"), "Hi, ..."),
        (Direction.OUTBOUND, at("2026-03-02T10:01:00Z"), "Thanks ..."),
        (Direction.NOTE, at("2026-03-02T10:02:00Z"), "Escalating to Tier 2"),
    ]
    assert messages[0].author is None and messages[0].from_address == "li@customer.test"
    assert messages[1].author == ana and messages[1].is_agent_reply
    # Delivered by the old system: nothing is queued for sending.
    assert messages[1].delivery_status == DeliveryStatus.SENT
    assert messages[2].author == ana

    events = [
        (e.kind, e.at, e.before, e.after, e.actor_kind)
        for e in TicketEvent.objects.filter(ticket=ticket).order_by("at", "id")
    ]
    imp = ActorKind.IMPORT
    assert [e[:4] for e in events] == [
        (EventKind.CREATED, at("2026-03-02T09:15:00Z"), None, events[0][3]),
        (EventKind.MESSAGE, at("2026-03-02T09:15:00Z"), None, "inbound"),
        (EventKind.ASSIGNEE, at("2026-03-02T09:20:00Z"), None, "ana@acme.test"),
        (EventKind.MESSAGE, at("2026-03-02T10:01:00Z"), None, "outbound"),
        (EventKind.STATUS, at("2026-03-02T10:01:00Z"), "new", "pending"),
        (EventKind.MESSAGE, at("2026-03-02T10:02:00Z"), None, "note"),
        (EventKind.STATUS, at("2026-03-03T08:00:00Z"), "pending", "solved"),
        (EventKind.SURVEY, at("2026-03-03T12:00:00Z"), None, {"csat": 5}),
        (EventKind.SURVEY, at("2026-03-03T12:00:30Z"), None, {"ces": 6}),
    ]
    # Replayed changes are the import's; survey answers are the customer's, as live.
    assert {e[4] for e in events[:-2]} == {imp}
    assert {e[4] for e in events[-2:]} == {ActorKind.CUSTOMER}
    assert events[0][3]["status"] == "new" and events[0][3]["team"] == "Tier 1"

    csat = SurveyResponse.objects.get(kind="csat")
    assert (csat.score, csat.comment, csat.ticket, csat.customer) == (
        5,
        "Quick fix, thanks",
        ticket,
        ticket.customer,
    )
    assert csat.assignee == ana
    assert csat.submitted_at == at("2026-03-03T12:00:00Z")
    ces = SurveyResponse.objects.get(kind="ces")
    assert (ces.score, ces.assignee) == (6, ana)
    nps = SurveyResponse.objects.get(kind="nps")
    assert (nps.score, nps.comment, nps.ticket, nps.customer) == (
        9,
        "Great team",
        None,
        ticket.customer,
    )
    assert nps.submitted_at == at("2026-04-01T08:00:00Z")


def test_second_import_changes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, SPEC_EXAMPLE)
    run_command(str(path))
    counts = (
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        SurveyResponse.objects.count(),
        User.objects.count(),
    )
    out, err = run_command(str(path))
    assert out.strip() == "5 records read, 0 imported, 5 unchanged, 0 rejected"
    assert err == ""
    assert counts == (
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        SurveyResponse.objects.count(),
        User.objects.count(),
    )


def test_bad_lines_are_reported_with_numbers_and_skipped(tmp_path: Path) -> None:
    ticket = SPEC_EXAMPLE[3]
    early_message = json.loads(json.dumps(ticket))
    early_message["external_id"] = "T-2"
    early_message["messages"][1]["at"] = "2026-03-01T00:00:00Z"
    lines = [
        json.dumps(SPEC_EXAMPLE[0]),  # 1 ok
        json.dumps(SPEC_EXAMPLE[1]),  # 2 ok
        json.dumps(SPEC_EXAMPLE[2]),  # 3 ok
        "{not json",  # 4
        json.dumps({"type": "macro", "name": "x"}),  # 5
        json.dumps({**ticket, "external_id": "T-3", "subject": "x", "priority": "asap"}),  # 6
        json.dumps({k: v for k, v in ticket.items() if k != "created_at"} | {"external_id": "T-4"}),
        json.dumps(early_message),  # 8
        json.dumps({**ticket, "external_id": "T-5", "mailbox": "nobody@acme.test"}),  # 9
        "",  # blank lines are not records
        json.dumps({**ticket, "external_id": "T-6", "events": [{"at": "2026-03-02T09:20:00Z"}]}),
        json.dumps({**ticket, "external_id": "T-7", "created_at": "2026-03-02T09:15:00"}),  # 12
        json.dumps(
            {
                "type": "nps",
                "customer": "li@customer.test",
                "score": 11,
                "at": "2026-04-01T08:00:00Z",
            }
        ),
        json.dumps({"type": "agent", "email": "bo@acme.test", "role": "boss"}),  # 14
        json.dumps(ticket),  # 15 ok
        json.dumps(
            {
                **ticket,
                "external_id": "T-8",
                "events": [{"at": "2026-03-02T09:20:00Z", "assignee": "ghost@acme.test"}],
            }
        ),
        "[1, 2]",  # 17
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    out, err = run_command(str(path))
    assert out.strip() == "16 records read, 4 imported, 0 unchanged, 12 rejected"
    reported = dict(line.split(": ", 1) for line in err.strip().splitlines())
    assert set(reported) == {f"line {n}" for n in (4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 16, 17)}
    assert reported["line 4"].startswith("bad JSON")
    assert "unknown type 'macro'" in reported["line 5"]
    assert "bad priority 'asap'" in reported["line 6"]
    assert "missing" in reported["line 7"] and "created_at" in reported["line 7"]
    assert "message 2" in reported["line 8"] and "before created_at" in reported["line 8"]
    assert "unknown mailbox 'nobody@acme.test'" in reported["line 9"]
    assert "event 1" in reported["line 11"] and "changes nothing" in reported["line 11"]
    assert "no offset" in reported["line 12"]
    assert "0-10" in reported["line 13"]
    assert "bad role 'boss'" in reported["line 14"]
    assert "unknown agent 'ghost@acme.test'" in reported["line 16"]
    assert "JSON object" in reported["line 17"]
    # Rejected lines leave nothing behind; good lines landed.
    assert list(Ticket.objects.values_list("external_id", flat=True)) == ["T-1001"]
    assert not User.objects.filter(email="bo@acme.test").exists()
    assert not SurveyResponse.objects.filter(kind="nps").exists()


def test_addresses_too_long_to_store_are_refused_not_a_crash() -> None:
    """The email validator accepts 320 characters; the database keeps 254."""
    long_address = "x" * 250 + "@acme.test"
    ticket = {**SPEC_EXAMPLE[3], "external_id": "T-long"}
    ticket["customer"] = {**ticket["customer"], "email": long_address}
    agent = {"type": "agent", "email": long_address, "role": "agent"}
    result = import_lines(jsonl([*SPEC_EXAMPLE[:3], ticket, agent]).splitlines())
    assert (result.imported, result.rejected) == (3, 2)
    assert all("not a valid email address" in error.reason for error in result.errors)
    assert not Ticket.objects.filter(external_id="T-long").exists()


def test_json_nested_too_deeply_is_a_bad_line_not_a_crash() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    result = import_lines([*jsonl(SPEC_EXAMPLE[:3]).splitlines(), deep])
    assert (result.read, result.imported, result.rejected) == (4, 3, 1)
    assert [(e.line, e.reason) for e in result.errors] == [(4, "bad JSON: nested too deeply")]


def test_a_null_character_rejects_its_line_on_the_bulk_path_too() -> None:
    """The batch's COPY meets the NUL; the batch falls back to the per-line path, where
    only the bad line is refused."""
    bad = json.loads(json.dumps(SPEC_EXAMPLE[3]))
    bad["external_id"] = "T-nul"
    bad["messages"][0]["body"] = "Hi\x00there"
    good = {**SPEC_EXAMPLE[3], "external_id": "T-good"}
    result = import_lines(jsonl([*SPEC_EXAMPLE[:3], bad, good]).splitlines())
    assert (result.imported, result.rejected) == (4, 1)
    assert result.errors[0].line == 4 and "NUL" in result.errors[0].reason
    assert list(Ticket.objects.values_list("external_id", flat=True)) == ["T-good"]


@pytest.mark.parametrize(
    "at", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "1899-12-31T23:00:00Z"]
)
def test_times_python_cannot_read_back_are_refused(at: str) -> None:
    """Such a time was stored, and every inbox listing the ticket then answered 500."""
    ticket = {**SPEC_EXAMPLE[3], "external_id": "T-far", "created_at": at, "messages": []}
    ticket["events"] = ticket["surveys"] = []
    result = import_lines(jsonl([*SPEC_EXAMPLE[:3], ticket]).splitlines())
    assert result.rejected == 1
    assert "is not a year from 1900 to 9000" in result.errors[0].reason
    assert not Ticket.objects.filter(external_id="T-far").exists()
    event = {**SPEC_EXAMPLE[3], "external_id": "T-far-event"}
    event["events"] = [{"at": "9999-12-31T23:59:59-14:00", "status": "open"}]
    result = import_lines(jsonl([event]).splitlines())
    assert result.rejected == 1 and "event 1: at" in result.errors[0].reason


def test_gzip_file(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl.gz"
    path.write_bytes(gzip.compress(jsonl(SPEC_EXAMPLE)))
    out, _ = run_command(str(path))
    assert out.strip() == "5 records read, 5 imported, 0 unchanged, 0 rejected"
    assert Ticket.objects.get(external_id="T-1001").message_count == 3


def test_a_truncated_gzip_file_keeps_what_came_before(tmp_path: Path) -> None:
    from django.core.management import CommandError

    whole = gzip.compress(jsonl(SPEC_EXAMPLE) + jsonl([{"type": "nps"}]) * 2000, mtime=0)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) - 40])
    with pytest.raises(CommandError, match=r"ends early .* the summary above covers"):
        run_command(str(path))
    assert Ticket.objects.filter(external_id="T-1001").exists()
    path.write_bytes(b"not gzip at all")
    with pytest.raises(CommandError, match=r"Cannot read .*Not a gzipped file"):
        run_command(str(path))


def test_stdin(tmp_path: Path) -> None:
    out, _ = run_command("-", stdin=jsonl(SPEC_EXAMPLE))
    assert out.strip() == "5 records read, 5 imported, 0 unchanged, 0 rejected"
    assert Ticket.objects.filter(external_id="T-1001").exists()


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Cannot read"):
        run_command(str(tmp_path / "nope.jsonl"))


def test_unassign_and_auto_messages(tmp_path: Path) -> None:
    ticket = {
        **SPEC_EXAMPLE[3],
        "external_id": "T-9",
        "messages": [
            {
                "direction": "inbound",
                "from": "li@customer.test",
                "at": "2026-03-02T09:15:00Z",
                "body": "Hi",
            },
            {
                "direction": "outbound",
                "from": "support@acme.test",
                "at": "2026-03-02T09:15:05Z",
                "body": "We got it",
                "auto": True,
            },
        ],
        "events": [
            {"at": "2026-03-02T09:20:00Z", "assignee": "ana@acme.test", "status": "open"},
            {"at": "2026-03-02T09:30:00Z", "assignee": None},
        ],
        "surveys": [],
    }
    result = import_lines(jsonl([*SPEC_EXAMPLE[:3], ticket]).splitlines())
    assert (result.imported, result.rejected) == (4, 0), result.errors
    imported = Ticket.objects.get(external_id="T-9")
    assert (imported.status, imported.assignee) == ("open", None)
    # An automatic acknowledgement is not a first response.
    assert imported.first_response_at is None
    auto = imported.messages.get(automatic=True)
    assert auto.author is None and auto.from_address == "support@acme.test"


def test_import_over_the_api_is_for_admins_only(personas: Personas) -> None:
    body = jsonl([*SPEC_EXAMPLE, {"type": "oops"}])
    client = APIClient()
    client.force_authenticate(personas.admin)
    response = client.post("/api/v1/import/", body, content_type="application/x-ndjson")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "read": 6,
        "imported": 5,
        "unchanged": 0,
        "rejected": 1,
        "errors": [{"line": 6, "reason": response.json()["errors"][0]["reason"]}],
    }
    assert "unknown type" in response.json()["errors"][0]["reason"]
    assert Ticket.objects.filter(external_id="T-1001").exists()

    for user in (personas.manager, personas.agent_a, personas.customer.user):
        client.force_authenticate(user)
        denied = client.post("/api/v1/import/", body, content_type="application/x-ndjson")
        assert denied.status_code == 403
        assert set(denied.json()) == {"detail", "errors"}
    client.force_authenticate(personas.admin)
    wrong_type = client.post("/api/v1/import/", body, content_type="text/csv")
    assert wrong_type.status_code == 415
