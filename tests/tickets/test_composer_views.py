"""The reply box's doors: a macro inserted for editing, the preview, the agent's
signature page, and formatted replies in the portal."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import Personas
from tests.factories import make_ticket
from tickets import services
from tickets.models import Direction, Status, Ticket
from tickets.workflow.models import CannedReply

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def ticket(personas: Personas) -> Ticket:
    return make_ticket(
        personas.mailbox_a, personas.customer, subject="Printer on fire", tags=["new-user"]
    )


@pytest.fixture
def agent_a(client: Client, personas: Personas) -> Client:
    client.force_login(personas.agent_a)
    return client


def reply_url(ticket: Ticket) -> str:
    return reverse("tickets:reply", args=[ticket.number])


@pytest.fixture
def macro() -> CannedReply:
    return CannedReply.objects.create(
        title="Waiting for logs",
        body="Hi {{customer.first_name}}, please send the logs.",
        changes={"status": "pending", "add_tags": ["logs"], "assign_to_me": True},
    )


def test_the_canned_results_offer_insert_beside_apply_for_a_macro(
    agent_a: Client, ticket: Ticket, macro: CannedReply
) -> None:
    html = agent_a.get(reverse("tickets:canned-search", args=[ticket.number])).content.decode()
    assert f'data-canned-insert data-macro-id="{macro.pk}"' in html
    assert ">Insert</button>" in html and ">Apply</button>" in html


def test_an_inserted_macro_sends_the_edited_text_and_applies_its_changes(
    agent_a: Client, personas: Personas, ticket: Ticket, macro: CannedReply
) -> None:
    response = agent_a.post(
        reply_url(ticket),
        {"body": "Hi Li, please send the **printer** logs.", "macro": macro.pk},
        headers=HTMX,
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    message = ticket.messages.get(direction=Direction.OUTBOUND)
    assert message.body_text == "Hi Li, please send the **printer** logs."
    assert "<strong>printer</strong>" in message.body_html
    assert ticket.status == Status.PENDING
    assert sorted(ticket.tags) == ["logs", "new-user"] and ticket.assignee == personas.agent_a


def test_the_agents_status_choice_wins_over_the_inserted_macros(
    agent_a: Client, ticket: Ticket, macro: CannedReply
) -> None:
    agent_a.post(
        reply_url(ticket),
        {"body": "Edited", "macro": macro.pk, "status_after": "solved"},
        headers=HTMX,
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED and "logs" in ticket.tags


@pytest.mark.parametrize("which", ["someone_elses", "not_a_macro", "missing"])
def test_a_macro_the_agent_may_not_use_sends_nothing(
    agent_a: Client, personas: Personas, ticket: Ticket, which: str
) -> None:
    canned = {
        "someone_elses": lambda: (
            CannedReply.objects.create(
                title="Ben's", body="x", owner=personas.agent_b, changes={"status": "pending"}
            ).pk
        ),
        "not_a_macro": lambda: CannedReply.objects.create(title="Plain", body="x").pk,
        "missing": lambda: 999_999,
    }[which]()
    response = agent_a.post(reply_url(ticket), {"body": "Hello", "macro": canned}, headers=HTMX)
    assert response.status_code == 422
    assert "no longer available" in response.content.decode()
    assert not ticket.messages.filter(direction=Direction.OUTBOUND).exists()


def test_preview_renders_sanitized_markdown_with_the_signature(
    agent_a: Client, personas: Personas, ticket: Ticket
) -> None:
    personas.agent_a.signature = "_Ana_"
    personas.agent_a.save()
    response = agent_a.post(
        reverse("tickets:reply-preview", args=[ticket.number]),
        {"body": "**Hi** <script>alert(1)</script>[x](javascript:alert(2))"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>Hi</strong>" in html and "<em>Ana</em>" in html
    assert "<script" not in html and "javascript:" not in html


def test_the_agent_sets_their_signature_on_their_profile(
    agent_a: Client, personas: Personas
) -> None:
    url = reverse("tickets:signature-settings")
    assert agent_a.get(url).status_code == 200
    response = agent_a.post(url, {"signature": "  **Ana** from Acme  "})
    assert response.status_code == 302
    personas.agent_a.refresh_from_db()
    assert personas.agent_a.signature == "**Ana** from Acme"
    page = agent_a.get(url).content.decode()
    assert "<strong>Ana</strong> from Acme" in page
    too_long = agent_a.post(url, {"signature": "x" * 4001})
    assert too_long.status_code == 422 and "at most 4,000" in too_long.content.decode()


def test_the_portal_shows_a_formatted_reply_sanitized(
    client: Client, personas: Personas, ticket: Ticket
) -> None:
    services.reply(
        ticket, personas.agent_a, "**Fixed**\n\n<img src=x onerror=alert(1)><script>x()</script>"
    )
    client.force_login(personas.customer.user)
    html = client.get(reverse("portal:request", args=[ticket.pk])).content.decode()
    assert '<div class="message-html"><p><strong>Fixed</strong></p>' in html
    assert "onerror" not in html and "x()" not in html
