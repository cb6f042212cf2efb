"""Which changes owe which webhook events, through the doors that make them; and a change
costs no query while no endpoint listens."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metrics import surveys
from tests.conftest import Personas
from tests.factories import make_ticket
from tests.webhooks.receiver import Receiver
from tests.webhooks.test_delivery import endpoint_for
from tickets import services
from tickets.models import Status
from webhooks.models import WebhookDelivery

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]


def test_customer_created_message_created_and_survey_answered(
    receiver: Receiver, personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint_for(
        receiver,
        personas,
        django_capture_on_commit_callbacks,
        ["customer.created", "message.created", "survey.answered"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        newcomer = services.get_or_create_customer("new@person.test", "New Person")
        services.get_or_create_customer("new@person.test")  # known now: nothing owed
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(personas.mailbox_a, personas.customer)
        services.reply(ticket, personas.agent_a, "We are on it.", status_after=Status.SOLVED)
    link = surveys.read_token(surveys.make_token("csat", personas.customer.pk, ticket_id=ticket.pk))
    with django_capture_on_commit_callbacks(execute=True):
        surveys.record_answers(link, {"csat": 5}, "Great")

    # The customer's first message, the reply, then the survey mail solving it sent.
    assert receiver.events == [
        "customer.created",
        "message.created",
        "message.created",
        "message.created",
        "survey.answered",
    ]
    customer, inbound, reply, survey_mail, survey = (r.json["data"] for r in receiver.received)
    assert (customer["id"], customer["email"], customer["ticket_count"]) == (
        newcomer.pk,
        "new@person.test",
        0,
    )
    assert [m["direction"] for m in (inbound, reply, survey_mail)] == [
        "inbound",
        "outbound",
        "outbound",
    ]
    assert (reply["ticket"], reply["body"]) == (ticket.number, "We are on it.")
    assert survey == {"ticket": ticket.number, "scores": {"csat": 5}}
    assert all(r.verified for r in receiver.received)


def test_a_change_reads_no_webhook_table_while_no_endpoint_listens(
    personas: Personas,
) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    services.update_ticket(ticket, priority="low")  # the endpoint list, now held
    with CaptureQueriesContext(connection) as queries:
        services.update_ticket(ticket, priority="high")
        services.get_or_create_customer("someone@new.test")
    assert not [q for q in queries.captured_queries if "webhooks_" in q["sql"]]
    assert not WebhookDelivery.objects.exists()
