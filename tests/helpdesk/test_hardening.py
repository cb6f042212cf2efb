"""Small holes the security audit found (issue: hardening), each with the test that
failed before its fix."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from kb.models import Article, ArticleFeedback
from kb.services import render_markdown
from tests.conftest import Personas
from tests.factories import make_article, make_section, make_ticket
from tests.helpdesk.conftest import check_tandem
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("position", ["p=notadate", "p=2026-13-45", "p=%00", "r=1&p=x"])
def test_a_cursor_whose_position_is_not_a_date_is_a_400_not_a_500(
    personas: Personas, position: str
) -> None:
    make_ticket(personas.mailbox_a, personas.customer)
    client = APIClient()
    client.force_authenticate(personas.agent_a)
    cursor = base64.b64encode(position.encode()).decode()
    response = client.get("/api/v1/tickets/", {"cursor": cursor})
    assert response.status_code == 400, response.content
    assert "cursor" in response.json()["errors"]


# Python-Markdown took 70 s for 8,000 "["; this takes about 1 s (the limit times the
# test alone, not the database set-up before it).
@pytest.mark.timeout(120, func_only=True)
def test_a_hostile_article_body_renders_in_linear_time() -> None:
    for hostile in ("[" * 100_000, "![" * 50_000, "*a" * 50_000, "<" * 100_000):
        html, _ = render_markdown(hostile)
        assert html


def test_an_article_body_over_the_limit_is_refused_with_a_clear_error(
    personas: Personas,
) -> None:
    client = Client()
    client.force_login(personas.agent_a)
    response = client.post(
        reverse("kb:create"),
        {
            "title": "Long",
            "section": make_section().pk,
            "body_markdown": "x" * 100_001,
            "status": "draft",
            "visibility": "public",
        },
    )
    assert response.status_code == 422 or response.status_code == 200
    assert "at most 100000 characters" in response.content.decode().replace(",", "")
    assert not Article.objects.exists()


def test_the_first_mail_of_an_outreach_is_not_a_reply_and_the_next_one_is(
    personas: Personas,
) -> None:
    ticket = services.open_ticket_for_customer(
        agent=personas.agent_a,
        mailbox=personas.mailbox_a,
        email="renewals@example.test",
        name="",
        subject="Your renewal",
        body_text="Can we help?",
        outreach=True,
    )
    first = ticket.messages.get()
    assert first.subject.startswith("Your renewal")
    assert not first.subject.lower().startswith("re:")
    second = services.reply(ticket, personas.agent_a, "Following up.")
    assert second.subject.startswith("Re: Your renewal")


def test_an_anonymous_reader_cannot_vote_twice_by_starting_a_new_session() -> None:
    article = make_article("Reset your password")
    url = reverse("kb:feedback", args=[article.pk])
    for _ in range(3):
        Client().post(url, {"helpful": "yes"}, REMOTE_ADDR="203.0.113.7")  # fresh session
    Client().post(url, {"helpful": "yes"}, REMOTE_ADDR="198.51.100.2")  # another reader
    article.refresh_from_db()
    assert article.helpful_count == 2
    assert not ArticleFeedback.objects.filter(voter_key__contains="203.0.113.7").exists()


def _production_setting(name: str, **env: str) -> str:
    script = f"from django.conf import settings; print(settings.{name})"
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "SECRET_KEY": "k" * 60,
        "DEBUG": "0",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_x_forwarded_proto_is_trusted_only_behind_a_proxy_that_sets_it() -> None:
    assert _production_setting("SECURE_PROXY_SSL_HEADER") == "None"
    trusted = _production_setting("SECURE_PROXY_SSL_HEADER", TRUST_PROXY_HEADERS="1")
    assert trusted == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_without_collected_static_files_start_up_says_what_to_run(tmp_path: Path) -> None:
    result = check_tandem(SECRET_KEY="k" * 60, DEBUG="0", TANDEM_VAR_DIR=str(tmp_path))
    assert result.returncode == 1
    assert "tandem.E001" in result.stderr
    assert "manage.py collectstatic --no-input" in result.stderr


def test_a_subject_with_line_breaks_is_kept_on_one_line_whatever_the_door(
    personas: Personas,
) -> None:
    client = APIClient()
    client.force_authenticate(personas.agent_a)
    response = client.post(
        "/api/v1/tickets/",
        {
            "mailbox": personas.mailbox_a.address,
            "customer": "crlf@example.test",
            "subject": "Invoice\r\nBcc: attacker@example.test",
            "body": "Hello",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    by_api = Ticket.objects.get(pk=response.json()["number"])
    assert by_api.subject == "Invoice Bcc: attacker@example.test"
    outreach = services.open_ticket_for_customer(
        agent=personas.agent_a,
        mailbox=personas.mailbox_a,
        email="crlf2@example.test",
        name="",
        subject="Renewal\nX-Evil: 1",
        body_text="Hi",
        outreach=True,
    )
    assert outreach.subject == "Renewal X-Evil: 1"
    services.update_ticket(outreach, subject="New\r\nsubject")
    outreach.refresh_from_db()
    assert outreach.subject == "New subject"
    # The mail of that ticket can be built and sent (a CR/LF made every send fail).
    assert "\n" not in outreach.messages.get().subject
