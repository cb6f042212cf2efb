"""No input produces a 500: hostile values in query strings and forms, across the apps.

Each case found by driving the running app with odd input; each asserts the clear answer
that replaced the crash.
"""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from metrics import surveys
from metrics.services import recompute_all
from tests.conftest import Personas
from tests.factories import make_ticket
from tickets import services
from tickets.models import Direction, Status, User
from tickets.workflow.models import CannedReply

pytestmark = pytest.mark.django_db

# "²" is a digit to str.isdigit() but not a number to int(): every "is this a number?"
# check has to agree with int().
SUPERSCRIPT_TWO = "\u00b2"


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_inbox_assignee_filter_that_is_not_a_number_is_ignored(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer, subject="Printer on fire")
    response = client_for(personas.agent_a).get("/", {"assignee": SUPERSCRIPT_TWO})
    assert response.status_code == 200
    assert ticket.subject in response.content.decode()


def test_presence_with_a_bad_last_message_id_lists_nothing_new(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    client = client_for(personas.agent_a)
    path = f"/tickets/{ticket.number}/presence/"
    assert client.get(path, {"last_message_id": SUPERSCRIPT_TWO}).status_code == 200
    assert client.post(path, {"last_message_id": SUPERSCRIPT_TWO}).status_code == 200


def test_reply_with_a_bad_last_message_id_is_sent(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    response = client_for(personas.agent_a).post(
        f"/tickets/{ticket.number}/reply/",
        {"body": "On it.", "last_message_id": SUPERSCRIPT_TWO},
    )
    assert response.status_code == 302
    assert ticket.messages.filter(direction=Direction.OUTBOUND, body_text="On it.").exists()


def test_bulk_assign_to_a_bad_agent_id_changes_nothing(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    client = client_for(personas.agent_a)
    response = client.post(
        "/inbox/bulk/",
        {"action": "assign", "tickets": str(ticket.number), "assignee": SUPERSCRIPT_TWO},
    )
    assert response.status_code == 302
    notices = [str(m) for m in get_messages(response.wsgi_request)]
    assert notices == ["Nothing changed: Choose an agent to assign."]
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_drill_down_with_a_bad_page_shows_the_first(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    recompute_all()
    response = client_for(personas.manager).get(
        "/dashboards/tickets/", {"figure": "backlog", "page": SUPERSCRIPT_TWO}
    )
    assert response.status_code == 200
    assert f"#{ticket.number} " in response.content.decode()


def test_survey_with_a_bad_clicked_score_preselects_nothing(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    services.update_ticket(
        ticket, actor=services.Actor.agent(personas.agent_a), status=Status.SOLVED
    )
    token = surveys.make_token("csat", ticket.customer_id, ticket_id=ticket.pk)
    response = Client().get(f"/survey/{token}/", {"score": SUPERSCRIPT_TWO})
    assert response.status_code == 200
    assert "checked" not in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/search/?q=%00",
        "/search/?q=printer%00fire&jump=1",
        "/kb/reply-suggestions/?kbq=a%00b",
        "/workflow/canned/?q=%00",
        "/tickets/{number}/canned/?q=a%00b",
    ],
)
def test_a_null_character_in_an_agent_page_query_is_a_400(personas: Personas, path: str) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    response = client_for(personas.agent_a).get(path.format(number=ticket.number))
    assert response.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/help/search/?q=%00",
        "/help/search/?q=a%00b",
        "/portal/requests/new/suggestions/?subject=a%00b",
    ],
)
def test_a_null_character_in_a_public_page_query_is_a_400(personas: Personas, path: str) -> None:
    client = Client()
    client.force_login(personas.customer.user)
    assert client.get(path).status_code == 400


def test_a_null_character_in_an_api_query_is_a_400_in_the_api_shape(personas: Personas) -> None:
    response = Client().get("/api/v1/kb/articles/", {"q": "a\x00b"})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "errors": {"q": ["Null characters are not allowed."]},
    }


@pytest.mark.parametrize("body", ["Hello\x00", "x" * 100_001])
def test_macro_with_a_bad_edited_body_sends_nothing(personas: Personas, body: str) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    canned = CannedReply.objects.create(
        title="Wait", body="One moment", changes={"status": "pending"}
    )
    response = client_for(personas.agent_a).post(
        f"/tickets/{ticket.number}/macro/{canned.pk}/", {"body": body}
    )
    assert response.status_code == 302
    notices = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(notices) == 1 and notices[0].startswith("Not sent:")
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert not ticket.messages.filter(direction=Direction.OUTBOUND).exists()
