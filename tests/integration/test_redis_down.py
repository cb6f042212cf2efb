"""Redis is optional for reading and signing in: with Redis unreachable (the cache and the
Celery broker both point at a port where nothing listens) an agent signs in, reads the
inbox and its counts, opens a ticket, sees who else is there (or that it cannot be told),
replies and assigns; a customer asks for a sign-in link. Every page answers as usual or
says what it cannot do; none answers 500. What must be sent is in the database, and the
send queue's sweep takes it when the broker is back.

Before, the sign-in page, the inbox counts, the presence panel and the reply answered
500, and the assignment's notice and the sign-in link raised from after commit.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from helpdesk.ratelimit import Rate
from portal.models import SignInLink
from tests.conftest import Personas
from tests.factories import make_user
from tests.integration.conftest import free_port
from tests.mail.conftest import load
from tickets.mail.intake import ingest_message
from tickets.models import DeliveryStatus, Direction, Role, Ticket

pytestmark = [pytest.mark.integration]


def _ticket(personas: Personas) -> Ticket:
    return Ticket.objects.get(pk=ingest_message(load("plain.eml")).ticket_id or 0)


@pytest.mark.django_db(transaction=True)
def test_an_agent_signs_in_reads_and_replies_while_redis_is_down(
    personas: Personas, redis_down: None, caplog: pytest.LogCaptureFixture
) -> None:
    ticket = _ticket(personas)
    client = Client()

    # A wrong password is counted (in this process) and refused as usual; the right one
    # signs in.
    response = client.post(
        reverse("login"), {"username": personas.agent_a.username, "password": "wrong"}
    )
    assert response.status_code == 200
    assert b"enter a correct" in response.content.lower()
    response = client.post(
        reverse("login"), {"username": personas.agent_a.username, "password": "pass-word-123"}
    )
    assert response.status_code == 302, response.content[:500]
    assert response["Location"] == reverse("tickets:inbox")

    response = client.get(reverse("tickets:inbox"))
    assert response.status_code == 200
    assert ticket.subject.encode() in response.content
    response = client.get(reverse("tickets:counts"))
    assert response.status_code == 200
    assert b"Unassigned" in response.content

    response = client.get(reverse("tickets:detail", args=[ticket.number]))
    assert response.status_code == 200
    assert ticket.subject.encode() in response.content
    # Who else is here cannot be told without Redis, and the panel says so.
    response = client.post(reverse("tickets:presence", args=[ticket.number]), {"typing": "1"})
    assert response.status_code == 200
    assert b"cannot tell who else" in response.content.lower()

    # The reply is saved and queued; the send queue's sweep sends it once Redis is back.
    response = client.post(
        reverse("tickets:reply", args=[ticket.number]),
        {"body": "We are on it.", "status_after": ""},
    )
    assert response.status_code == 302, response.content[:500]
    reply = ticket.messages.get(direction=Direction.OUTBOUND)
    assert reply.delivery_status == DeliveryStatus.QUEUED
    assert reply.next_attempt_at is not None and reply.next_attempt_at <= timezone.now()

    # Assigning tells the new assignee by mail through a task; its broker is down, the
    # assignment stands and the lost notice is logged.
    colleague = make_user(Role.AGENT, teams=[personas.team_a], email="cleo@staff.test")
    response = client.post(
        reverse("tickets:update", args=[ticket.number]), {"assignee": colleague.pk}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee_id == colleague.pk
    assert "tickets.send_agent_notification not enqueued" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_customer_gets_a_sign_in_link_while_the_broker_is_down(
    personas: Personas, redis_down: None
) -> None:
    client = Client()
    response = client.post(
        reverse("portal:sign_in"), {"method": "link", "email": personas.customer.email}
    )
    assert response.status_code == 302, response.content[:500]
    assert response["Location"] == reverse("portal:sign_in_sent")
    # No broker to hand the mail to: it was sent from the request.
    assert [m.to for m in mail.outbox] == [[personas.customer.email]]
    assert SignInLink.objects.filter(customer=personas.customer).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_sign_in_link_that_cannot_be_sent_at_all_says_try_again(
    personas: Personas, redis_down: None, settings: Any
) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 5},
        }
    }
    client = Client()
    response = client.post(
        reverse("portal:sign_in"), {"method": "link", "email": personas.customer.email}
    )
    assert response.status_code == 503
    assert b"try again in a few minutes" in response.content.lower()


def test_rate_limits_count_in_the_process_while_redis_is_down(db: None, redis_down: None) -> None:
    rate = Rate("test-down", 2, 60)
    assert [rate.hit("someone") for _ in range(3)] == [False, False, True]
    assert rate.reached("someone")
    assert not rate.reached("someone else")
