"""The optional drafting model, against a small OpenAI-compatible server the test starts
on localhost: off by default, the conversation and what assist found are sent (never an
internal note), the draft lands in the composer, and the admin sees exactly what is sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.assist.conftest import Desk
from tests.conftest import Personas
from tests.factories import make_article, make_customer
from tickets import services
from tickets.models import Direction, Ticket
from tickets.services import Actor

pytestmark = pytest.mark.django_db

DRAFT = "Hi Li, press Settings, then Security, then Reset password. Best, Alex"


class _Endpoint(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length))
        type(self).received.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
        )
        answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": DRAFT}}]}
        data = json.dumps(answer).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def endpoint(settings) -> Iterator[type[_Endpoint]]:  # type: ignore[no-untyped-def]
    _Endpoint.received = []
    _Endpoint.status = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.ASSIST_DRAFT_URL = f"http://127.0.0.1:{server.server_address[1]}/v1"
    settings.ASSIST_DRAFT_MODEL = "test-model"
    settings.ASSIST_DRAFT_API_KEY = "sk-test"
    yield _Endpoint
    server.shutdown()
    server.server_close()


def _ticket(desk: Desk) -> Ticket:
    ticket = services.create_ticket(
        mailbox=desk.mailbox,
        customer=make_customer(),
        subject="Password reset",
        body_text="I forgot my password. How can I reset it?",
    )
    services.add_message(
        ticket,
        direction=Direction.NOTE,
        body_text="Internal: customer owes us money",
        actor=Actor.agent(desk.agent),
    )
    return ticket


def test_off_by_default(desk: Desk) -> None:
    ticket = _ticket(desk)
    agent = Client()
    agent.force_login(desk.agent)
    panel = agent.get(reverse("assist:panel", args=[ticket.pk])).content.decode()
    assert "Draft a reply" not in panel
    assert agent.post(reverse("assist:draft", args=[ticket.pk])).status_code == 404


def test_a_draft_lands_in_the_composer_and_the_admin_sees_what_is_sent(
    desk: Desk, personas: Personas, endpoint: type[_Endpoint]
) -> None:
    make_article(title="Resetting your password", body="Open Settings, Security, Reset password.")
    ticket = _ticket(desk)
    agent = Client()
    agent.force_login(desk.agent)
    assert "Draft a reply" in agent.get(reverse("assist:panel", args=[ticket.pk])).content.decode()

    response = agent.post(reverse("assist:draft", args=[ticket.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-assist-autoinsert="assist-draft-text"' in html
    assert "Hi Li, press Settings, then Security, then Reset password." in html
    # Nothing was sent to the customer.
    assert not ticket.messages.filter(direction=Direction.OUTBOUND).exists()

    (call,) = endpoint.received
    assert call["path"] == "/v1/chat/completions"
    assert call["auth"] == "Bearer sk-test"
    body = call["body"]
    assert body["model"] == "test-model"
    sent = json.dumps(body)
    assert "I forgot my password. How can I reset it?" in sent
    assert "Resetting your password" in sent
    assert "customer owes us money" not in sent

    admin = Client()
    admin.force_login(personas.admin)
    page = admin.get(reverse("assist:settings") + f"?ticket={ticket.pk}").content.decode()
    assert "I forgot my password. How can I reset it?" in page
    assert "Resetting your password" in page and "test-model" in page
    assert "customer owes us money" not in page
    assert (
        "No ticket #999999"
        in admin.get(reverse("assist:settings") + "?ticket=999999").content.decode()
    )


def test_an_endpoint_failure_says_so(desk: Desk, endpoint: type[_Endpoint]) -> None:
    endpoint.status = 503
    ticket = _ticket(desk)
    agent = Client()
    agent.force_login(desk.agent)
    response = agent.post(reverse("assist:draft", args=[ticket.pk]))
    assert response.status_code == 502
    assert "The drafting model answered 503." in response.content.decode()
