"""The workflow screens and ticket-page actions, through the test client."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import Personas
from tests.factories import make_customer, make_ticket
from tickets import services
from tickets.models import Direction, Status, Ticket
from tickets.workflow import collab
from tickets.workflow.models import AutomationRule, CannedReply, SlaPolicy

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_rule_builder_saves_a_rule_from_names_and_labels(
    personas: Personas, builtin_rules: None
) -> None:
    admin = client_for(personas.admin)
    response = admin.get(reverse("tickets:rule-new"))
    assert response.status_code == 200
    data = {
        "name": "Route billing",
        "trigger": "created",
        "match": "all",
        "is_active": "on",
        "position": "5",
        "c-TOTAL_FORMS": "2",
        "c-INITIAL_FORMS": "0",
        "c-0-field": "mailbox",
        "c-0-op": "is",
        "c-0-value": "a@tandem.test",
        "c-1-field": "subject",
        "c-1-op": "contains",
        "c-1-value": "invoice",
        "a-TOTAL_FORMS": "2",
        "a-INITIAL_FORMS": "0",
        "a-0-type": "set_team",
        "a-0-value": "team b",
        "a-1-type": "set_priority",
        "a-1-value": "High",
    }
    response = admin.post(reverse("tickets:rule-new"), data)
    assert response.status_code == 302
    rule = AutomationRule.objects.get(name="Route billing")
    assert rule.conditions == [
        {"field": "mailbox", "op": "is", "value": [personas.mailbox_a.pk]},
        {"field": "subject", "op": "contains", "value": "invoice"},
    ]
    assert rule.actions == [
        {"type": "set_team", "value": personas.team_b.pk},
        {"type": "set_priority", "value": "high"},
    ]
    # Editing shows the names again, not ids.
    page = admin.get(reverse("tickets:rule-edit", args=[rule.pk])).content.decode()
    assert 'value="a@tandem.test"' in page and "Team B" in page
    listing = admin.get(reverse("tickets:rules")).content.decode()
    assert "Route billing" in listing and "Frustrated customer" in listing


def test_rule_builder_explains_bad_input(personas: Personas) -> None:
    admin = client_for(personas.admin)
    data = {
        "name": "Broken",
        "trigger": "scheduled",
        "match": "all",
        "position": "5",
        "c-TOTAL_FORMS": "1",
        "c-INITIAL_FORMS": "0",
        "c-0-field": "priority",
        "c-0-op": "is",
        "c-0-value": "sky-high",
        "a-TOTAL_FORMS": "1",
        "a-INITIAL_FORMS": "0",
        "a-0-type": "set_team",
        "a-0-value": "Nobody",
    }
    response = admin.post(reverse("tickets:rule-new"), data)
    assert response.status_code == 422
    page = response.content.decode()
    assert "is not a priority" in page and "No team called" in page
    assert not AutomationRule.objects.filter(name="Broken").exists()


def test_setup_pages_are_for_admins_only(personas: Personas, builtin_rules: None) -> None:
    agent = client_for(personas.agent_a)
    assert agent.get(reverse("tickets:rules")).status_code == 403
    assert agent.get(reverse("tickets:sla")).status_code == 403
    rule = AutomationRule.objects.first()
    assert agent.post(reverse("tickets:rule-toggle", args=[rule.pk])).status_code == 403
    customer = client_for(personas.customer.user)
    assert customer.post(reverse("tickets:rule-toggle", args=[rule.pk])).status_code == 404
    assert (
        client_for(personas.admin).get(reverse("tickets:rule-toggle", args=[rule.pk])).status_code
        == 405
    )


def test_sla_policy_form_validates_and_saves(personas: Personas) -> None:
    admin = client_for(personas.admin)
    bad = admin.post(
        reverse("tickets:sla-new"), {"name": "x", "priority": "high", "warn_before_minutes": "30"}
    )
    assert bad.status_code == 422
    assert "Set a first-response target" in bad.content.decode()
    ok = admin.post(
        reverse("tickets:sla-new"),
        {
            "name": "High",
            "priority": "high",
            "first_response_hours": "2",
            "resolution_hours": "24",
            "warn_before_minutes": "30",
            "is_active": "on",
        },
    )
    assert ok.status_code == 302
    assert SlaPolicy.objects.get(name="High").first_response_hours == 2


def test_canned_replies_crud_search_and_list_query_count(
    personas: Personas, django_assert_num_queries: Any
) -> None:
    agent = client_for(personas.agent_a)
    response = agent.post(
        reverse("tickets:canned-new"),
        {
            "title": "Logs",
            "body": "Hi {{customer.first_name}}, logs please.",
            "set_status": "pending",
        },
    )
    assert response.status_code == 302
    canned = CannedReply.objects.get(title="Logs")
    assert (canned.owner, canned.changes) == (personas.agent_a, {"status": "pending"})
    bad = agent.post(reverse("tickets:canned-new"), {"title": "X", "body": "{{ticket.secret}}"})
    assert bad.status_code == 422 and "Unknown placeholder" in bad.content.decode()
    # Another agent can neither see nor edit it.
    other = client_for(personas.agent_b)
    assert other.get(reverse("tickets:canned-edit", args=[canned.pk])).status_code == 404
    assert "Logs" not in other.get(reverse("tickets:canned")).content.decode()
    # The list costs the same query for 1 or 30 replies: replies+owners (the session and
    # the user come from the cache after the agent's first request).
    for n in range(30):
        CannedReply.objects.create(title=f"Shared {n}", body="x")
    with django_assert_num_queries(1):
        agent.get(reverse("tickets:canned"))
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    found = agent.get(reverse("tickets:canned-search", args=[ticket.pk]), {"q": "logs"})
    assert "Hi Li, logs please." in found.content.decode()


def test_macro_view_sends_and_changes(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    canned = CannedReply.objects.create(
        title="Wait", body="One moment", changes={"status": "pending"}
    )
    agent = client_for(personas.agent_a)
    response = agent.post(reverse("tickets:macro", args=[ticket.pk, canned.pk]))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING
    assert ticket.messages.filter(direction=Direction.OUTBOUND, body_text="One moment").exists()
    # Another team's agent cannot use it on this ticket.
    assert (
        client_for(personas.agent_b)
        .post(reverse("tickets:macro", args=[ticket.pk, canned.pk]))
        .status_code
        == 404
    )


def test_reply_collision_warns_then_sends(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    seen = collab.last_message_id(ticket)
    services.reply(ticket, personas.manager, "Manager got there first")
    agent = client_for(personas.agent_a)
    url = reverse("tickets:reply", args=[ticket.pk])
    upload = SimpleUploadedFile("invoice-march.pdf", b"%PDF-1.4", "application/pdf")
    response = agent.post(
        url, {"body": "My answer", "last_message_id": seen, "attachments": upload}
    )
    assert response.status_code == 409
    assert "while you were writing" in response.content.decode()
    assert "Attach again:</strong> invoice-march.pdf" in response.content.decode()
    assert not ticket.messages.filter(body_text="My answer").exists()
    newest = collab.last_message_id(ticket)
    assert agent.post(url, {"body": "My answer", "last_message_id": newest}).status_code == 302
    assert ticket.messages.filter(body_text="My answer").exists()


def test_snooze_merge_split_views(personas: Personas) -> None:
    agent = client_for(personas.agent_a)
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    later = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert (
        agent.post(reverse("tickets:snooze", args=[ticket.pk]), {"until": later}).status_code == 302
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING and ticket.snoozed_until is not None
    agent.post(reverse("tickets:snooze", args=[ticket.pk]), {"until": "2001-01-01T10:00"})
    second = services.add_message(ticket, direction=Direction.INBOUND, body_text="Other topic")
    response = agent.post(reverse("tickets:split", args=[ticket.pk, second.pk]))
    new = Ticket.objects.get(linked_from=ticket)
    assert response["Location"] == reverse("tickets:detail", args=[new.pk])
    target = make_ticket(personas.mailbox_a, personas.customer)
    response = agent.post(reverse("tickets:merge", args=[new.pk]), {"into": target.pk})
    assert response["Location"] == reverse("tickets:detail", args=[target.pk])
    # The merged ticket's page redirects to where its conversation went.
    assert agent.get(reverse("tickets:detail", args=[new.pk]))["Location"] == reverse(
        "tickets:detail", args=[target.pk]
    )
    other_team = make_ticket(personas.mailbox_b, personas.other_customer)
    refused = agent.post(
        reverse("tickets:merge", args=[target.pk]), {"into": other_team.pk}, follow=True
    )
    assert "no ticket" in refused.content.decode()
    other_team.refresh_from_db()
    assert other_team.merged_into_id is None


def test_ticket_page_shows_panel_presence_and_sla(personas: Personas) -> None:
    SlaPolicy.objects.create(
        name="Normal", priority="normal", first_response_hours=4, resolution_hours=24
    )
    from tickets.workflow import sla

    sla.policies_changed()
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    sla.refresh_due_times(ticket)
    agent = client_for(personas.agent_a)
    page = agent.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "Who&#x27;s here" in page or "Who's here" in page
    assert "First reply" in page and "due in" in page
    assert 'name="last_message_id"' in page and "Canned replies" in page
    manager = client_for(personas.manager)
    manager.post(reverse("tickets:presence", args=[ticket.pk]), {"typing": "1"})
    seen = agent.post(reverse("tickets:presence", args=[ticket.pk])).content.decode()
    assert "is typing a reply" in seen
    assert (
        client_for(personas.agent_b).post(reverse("tickets:presence", args=[ticket.pk])).status_code
        == 404
    )


def test_outreach_to_a_list(personas: Personas) -> None:
    make_customer("known@client.test")
    agent = client_for(personas.agent_a)
    bad = agent.post(
        reverse("tickets:outreach-list"),
        {"mailbox": personas.mailbox_a.pk, "recipients": "nope", "subject": "Hi", "body": "Hello"},
    )
    assert bad.status_code == 422 and "Not an email address" in bad.content.decode()
    forbidden = agent.post(
        reverse("tickets:outreach-list"),
        {
            "mailbox": personas.mailbox_b.pk,
            "recipients": "a@x.test",
            "subject": "Hi",
            "body": "Hello",
        },
    )
    assert forbidden.status_code == 422
    ok = agent.post(
        reverse("tickets:outreach-list"),
        {
            "mailbox": personas.mailbox_a.pk,
            "recipients": "known@client.test\nnew@client.test",
            "subject": "Renewal",
            "body": "Hi {{customer.first_name}}",
            "tags": "renewal",
        },
    )
    assert ok.status_code == 302
    tickets = Ticket.objects.filter(subject="Renewal", kind="service")
    assert tickets.count() == 2
    assert all(t.tags == ["renewal"] for t in tickets)


def test_inbox_sorts_and_filters_by_sla_due_time(personas: Personas) -> None:
    now = timezone.now()
    late, soon, later, no_sla = (make_ticket(personas.mailbox_a, make_customer()) for _ in range(4))
    for ticket, minutes in ((late, -30), (soon, 30), (later, 600)):
        Ticket.objects.filter(pk=ticket.pk).update(
            resolution_due_at=now + timedelta(minutes=minutes)
        )
    agent = client_for(personas.agent_a)
    url = reverse("tickets:inbox")
    page = agent.get(url, {"view": "open", "sort": "due"}).content.decode()
    positions = [page.index(f'data-number="{t.pk}"') for t in (late, soon, later, no_sla)]
    assert positions == sorted(positions)
    assert "overdue by" in page
    overdue = agent.get(url, {"view": "open", "sla": "overdue"}).content.decode()
    assert f'data-number="{late.pk}"' in overdue and f'data-number="{soon.pk}"' not in overdue
    within_hour = agent.get(url, {"view": "open", "sla": "soon"}).content.decode()
    assert (
        f'data-number="{soon.pk}"' in within_hour and f'data-number="{later.pk}"' not in within_hour
    )
    # Keyset paging on the due sort walks every ticket once.
    from tickets import selectors

    seen, cursor = [], ""
    while True:
        result = selectors.inbox_tickets(
            personas.agent_a, selectors.InboxQuery(view="open", sort="due", cursor=cursor, limit=1)
        )
        seen += [t.pk for t in result.tickets]
        if not result.next_cursor:
            break
        cursor = result.next_cursor
    assert seen == [late.pk, soon.pk, later.pk, no_sla.pk]
