"""The rules of a change hold whatever the door: the ticket page, a new-ticket form, the
API, a bulk action, an automation rule (on a change or on a schedule), round robin, a
success follow-up, a macro, outreach, and history import (which replays as it was).

Before the rules lived in tickets/services/policy.py, the assignee rule was checked by the
form, the serializer and bulk assign only (a rule, round robin or a success follow-up
handed tickets to agents who could not open them), and the tag limit was 20 in the web
forms, 30 in the API and none anywhere else.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from importer.lines import import_lines
from tests.conftest import Personas
from tests.factories import make_ticket
from tests.tickets.api_client import assert_error_shape, client_for
from tickets import services
from tickets.models import Direction, EventKind, Organization, Status, Ticket
from tickets.services import Actor, InvalidChange
from tickets.workflow import automation, follow_ups, setup
from tickets.workflow.models import AssignmentPolicy, AutomationRule, CannedReply

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
THIRTY = [f"t{n:02}" for n in range(30)]
THIRTY_ONE = [*THIRTY, "t30"]


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _rule(trigger: str, actions: list[dict[str, Any]], conditions: Any = ()) -> AutomationRule:
    rule = setup.save_rule(
        AutomationRule(
            name=f"Rule {trigger}",
            trigger=trigger,
            conditions=list(conditions),
            actions=actions,
        )
    )
    # save_rule refreshes the cached rules after commit, which a test never reaches.
    automation.rules_changed()
    return rule


def _scheduled_run(ticket: Ticket, capture: Any) -> None:
    """Run the scheduled rules as the beat would two days after the ticket last changed."""
    with capture(execute=True):
        assert automation.run_scheduled_rules(now=timezone.now() + timedelta(hours=49)) == 1


STALE = [
    {"field": "status", "op": "is", "value": "open"},
    {"field": "hours_since_update", "op": "more_than", "value": 48},
]


def _notices(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _import(*records: dict[str, Any]) -> None:
    result = import_lines([json.dumps(r) for r in records])
    assert result.rejected == 0, result.errors


def test_an_assignee_who_cannot_open_the_ticket_is_refused_by_every_door(
    personas: Personas,
    no_builtin_rules: None,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Agent B works in mailbox B only: no door hands them a ticket of mailbox A."""
    p = personas
    ticket = make_ticket(p.mailbox_a, p.customer)
    refusal = "agent.b@staff.test does not work in this ticket's mailbox (a@tandem.test)."

    # The service itself, whoever calls it.
    with pytest.raises(InvalidChange, match="does not work in this ticket's mailbox"):
        services.update_ticket(ticket, actor=Actor.agent(p.manager), assignee=p.agent_b)

    # The ticket page: agent B is not among the choices.
    page = _client(p.agent_a).post(
        reverse("tickets:update", args=[ticket.pk]), {"assignee": p.agent_b.pk}, headers=HTMX
    )
    assert page.status_code == 422

    # The API: 400 on the field.
    api = client_for(p.agent_a).patch(
        f"/api/v1/tickets/{ticket.pk}/", {"assignee": p.agent_b.email}, format="json"
    )
    assert assert_error_shape(api, 400)["errors"] == {"assignee": [refusal]}

    # Bulk assign: skipped and counted.
    bulk = _client(p.manager).post(
        reverse("tickets:bulk"),
        {"action": "assign", "assignee": str(p.agent_b.pk), "tickets": [ticket.pk]},
    )
    assert _notices(bulk) == ["Left unchanged: 1 ticket in mailboxes Ben does not work in."]

    # A rule on new tickets: its action is refused and logged; the ticket still opens.
    _rule("created", [{"type": "set_assignee", "value": p.agent_b.pk}])
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        by_rule = make_ticket(p.mailbox_a, p.customer)
    by_rule.refresh_from_db()
    assert by_rule.assignee is None
    assert refusal in caplog.text
    AutomationRule.objects.all().delete()
    automation.rules_changed()

    # A scheduled rule: the refused action is logged, its other actions still apply and
    # the run goes on.
    _rule("scheduled", [{"type": "set_assignee", "value": p.agent_b.pk}, *_tag("stale")], STALE)
    services.update_ticket(ticket, status=Status.OPEN)
    _scheduled_run(ticket, django_capture_on_commit_callbacks)
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.tags) == (None, ["stale"])
    AutomationRule.objects.all().delete()
    automation.rules_changed()

    # Round robin in a team that does not work in the mailbox: the team cannot be the
    # ticket's (services.check_team), so its rotation never reaches the ticket.
    AssignmentPolicy.objects.create(team=p.team_b)
    with pytest.raises(InvalidChange, match="Team B does not work in this ticket's mailbox"):
        make_ticket(p.mailbox_a, p.customer, team=p.team_b)

    # A success follow-up for an organization whose contact works elsewhere: it opens,
    # unassigned, in the mailbox's inbox.
    organization = Organization.objects.create(name="Acme", success_contact=p.agent_b)
    p.customer.organization = organization
    p.customer.save(update_fields=["organization"])
    follow_up = follow_ups.open_success_follow_up(ticket, actor=Actor.rule(1, "Follow up"))
    assert follow_up is not None and follow_up.assignee is None

    # Someone who left (deactivated) cannot be given a ticket either.
    p.agent_a.is_active = False
    p.agent_a.save(update_fields=["is_active"])
    with pytest.raises(InvalidChange, match="is not an active agent"):
        services.update_ticket(ticket, actor=Actor.agent(p.manager), assignee=p.agent_a)

    # History import replays who held a ticket, as it was in the other help desk.
    _import(
        {"type": "agent", "email": "gone@acme.test", "name": "Gone", "teams": ["Elsewhere"]},
        {
            "type": "ticket",
            "external_id": "T-1",
            "mailbox": p.mailbox_a.address,
            "customer": {"email": "li@customer.test"},
            "created_at": "2026-03-02T09:15:00Z",
            "events": [{"at": "2026-03-02T09:20:00Z", "assignee": "gone@acme.test"}],
        },
    )
    assert Ticket.objects.get(external_id="T-1").assignee.email == "gone@acme.test"


def _tag(*tags: str) -> list[dict[str, Any]]:
    return [{"type": "add_tags", "value": list(tags)}]


def test_a_ticket_carries_at_most_thirty_tags_whatever_the_door(
    personas: Personas,
    no_builtin_rules: None,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    p = personas
    full = make_ticket(p.mailbox_a, p.customer, tags=THIRTY)
    agent = _client(p.agent_a)

    # The service itself.
    with pytest.raises(InvalidChange, match="at most 30 tags; this would make 31"):
        services.update_ticket(full, actor=Actor.agent(p.agent_a), tags=THIRTY_ONE)

    # The ticket page: 30 are fine (the form said 20), 31 are not.
    other = make_ticket(p.mailbox_a, p.customer)
    update = reverse("tickets:update", args=[other.pk])
    assert agent.post(update, {"tags": ",".join(THIRTY)}, headers=HTMX).status_code == 200
    page = agent.post(update, {"tags": ",".join(THIRTY_ONE)}, headers=HTMX)
    assert page.status_code == 422 and "at most 30 tags" in page.content.decode()
    other.refresh_from_db()
    assert other.tags == THIRTY

    # The new-ticket form, likewise.
    new = {
        "customer_email": "new@example.test",
        "mailbox": str(p.mailbox_a.pk),
        "channel": "email",
        "subject": "Tags",
        "body": "Many tags",
        "priority": "normal",
    }
    page = agent.post(reverse("tickets:new"), {**new, "tags": ",".join(THIRTY_ONE)})
    assert page.status_code == 422 and "at most 30 tags" in page.content.decode()
    assert agent.post(reverse("tickets:new"), {**new, "tags": ",".join(THIRTY)}).status_code == 302

    # The API: 400 on the field, for a change and for a new ticket.
    api = client_for(p.agent_a)
    body = assert_error_shape(
        api.patch(f"/api/v1/tickets/{other.pk}/", {"tags": THIRTY_ONE}, format="json"), 400
    )
    assert body["errors"] == {"tags": ["A ticket can carry at most 30 tags; this would make 31."]}
    created = api.post(
        "/api/v1/tickets/",
        {
            "subject": "x",
            "body": "y",
            "customer": "z@example.test",
            "mailbox": p.mailbox_a.address,
            "tags": THIRTY_ONE,
        },
        format="json",
    )
    assert "tags" in assert_error_shape(created, 400)["errors"]

    # Bulk "add tag": the full ticket is skipped and counted, the other one changes.
    spare = make_ticket(p.mailbox_a, p.customer)
    bulk = agent.post(
        reverse("tickets:bulk"), {"action": "tag", "tag": "more", "tickets": [full.pk, spare.pk]}
    )
    # (The session still holds the new-ticket form's notice.)
    assert _notices(bulk)[-2:] == [
        "Updated 1 ticket.",
        "Left unchanged: 1 ticket, which would carry more than 30 tags.",
    ]

    # A rule's "add tags": refused and logged.
    _rule("changed", _tag("ruled"))
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        services.update_ticket(full, actor=Actor.agent(p.agent_a), priority="high")
    assert "at most 30 tags" in caplog.text
    AutomationRule.objects.all().delete()
    automation.rules_changed()

    # A macro that adds a tag: nothing is sent, the agent is told why.
    macro = CannedReply.objects.create(title="Tag it", body="Noted.", changes={"add_tags": ["m"]})
    response = agent.post(reverse("tickets:macro", args=[full.pk, macro.pk]))
    assert "at most 30 tags" in " ".join(_notices(response))
    assert not full.messages.filter(direction=Direction.OUTBOUND).exists()

    # Outreach to a list: the form says so.
    outreach = agent.post(
        reverse("tickets:outreach-list"),
        {
            "mailbox": p.mailbox_a.pk,
            "recipients": "someone@example.test",
            "subject": "Hello",
            "body": "Hi",
            "tags": ",".join(THIRTY_ONE),
        },
    )
    assert outreach.status_code == 422 and "at most 30 tags" in outreach.content.decode()

    full.refresh_from_db()
    assert full.tags == THIRTY

    # History import keeps the tags a ticket had in the other help desk.
    forty = [f"old-{n}" for n in range(40)]
    _import(
        {
            "type": "ticket",
            "external_id": "T-40",
            "mailbox": p.mailbox_a.address,
            "tags": forty,
            "customer": {"email": "li@customer.test"},
            "created_at": "2026-03-02T09:15:00Z",
        }
    )
    assert len(Ticket.objects.get(external_id="T-40").tags) == 40


def test_a_closed_ticket_is_not_reopened_by_any_door(
    personas: Personas,
    no_builtin_rules: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    p = personas
    closed = make_ticket(p.mailbox_a, p.customer)
    services.update_ticket(closed, status=Status.CLOSED)
    agent = _client(p.agent_a)

    page = agent.post(reverse("tickets:update", args=[closed.pk]), {"status": "open"}, headers=HTMX)
    assert page.status_code == 422 and "cannot be reopened" in page.content.decode()

    api = client_for(p.agent_a).patch(
        f"/api/v1/tickets/{closed.pk}/", {"status": "open"}, format="json"
    )
    assert "cannot be reopened" in assert_error_shape(api, 409)["detail"]

    bulk = agent.post(
        reverse("tickets:bulk"), {"action": "status", "status": "open", "tickets": [closed.pk]}
    )
    assert _notices(bulk) == ["Left unchanged: 1 closed ticket, which cannot be reopened."]

    _rule("changed", [{"type": "set_status", "value": "open"}])
    with django_capture_on_commit_callbacks(execute=True):
        services.update_ticket(closed, actor=Actor.agent(p.agent_a), priority="high")
    AutomationRule.objects.all().delete()
    automation.rules_changed()

    macro = CannedReply.objects.create(
        title="Reopen", body="Back on it.", changes={"status": "open"}
    )
    response = agent.post(reverse("tickets:macro", args=[closed.pk, macro.pk]))
    assert "cannot be reopened" in " ".join(_notices(response))
    assert not closed.messages.filter(direction=Direction.OUTBOUND).exists()

    closed.refresh_from_db()
    assert closed.status == Status.CLOSED
    assert closed.events.filter(kind=EventKind.STATUS).count() == 1

    # History import replays a reopening that happened in the other help desk.
    _import(
        {
            "type": "ticket",
            "external_id": "T-reopened",
            "mailbox": p.mailbox_a.address,
            "customer": {"email": "li@customer.test"},
            "created_at": "2026-03-02T09:15:00Z",
            "events": [
                {"at": "2026-03-02T10:00:00Z", "status": "closed"},
                {"at": "2026-03-03T10:00:00Z", "status": "open"},
            ],
        }
    )
    assert Ticket.objects.get(external_id="T-reopened").status == Status.OPEN
