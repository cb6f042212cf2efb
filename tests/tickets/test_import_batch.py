"""History import in batches (importer/batch.py) against the line-by-line path.

The same history is imported twice into one database: once line by line through the
per-change services (`import_record`, with their after-commit hooks run and each
ticket's figures measured as the metrics worker would), once through `import_lines`'
bulk path, under two external_id and customer prefixes. Everything the import writes
must come out the same, ids aside.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from importer.lines import LineRejected, Lookups, import_lines, import_record
from metrics.models import SurveyResponse, TicketFigures, TicketStateSpan
from metrics.services import refresh_ticket_figures
from tickets.models import Customer, Mailbox, Message, Team, Ticket, TicketEvent, User
from tickets.workflow import automation, sla
from tickets.workflow import setup as workflow_setup
from tickets.workflow.models import AssignmentPolicy, AutomationRule, RuleCursor, SlaPolicy

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
AGENTS = ["ana@acme.test", "bo@acme.test"]


def ts(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


def setup_records() -> list[dict[str, Any]]:
    return [
        {
            "type": "calendar",
            "name": "Office",
            "timezone": "Europe/Berlin",
            "hours": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
            "holidays": ["2026-03-04"],
        },
        {"type": "mailbox", "address": "support@acme.test", "name": "Acme", "calendar": "Office"},
        {"type": "mailbox", "address": "sales@acme.test", "name": "Sales"},
        *[
            {"type": "agent", "email": email, "name": f"Agent {n}", "teams": ["Tier 1"]}
            for n, email in enumerate(AGENTS)
        ],
    ]


def history(prefix: str) -> list[str]:
    """Ticket lines covering what the replay must get right; customers carry the prefix."""
    c = f"{prefix.lower()}li@customer.test"
    other = f"{prefix.lower()}sam@customer.test"

    def ticket(n: int, **fields: Any) -> dict[str, Any]:
        record = {
            "type": "ticket",
            "external_id": f"{prefix}{n}",
            "mailbox": "support@acme.test",
            "subject": f"Question {n}",
            "customer": {"email": c, "name": "Li Wei", "organization": f"{prefix}Org"},
            "created_at": ts(n),
            "messages": [{"direction": "inbound", "from": c, "at": ts(n), "body": "Help"}],
        }
        record.update(fields)
        return record

    lines = [
        # Solved with a reply, a note, an auto message, a CSAT and a CES answer.
        ticket(
            1,
            team="Tier 1",
            tags=["Billing", "billing", "Big  Deal"],
            priority="high",
            messages=[
                {"direction": "inbound", "from": c, "at": ts(1), "body": "Invoice wrong"},
                {
                    "direction": "outbound",
                    "from": "support@acme.test",
                    "at": ts(1),
                    "body": "Got it",
                    "auto": True,
                },
                {"direction": "outbound", "from": AGENTS[0], "at": ts(30), "body": "Checking"},
                {"direction": "note", "from": AGENTS[1], "at": ts(31), "body": "Billing bug"},
                {
                    "direction": "inbound",
                    "from": "cc@customer.test",
                    "at": ts(90),
                    "body": "Thanks",
                },
            ],
            events=[
                {"at": ts(5), "assignee": AGENTS[0], "status": "open"},
                {"at": ts(30), "status": "pending"},
                {"at": ts(60), "assignee": AGENTS[1]},
                {"at": ts(95), "status": "solved"},
            ],
            surveys=[
                {"type": "csat", "score": 4, "at": ts(45), "comment": "Fine"},
                {"type": "ces", "score": 6, "at": ts(200)},
            ],
        ),
        # Reopened, closed, reopened again by the import, then left open and unassigned:
        # an SLA policy gives it due times.
        ticket(
            2,
            customer={"email": other, "name": "", "organization": ""},
            events=[
                {"at": ts(10), "status": "solved", "assignee": AGENTS[1]},
                {"at": ts(20), "status": "open"},
                {"at": ts(30), "status": "closed"},
                {"at": ts(40), "status": "open", "assignee": None},
                {"at": ts(40), "status": "open"},
            ],
        ),
        "{broken json",
        # Same customer again: name and organization arrive now.
        ticket(3, customer={"email": other, "name": "Sam", "organization": f"{prefix}Other"}),
        # An agent-initiated ticket in another mailbox, kind service, never answered.
        ticket(
            4,
            mailbox="sales@acme.test",
            kind="service",
            messages=[
                {"direction": "outbound", "from": AGENTS[1], "at": ts(4), "body": "Renewal?"}
            ],
            events=[{"at": ts(4), "status": "pending"}],
            surveys=[{"type": "csat", "score": 2, "at": ts(500)}],
        ),
        ticket(5, events=[{"at": ts(6), "assignee": "ghost@acme.test"}]),  # rejected
        ticket(1),  # repeats T1 in the same batch: unchanged
        ticket(6, external_id=f"{prefix}5"),  # T5 was rejected, so this one is new
        ticket(7, messages=[], events=[], surveys=[]),
    ]
    return [line if isinstance(line, str) else json.dumps(line) for line in lines]


def import_line_by_line(lines: list[str], capture: Any) -> list[Any]:
    """The per-line path with its after-commit hooks, then the metrics worker's job."""
    lookups = Lookups()
    outcomes: list[Any] = []
    for line in lines:
        with capture(execute=True):
            try:
                outcomes.append(import_record(line, lookups))
            except LineRejected as exc:
                outcomes.append(str(exc))
    for number in Ticket.objects.values_list("number", flat=True):
        refresh_ticket_figures(number)
    return outcomes


def snapshot(prefix: str) -> dict[str, Any]:
    """Everything an import writes for the tickets of `prefix`, ids replaced by keys."""
    p = prefix.lower()

    def plain(value: Any) -> Any:
        return value.replace(p, "~").replace(prefix, "~") if isinstance(value, str) else value

    def row(values: dict[str, Any], skip: tuple[str, ...] = ()) -> dict[str, Any]:
        return {
            k: plain(json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v)
            for k, v in values.items()
            if k not in skip
        }

    result: dict[str, Any] = {}
    tickets = Ticket.objects.filter(external_id__startswith=prefix).order_by("external_id")
    for ticket in tickets:
        key = ticket.external_id.removeprefix(prefix)
        messages = list(Message.objects.filter(ticket=ticket).order_by("created_at", "id"))
        position = {m.pk: n for n, m in enumerate(messages)}
        events = [
            {**row(e, ("id", "ticket_id", "message_id")), "message": position.get(e["message_id"])}
            for e in TicketEvent.objects.filter(ticket=ticket).order_by("at", "id").values()
        ]
        max_event = TicketEvent.objects.filter(ticket=ticket).order_by("-id").first()
        cursor = RuleCursor.objects.filter(ticket=ticket).first()
        figures = TicketFigures.objects.filter(ticket=ticket).values().first()
        result[key] = {
            "ticket": row(
                Ticket.objects.filter(pk=ticket.pk).values().get(),
                ("number", "external_id", "customer_id", "search_vector"),
            ),
            "customer": row(
                Customer.objects.filter(pk=ticket.customer_id)
                .values("email", "name", "organization__name", "user_id")
                .get()
            ),
            "messages": [
                row(m, ("id", "ticket_id", "search_vector"))
                for m in Message.objects.filter(ticket=ticket).order_by("created_at", "id").values()
            ],
            "events": events,
            "answers": [
                row(a, ("id", "ticket_id", "customer_id"))
                for a in SurveyResponse.objects.filter(ticket=ticket).order_by("kind").values()
            ],
            "figures": row(figures, ("ticket_id", "computed_at")) if figures else None,
            "spans": [
                row(s, ("id", "ticket_id"))
                for s in TicketStateSpan.objects.filter(ticket=ticket)
                .order_by("starts_at", "id")
                .values()
            ],
            "rule cursor at last event": cursor is not None
            and cursor.last_event_id == max_event.pk,
        }
    return result


@pytest.fixture
def setup(django_capture_on_commit_callbacks: Any) -> None:
    import_lines([json.dumps(r) for r in setup_records()])
    # An SLA on normal priority, and a rule for new tickets that must not act on history.
    workflow_setup.save_policy(
        SlaPolicy(
            name="Normal",
            priority="normal",
            first_response_hours=Decimal("4"),
            resolution_hours=Decimal("24"),
        )
    )
    sla.policies_changed()
    workflow_setup.save_rule(
        AutomationRule(
            name="Everything new is urgent",
            trigger="created",
            conditions=[],
            actions=[{"type": "set_priority", "value": "urgent"}],
        )
    )
    automation.rules_changed()
    # An existing customer without a name: both paths fill it in.
    Customer.objects.create(email="l-li@customer.test")
    Customer.objects.create(email="b-li@customer.test")


def test_bulk_path_writes_what_the_line_by_line_path_writes(
    setup: None, django_capture_on_commit_callbacks: Any
) -> None:
    per_line = import_line_by_line(history("L-"), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        result = import_lines(history("B-"))

    assert per_line == [
        "imported",
        "imported",
        per_line[2],
        "imported",
        "imported",
        per_line[5],
        "unchanged",
        "imported",
        "imported",
    ]
    assert per_line[2].startswith("bad JSON") and "ghost@acme.test" in per_line[5]
    assert (result.read, result.imported, result.unchanged, result.rejected) == (9, 6, 1, 2)
    assert [(e.line, e.reason) for e in result.errors] == [
        (3, per_line[2]),
        (6, per_line[5].replace("L-", "B-")),
    ]
    line_by_line, bulk = snapshot("L-"), snapshot("B-")
    assert list(bulk) == ["1", "2", "3", "4", "5", "7"]
    for key in line_by_line:
        assert bulk[key] == line_by_line[key], key
    # What the comparison rests on: the replay really did all of this.
    one, two = bulk["1"], bulk["2"]
    assert one["ticket"]["status"] == "solved" and one["ticket"]["priority"] == "high"
    assert json.loads(one["ticket"]["tags"]) == ["big-deal", "billing"]
    assert [a["kind"] for a in one["answers"]] == ["ces", "csat"]
    assert one["answers"][1]["assignee_id"] == User.objects.get(email=AGENTS[0]).pk
    assert one["answers"][0]["assignee_id"] == User.objects.get(email=AGENTS[1]).pk
    assert one["figures"]["agent_replies"] == 1 and one["figures"]["one_touch"] is True
    assert two["ticket"]["status"] == "open" and two["ticket"]["assignee_id"] is None
    assert two["ticket"]["resolution_due_at"] is not None
    assert two["figures"]["reopens"] == 2
    assert two["customer"] == {
        "email": "~sam@customer.test",
        "name": "Sam",
        "organization__name": "~Other",
        "user_id": None,
    }
    assert one["customer"]["name"] == "Li Wei" and one["customer"]["organization__name"] == "~Org"
    assert all(t["rule cursor at last event"] for t in bulk.values())
    # No rule ran on imported history, with or without survey answers.
    assert {t["ticket"]["priority"] for t in line_by_line.values()} == {"high", "normal"}
    assert not TicketEvent.objects.filter(actor_kind="rule").exists()


def test_second_import_through_the_bulk_path_changes_nothing(
    setup: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        import_lines(history("B-"))
    before = snapshot("B-")
    counts = (Ticket.objects.count(), TicketEvent.objects.count(), Customer.objects.count())
    result = import_lines(history("B-"))
    # The line that was rejected for its unknown agent now shares its external_id with
    # a ticket the first import took from a later line: unchanged, as line by line.
    assert (result.imported, result.unchanged, result.rejected) == (0, 8, 1)
    assert snapshot("B-") == before
    assert counts == (Ticket.objects.count(), TicketEvent.objects.count(), Customer.objects.count())


def bench_like(prefix: str, count: int) -> list[str]:
    lines = []
    for n in range(count):
        customer = f"{prefix.lower()}{n % 7}@customer.test"
        lines.append(
            json.dumps(
                {
                    "type": "ticket",
                    "external_id": f"{prefix}{n}",
                    "mailbox": "support@acme.test",
                    "subject": f"Question {n}",
                    "team": "Tier 1",
                    "customer": {"email": customer, "name": "C", "organization": f"{prefix}Co"},
                    "created_at": ts(n),
                    "messages": [
                        {"direction": "inbound", "from": customer, "at": ts(n), "body": "Hi"},
                        {
                            "direction": "outbound",
                            "from": AGENTS[n % 2],
                            "at": ts(n + 9),
                            "body": "Ok",
                        },
                    ],
                    "events": [
                        {"at": ts(n + 1), "assignee": AGENTS[n % 2], "status": "open"},
                        {"at": ts(n + 10), "status": "solved"},
                    ],
                    "surveys": [{"type": "csat", "score": 5, "at": ts(n + 20)}],
                }
            )
        )
    return lines


def test_a_batch_costs_the_same_queries_for_ten_tickets_or_forty(setup: None) -> None:
    import_lines(bench_like("W-", 3))  # agents, mailbox and team are read once per import

    def queries(prefix: str, count: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            result = import_lines(bench_like(prefix, count))
        assert result.imported == count
        return len(captured)

    ten, forty = queries("A-", 10), queries("B-", 40)
    # Once per import: the mailbox, the 2 agents, the team and its link to the mailbox
    # (a ticket's team works its mailbox: importer.fields.Lookups.ticket_team). Per batch: the known
    # external ids; customers (by either address), the organizations of new customers'
    # domains, organizations read and created, customers created; the
    # ticket and message id sequences; the round-robin teams; COPY tickets, messages,
    # events; the survey answers; the rule cursors; for the figures the calendars,
    # tickets, events and users, old rows deleted, COPY figures and spans; 2 savepoints
    # and their releases.
    assert ten == forty <= 30
    assert Ticket.objects.filter(external_id__startswith="B-").count() == 40


def test_batches_split_at_other_records_and_at_the_batch_size(setup: None) -> None:
    lines = [
        *bench_like("S-", 5),
        json.dumps({"type": "agent", "email": "new@acme.test", "name": "New"}),
        json.dumps(
            {
                "type": "ticket",
                "external_id": "S-new",
                "mailbox": "support@acme.test",
                "customer": {"email": "x@customer.test"},
                "created_at": ts(0),
                "events": [{"at": ts(1), "assignee": "new@acme.test"}],
            }
        ),
    ]
    result = import_lines(lines, batch_size=2)
    assert (result.read, result.imported, result.rejected) == (7, 7, 0), result.errors
    assert Ticket.objects.get(external_id="S-new").assignee.email == "new@acme.test"


def test_a_batch_that_round_robin_would_assign_goes_line_by_line(
    setup: None, django_capture_on_commit_callbacks: Any
) -> None:
    tier_1 = Team.objects.get(name="Tier 1")
    # Its agents work in the mailbox (the import format does not say which teams do):
    # round robin hands a ticket only to someone who may open it.
    Mailbox.objects.get(address="support@acme.test").teams.add(tier_1)
    AssignmentPolicy.objects.create(team=tier_1)
    waiting = {
        "type": "ticket",
        "external_id": "RR-1",
        "mailbox": "support@acme.test",
        "team": "Tier 1",
        "customer": {"email": "w@customer.test"},
        "created_at": ts(0),
        "messages": [{"direction": "inbound", "from": "w@customer.test", "at": ts(0)}],
    }
    with django_capture_on_commit_callbacks(execute=True):
        result = import_lines([*bench_like("RR-x", 2), json.dumps(waiting)])
    assert (result.imported, result.rejected) == (3, 0)
    ticket = Ticket.objects.get(external_id="RR-1")
    # Assigned after commit by the workflow hook, as the line-by-line import does.
    assert ticket.assignee is not None and ticket.assignee.email in AGENTS
    assert TicketEvent.objects.filter(ticket=ticket, kind="assignee", actor_kind="system").exists()


def test_survey_answers_in_imported_history_run_no_rules(
    setup: None, django_capture_on_commit_callbacks: Any
) -> None:
    """A customer's answer commits with the imported history; it must not make the rules
    for new tickets run on it, line by line or in a batch."""
    lines = bench_like("R-", 2)
    import_line_by_line(lines[:1], django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        import_lines(lines[1:])
    assert set(
        Ticket.objects.filter(external_id__startswith="R-").values_list("priority", flat=True)
    ) == {"normal"}
    assert not TicketEvent.objects.filter(actor_kind="rule").exists()


def test_a_ticket_solved_just_now_still_gets_its_survey_task(
    setup: None, django_capture_on_commit_callbacks: Any
) -> None:
    """Figures are written with the batch; only a solve recent enough to owe the customer
    a CSAT survey is handed to the usual figures task (which offers the survey)."""
    from django.core.cache import cache
    from django.utils import timezone

    from metrics.hooks import PENDING_KEY

    now = timezone.now()
    recent = {
        "type": "ticket",
        "external_id": "N-recent",
        "mailbox": "support@acme.test",
        "customer": {"email": "n@customer.test"},
        "created_at": (now - timedelta(hours=3)).isoformat(),
        "events": [{"at": (now - timedelta(hours=1)).isoformat(), "status": "solved"}],
    }
    with django_capture_on_commit_callbacks(execute=True):
        result = import_lines([*bench_like("N-old", 2), json.dumps(recent)])
    assert result.imported == 3
    numbers = dict(
        Ticket.objects.filter(external_id__startswith="N-").values_list("external_id", "number")
    )
    assert cache.get(PENDING_KEY.format(numbers["N-recent"])) == 1
    assert cache.get(PENDING_KEY.format(numbers["N-old0"])) is None
    assert TicketFigures.objects.filter(ticket_id__in=numbers.values()).count() == 3
