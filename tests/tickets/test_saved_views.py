"""Saved views (personal and shared), the sidebar counts right after an action, and the
next ticket of the view after a reply."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import Personas
from tests.factories import make_ticket
from tickets import saved_views, services
from tickets.models import Priority, SavedView, Status, ViewScope
from tickets.selectors import InboxQuery

pytestmark = pytest.mark.django_db

INBOX = reverse("tickets:inbox")
COUNTS = reverse("tickets:counts")
SAVE = reverse("tickets:save-view")


def numbers(response: Any) -> list[int]:
    return [int(n) for n in re.findall(r'data-number="(\d+)"', response.content.decode())]


def badge(response: Any, key: str) -> int:
    """The sidebar count of `key` ("mine", "saved-3")."""
    found = re.search(
        rf'data-count-key="{key}">\s*<span[^>]*>[^<]*</span><span class="count" data-count="(\d+)"',
        response.content.decode(),
    )
    assert found, f"no badge {key}"
    return int(found.group(1))


def test_an_agent_saves_the_inbox_filters_and_opens_the_view(
    client: Client, personas: Personas
) -> None:
    urgent = make_ticket(personas.mailbox_a, personas.customer, priority=Priority.URGENT)
    make_ticket(personas.mailbox_a, personas.customer, priority=Priority.LOW)
    client.force_login(personas.agent_a)
    response = client.post(
        SAVE,
        {
            "name": "  Urgent  stuff ",
            "params": "view=open&priority=urgent&sort=created&cursor=x",
            "columns": ["status", "assignee"],
        },
    )
    view = SavedView.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{INBOX}?saved={view.pk}"
    assert view.name == "Urgent stuff" and view.owner == personas.agent_a
    assert view.params == "priority=urgent&sort=created" and view.scope == ViewScope.PERSONAL
    assert view.columns == ["status", "assignee"]

    page = client.get(INBOX, {"saved": view.pk})
    assert numbers(page) == [urgent.number]
    body = page.content.decode()
    assert "<h1>Urgent stuff" in body and 'data-hide="priority updated"' in body
    # A filter changed on top of the view replaces the view's own for that request.
    assert len(numbers(client.get(INBOX, {"saved": view.pk, "priority": ""}))) == 2
    # Listed in the sidebar with its count, right away.
    assert badge(client.get(COUNTS), f"saved-{view.pk}") == 1


def test_bad_input_is_said_and_saves_nothing(client: Client, personas: Personas) -> None:
    client.force_login(personas.agent_a)
    response = client.post(SAVE, {"name": "", "params": "priority=urgent"}, follow=True)
    assert response.status_code == 200 and "The view was not saved" in response.content.decode()
    response = client.post(SAVE, {"name": "", "params": "tag=a\r\nX-Evil: 1&priority=high"})
    assert response.status_code == 302 and "\n" not in response["Location"]
    assert client.get(INBOX, {"saved": "not-a-number"}).status_code == 404
    response = client.post(SAVE, {"name": "x", "columns": ["secret"]}, follow=True)
    assert "The view was not saved" in response.content.decode()
    # Sharing is for managers and admins.
    response = client.post(SAVE, {"name": "Mine", "scope": "everyone"}, follow=True)
    assert "Only managers and admins share views" in response.content.decode()
    assert not SavedView.objects.exists()
    with pytest.raises(services.InvalidChange):
        saved_views.save_view(personas.manager, "Team", InboxQuery(), scope=ViewScope.TEAM)


def test_a_shared_view_shows_each_viewer_only_what_they_may_open(
    client: Client, personas: Personas
) -> None:
    a = make_ticket(personas.mailbox_a, personas.customer, tags=["vip"])
    b = make_ticket(personas.mailbox_b, personas.customer, tags=["vip"])
    everyone = saved_views.save_view(
        personas.manager, "VIP", InboxQuery(tag="vip"), scope=ViewScope.EVERYONE
    )
    team_b = saved_views.save_view(
        personas.manager, "Team B's", InboxQuery(), scope=ViewScope.TEAM, team=personas.team_b
    )
    personal = saved_views.save_view(personas.agent_b, "Ben's", InboxQuery())
    client.force_login(personas.manager)
    assert sorted(numbers(client.get(INBOX, {"saved": everyone.pk}))) == [a.number, b.number]
    client.force_login(personas.agent_a)
    assert numbers(client.get(INBOX, {"saved": everyone.pk})) == [a.number]
    assert badge(client.get(COUNTS), f"saved-{everyone.pk}") == 1
    # Another team's view and another agent's own are not there at all.
    assert client.get(INBOX, {"saved": team_b.pk}).status_code == 404
    assert client.get(INBOX, {"saved": personal.pk}).status_code == 404
    assert f"saved-{team_b.pk}" not in client.get(COUNTS).content.decode()
    client.force_login(personas.agent_b)
    assert numbers(client.get(INBOX, {"saved": team_b.pk})) == [b.number]
    # Nor may they rename or delete the manager's shared view.
    rename = reverse("tickets:rename-view", args=[everyone.pk])
    assert client.post(rename, {"name": "Mine now"}).status_code == 403
    assert client.post(reverse("tickets:delete-view", args=[personal.pk])).status_code == 302
    assert not SavedView.objects.filter(pk=personal.pk).exists()
    client.force_login(personas.agent_a)
    assert client.post(reverse("tickets:delete-view", args=[team_b.pk])).status_code == 404


def test_the_owner_renames_and_deletes(client: Client, personas: Personas) -> None:
    view = saved_views.save_view(personas.agent_a, "Old", InboxQuery(view="mine"))
    client.force_login(personas.agent_a)
    rename = reverse("tickets:rename-view", args=[view.pk])
    assert client.post(rename, {"name": "New"}).status_code == 302
    view.refresh_from_db()
    assert view.name == "New"
    response = client.post(rename, {"name": " "}, follow=True)
    assert "Not renamed" in response.content.decode()
    view.refresh_from_db()
    assert view.name == "New"
    assert client.get(rename).status_code == 405
    assert client.post(reverse("tickets:delete-view", args=[view.pk])).status_code == 302
    assert not SavedView.objects.exists()


def test_a_saved_view_costs_the_inbox_one_query_more(client: Client, personas: Personas) -> None:
    for _ in range(5):
        make_ticket(personas.mailbox_a, personas.customer, priority=Priority.HIGH)
    view = saved_views.save_view(personas.agent_a, "High", InboxQuery(priority="high"))
    client.force_login(personas.agent_a)
    client.get(INBOX, {"saved": view.pk})
    # The view (with the viewer's visibility of views), then the page of tickets.
    with CaptureQueriesContext(connection) as queries:
        assert len(numbers(client.get(INBOX, {"saved": view.pk}))) == 5
    assert len(queries) == 2, [q["sql"][:80] for q in queries]


def test_counts_are_right_right_after_an_action(
    client: Client, personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    client.force_login(personas.agent_a)
    before = client.get(COUNTS)
    assert badge(before, "mine") == 0 and badge(before, "unassigned") == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("tickets:update", args=[ticket.number]), {"assignee": personas.agent_a.pk}
        )
    assert response.status_code == 302
    after = client.get(COUNTS)
    assert badge(after, "mine") == 1 and badge(after, "unassigned") == 0
    # A change by someone else (a rule, mail, another agent) shows at once too.
    with django_capture_on_commit_callbacks(execute=True):
        services.update_ticket(ticket, status=Status.PENDING)
    assert badge(client.get(COUNTS), "pending") == 1
    # And a new saved view is in the list at once.
    view = saved_views.save_view(personas.agent_a, "Pending", InboxQuery(view="pending"))
    assert badge(client.get(COUNTS), f"saved-{view.pk}") == 1


def test_the_next_ticket_of_the_view_opens_after_a_reply_when_asked(
    client: Client, personas: Personas
) -> None:
    first = make_ticket(personas.mailbox_a, personas.customer, subject="First")
    second = make_ticket(personas.mailbox_a, personas.customer, subject="Second")
    other = make_ticket(personas.mailbox_a, personas.customer, subject="Other", tags=["x"])
    services.update_ticket(other, priority=Priority.LOW)  # the newest, not in the view below
    view = saved_views.save_view(personas.agent_a, "Normal", InboxQuery(priority="normal"))
    client.force_login(personas.agent_a)
    origin = f"saved={view.pk}"
    # Opened from the view (the inbox page links to it), the composer carries the view on.
    page = client.get(
        reverse("tickets:detail", args=[second.number]),
        headers={"referer": f"http://testserver{INBOX}?{origin}"},
    )
    assert f'name="from" value="{origin}"' in page.content.decode()
    reply = reverse("tickets:reply", args=[second.number])
    sent = client.post(
        reply,
        {"body": "Done", "from": origin, "next_choice": "1", "next_after_reply": "1"},
        headers={"HX-Request": "true"},
    )
    assert sent.status_code == 200
    assert sent["HX-Redirect"] == f"/tickets/{first.number}/?from=saved%3D{view.pk}"
    personas.agent_a.refresh_from_db()
    assert personas.agent_a.next_after_reply
    # Remembered: the next reply goes on without the box posted... until it is unticked.
    sent = client.post(
        reverse("tickets:reply", args=[first.number]), {"body": "Done too", "from": origin}
    )
    assert sent["Location"] == f"/tickets/{second.number}/?from=saved%3D{view.pk}"
    sent = client.post(
        reverse("tickets:reply", args=[first.number]),
        {"body": "Last one", "from": origin, "next_choice": "1"},
    )
    assert sent["Location"] == f"/tickets/{first.number}/"
    personas.agent_a.refresh_from_db()
    assert not personas.agent_a.next_after_reply
