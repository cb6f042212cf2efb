"""Figures and the CSAT survey through a real Celery worker, Redis and an SMTP server.

A ticket is answered and solved through the services; the metrics worker measures it and
offers the CSAT survey, which the mail worker sends over SMTP; the customer's click opens
the survey page without recording anything, and their POST records the answer.
"""

from __future__ import annotations

import re
import subprocess
from email import message_from_bytes, policy

import pytest
from django.test import Client

from metrics.models import SurveyResponse, TicketFigures
from tests.factories import make_customer, make_mailbox, make_user
from tests.integration.conftest import SmtpServer, wait_for
from tickets import services
from tickets.models import MailSecurity, Role, Status
from tickets.services import Actor

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_solved_ticket_is_measured_and_surveyed(
    celery_worker: subprocess.Popen[bytes], smtp_server: SmtpServer, settings
) -> None:
    # The hook marks "update pending" in the cache and the worker clears the mark, so both
    # processes must use the same key prefix (the unit tests give each xdist worker its own).
    settings.CACHES = {name: {**c, "KEY_PREFIX": ""} for name, c in settings.CACHES.items()}
    mailbox = make_mailbox(
        smtp_host=smtp_server.host, smtp_port=smtp_server.port, smtp_security=MailSecurity.NONE
    )
    agent = make_user(Role.AGENT)
    customer = make_customer("dana@customer.test", name="Dana")
    ticket = services.create_ticket(
        mailbox=mailbox, customer=customer, subject="Printer jam", body_text="It jams."
    )
    services.reply(ticket, agent, "Open the back tray.")
    services.update_ticket(ticket, actor=Actor.agent(agent), status=Status.SOLVED)

    figures = wait_for(
        lambda: TicketFigures.objects.filter(ticket=ticket, final_solve_at__isnull=False).first(),
        "the worker to measure the solved ticket",
    )
    assert (figures.agent_replies, figures.one_touch) == (1, True)
    assert figures.first_response_seconds is not None

    def survey_mail() -> bytes | None:
        for message in smtp_server.recorder.messages:
            if b"/survey/" in message["data"]:
                return message["data"]
        return None

    raw = wait_for(survey_mail, "the CSAT survey to reach the SMTP server")
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["To"].addresses[0].addr_spec == "dana@customer.test"
    text = mail.get_body(("plain",)).get_content()
    link = re.search(r"https?://[^\s]+/survey/[^\s/]+/\?score=5", text).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]

    client = Client()
    assert client.get("/" + path).status_code == 200
    assert not SurveyResponse.objects.exists()
    client.post("/" + path.split("?")[0], {"csat": "5", "ces": "7"})
    assert dict(SurveyResponse.objects.values_list("kind", "score")) == {"csat": 5, "ces": 7}
    # The survey mail is an automatic message: still one agent reply, still one-touch.
    figures.refresh_from_db()
    assert (figures.agent_replies, figures.one_touch) == (1, True)
