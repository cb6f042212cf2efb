"""What the visibility audit of issue #14 found: other teams' data reached agents.

- A ticket's team must work the ticket's mailbox (services.check_team), whatever the door:
  the ticket page (whose menu lists only those teams), the API, an automation rule,
  history import (which gives the ticket's team its mailbox). Before, any agent could
  set any team, and the team's reply notices mailed the customer's text to people who
  could not open the ticket.
- Notices to agents go only to people who may open the ticket, whoever asked for them.
- The success follow-up lists only the customer's tickets of its own mailbox and is
  assigned only to someone who may open it.
- "This customer's survey answers" shows only answers the viewer may see.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse

from importer.fields import Lookups
from importer.lines import import_lines
from importer.records import IMPORTED, import_ticket
from metrics.models import SurveyKind, SurveyResponse
from tests.conftest import Personas
from tests.factories import make_ticket, make_user
from tests.tickets.api_client import assert_error_shape, client_for
from tests.tickets.test_rules_every_door import _client, _rule
from tickets import services
from tickets.models import ActorKind, Organization, Role, Team, Ticket
from tickets.services import Actor, InvalidChange
from tickets.workflow import follow_ups

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
AT = "2026-03-02T09:15:00Z"
REFUSAL = "Team Team B does not work in this ticket's mailbox (a@tandem.test)."


def _mailed_to(address: str) -> list[Any]:
    return [m for m in mail.outbox if address in m.to]


# --- a ticket's team works its mailbox ---------------------------------------------------


def test_a_team_that_does_not_work_the_mailbox_is_refused_by_every_door(
    personas: Personas,
    no_builtin_rules: None,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Team B works mailbox B only: no door makes it the team of a ticket of mailbox A."""
    p = personas
    ticket = make_ticket(p.mailbox_a, p.customer)

    # The service, whoever calls it; creating a ticket with that team too.
    with pytest.raises(InvalidChange, match="does not work in this ticket's mailbox"):
        services.update_ticket(ticket, actor=Actor.agent(p.manager), team=p.team_b)
    with pytest.raises(InvalidChange, match="does not work in this ticket's mailbox"):
        make_ticket(p.mailbox_a, p.customer, team=p.team_b)

    # The ticket page lists only the teams of the mailbox, and refuses another.
    page = _client(p.manager).get(reverse("tickets:detail", args=[ticket.pk]))
    assert page.status_code == 200
    menu = page.content.decode().split('id="prop-team"')[1].split("</select>")[0]
    assert "Team A" in menu and "Team B" not in menu
    posted = _client(p.manager).post(
        reverse("tickets:update", args=[ticket.pk]), {"team": p.team_b.pk}, headers=HTMX
    )
    assert posted.status_code == 422

    # The API: 400 on the field.
    api = client_for(p.manager).patch(
        f"/api/v1/tickets/{ticket.pk}/", {"team": "Team B"}, format="json"
    )
    assert assert_error_shape(api, 400)["errors"] == {"team": [REFUSAL]}

    # A rule: the action is refused and logged; the ticket still opens.
    _rule("created", [{"type": "set_team", "value": p.team_b.pk}])
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        by_rule = make_ticket(p.mailbox_a, p.customer)
    assert REFUSAL in caplog.text

    ticket.refresh_from_db()
    by_rule.refresh_from_db()
    assert ticket.team is None and by_rule.team is None
    assert not ticket.events.filter(kind="team").exists()

    # The team of the mailbox is accepted through the same doors.
    assert (
        client_for(p.agent_a)
        .patch(f"/api/v1/tickets/{ticket.pk}/", {"team": "Team A"}, format="json")
        .status_code
        == 200
    )
    ticket.refresh_from_db()
    assert ticket.team == p.team_a


@pytest.mark.parametrize("path", ["bulk", "line by line"])
def test_history_import_gives_a_tickets_team_its_mailbox(personas: Personas, path: str) -> None:
    """The import format names a ticket's team but no team's mailboxes (specs/import-format.md
    has "Tier 1" on a ticket of support@): the team that worked the ticket is given its
    mailbox, so the rule holds and its members open the tickets they worked."""
    p = personas
    line = {
        "type": "ticket",
        "external_id": "T-1",
        "mailbox": p.mailbox_a.address,
        "subject": "Old",
        "team": "Tier 1",
        "customer": {"email": "li@customer.test"},
        "created_at": AT,
        "messages": [{"direction": "inbound", "from": "li@customer.test", "at": AT, "body": "Hi"}],
    }
    records = [line, {**line, "external_id": "T-2"}]
    if path == "bulk":
        result = import_lines([json.dumps(record) for record in records])
        assert result.rejected == 0, result.errors
    else:
        lookups = Lookups()
        for record in records:
            assert import_ticket(record, lookups) == IMPORTED
    tier = Team.objects.get(name="Tier 1")
    assert set(Ticket.objects.filter(team=tier).values_list("mailbox", flat=True)) == {
        p.mailbox_a.pk
    }
    assert list(Team.objects.working_in(p.mailbox_a.pk).order_by("name")) == [p.team_a, tier]


# --- notices go only to people who may open the ticket ------------------------------------


@pytest.fixture
def stray_team(personas: Personas) -> Ticket:
    """A ticket of mailbox A whose team (set before the rule existed) is team B: Ben, of
    team B, cannot open it, and asked to hear of every unassigned reply."""
    p = personas
    p.agent_b.notify_on_unassigned_reply = True
    p.agent_b.save(update_fields=["notify_on_unassigned_reply"])
    ticket = make_ticket(p.mailbox_a, p.customer, subject="Payroll export")
    Ticket.objects.filter(pk=ticket.pk).update(team=p.team_b)
    ticket.refresh_from_db()
    return ticket


def test_a_customer_reply_is_not_mailed_to_a_team_member_who_cannot_open_the_ticket(
    personas: Personas,
    stray_team: Ticket,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    p = personas
    colleague = make_user(Role.AGENT, teams=[p.team_a, p.team_b], email="cat@staff.test")
    colleague.notify_on_unassigned_reply = True
    colleague.save(update_fields=["notify_on_unassigned_reply"])
    with django_capture_on_commit_callbacks(execute=True):
        services.customer_reply(
            stray_team,
            actor=Actor(ActorKind.CUSTOMER, None),
            sender=p.customer.email,
            body_text="Our salaries are in the attached file",
        )
    assert _mailed_to(colleague.email), "a member who may open it is told"
    assert not _mailed_to(p.agent_b.email)


def test_rule_and_mention_notices_reach_only_people_who_may_open_the_ticket(
    personas: Personas,
    stray_team: Ticket,
    no_builtin_rules: None,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    p = personas
    _rule("updated", [{"type": "notify", "value": "team"}])
    with django_capture_on_commit_callbacks(execute=True):
        services.update_ticket(stray_team, actor=Actor.agent(p.agent_a), priority="high")
    with django_capture_on_commit_callbacks(execute=True):
        services.add_note(stray_team, p.agent_a, "@agent.b@staff.test see the payroll numbers")
    assert not _mailed_to(p.agent_b.email)
    # Whoever may open it still hears: a mention of Ana by the manager.
    with django_capture_on_commit_callbacks(execute=True):
        services.add_note(stray_team, p.manager, "@agent.a@staff.test have a look")
    assert _mailed_to(p.agent_a.email)


# --- the success follow-up ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["alone", "together"])
def test_a_follow_up_lists_only_the_tickets_of_its_own_mailbox(
    personas: Personas, path: str
) -> None:
    """Li has two support tickets in mailbox A and two in mailbox B (team B's): the
    follow-up opened in mailbox A, which agent A reads, names only mailbox A's. Its
    organization's success contact, Ben, cannot open mailbox A: it opens unassigned."""
    p = personas
    organization = Organization.objects.create(name="Acme", success_contact=p.agent_b)
    p.customer.organization = organization
    p.customer.save(update_fields=["organization"])
    for subject in ("Payroll export wrong", "Salary slip for the CEO"):
        make_ticket(p.mailbox_b, p.customer, subject=subject)
    make_ticket(p.mailbox_a, p.customer, subject="Printer jams")
    latest = make_ticket(p.mailbox_a, p.customer, subject="Printer jams again")
    actor = Actor.rule(7, "Three support tickets in 30 days")
    if path == "alone":
        follow_ups.open_success_follow_up(latest, actor=actor)
    else:
        with follow_ups.together():
            follow_ups.open_success_follow_up(latest, actor=actor)

    follow_up = Ticket.objects.get(linked_from=latest)
    note = follow_up.messages.get()
    assert follow_up.mailbox == p.mailbox_a and follow_up.assignee is None
    assert follow_up.subject == "Check in with Li Wei: 2 support tickets in 30 days"
    assert "Printer jams" in note.body_text and "Printer jams again" in note.body_text
    assert "Payroll" not in note.body_text and "Salary" not in note.body_text
    page = _client(p.agent_a).get(reverse("tickets:detail", args=[follow_up.pk]))
    assert page.status_code == 200 and "Salary slip" not in page.content.decode()


# --- the customer's survey answers --------------------------------------------------------


def test_the_survey_panel_shows_only_answers_the_viewer_may_see(personas: Personas) -> None:
    p = personas
    mine = make_ticket(p.mailbox_a, p.customer, subject="Printer")
    theirs = make_ticket(p.mailbox_b, p.customer, subject="Payroll")
    SurveyResponse.objects.create(
        kind=SurveyKind.CSAT, score=5, customer=p.customer, ticket=mine, comment="Printer fixed"
    )
    SurveyResponse.objects.create(
        kind=SurveyKind.CSAT,
        score=1,
        customer=p.customer,
        ticket=theirs,
        comment="My salary is still wrong",
    )
    SurveyResponse.objects.create(
        kind=SurveyKind.NPS, score=8, customer=p.customer, comment="Good overall"
    )

    page = _client(p.agent_a).get(reverse("tickets:detail", args=[mine.pk])).content.decode()
    panel = page.split('class="customer-surveys"')[1].split("</ul>")[0]
    assert "Printer fixed" in panel and "Good overall" in panel
    assert "salary" not in panel and f"#{theirs.pk}" not in panel

    # The manager sees every mailbox, so every answer.
    page = _client(p.manager).get(reverse("tickets:detail", args=[mine.pk])).content.decode()
    assert "My salary is still wrong" in page and f"#{theirs.pk}" in page
