"""Only the customer answers CSAT/CES, once (issue 14, finding 4), and the survey mails
say what a click does (finding 17).

The signed link is kept out of the stored message that agents and the portal show: only
the e-mail built for sending carries it. A signed-in agent, or another customer, cannot
answer. The first answer is kept; only the browser that sent it may change it.
"""

from __future__ import annotations

import importlib
import re
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.test import Client
from django.utils import timezone

from metrics import surveys
from metrics.models import SurveyResponse
from metrics.tasks import refresh_ticket_figures_task
from tests.conftest import Personas
from tests.factories import assign, make_customer, open_ticket, reply, set_status
from tickets.mail.outbound import send_message
from tickets.models import Message, Organization, Ticket

pytestmark = pytest.mark.django_db

# A survey link with a real token: anything but the placeholder.
TOKEN_LINK = re.compile(r"/survey/(?!from-your-email/)([^/\s\"'<>]+)/")


def solved_with_survey(p: Personas) -> tuple[Ticket, Message]:
    """A ticket solved just now, and the CSAT mail the solve queued."""
    start = timezone.now() - timedelta(hours=3)
    ticket = open_ticket(p.mailbox_a, p.customer, at=start)
    assign(ticket, p.agent_a, start)
    reply(ticket, p.agent_a, start + timedelta(hours=1))
    set_status(ticket, p.agent_a, "solved", start + timedelta(hours=2))
    refresh_ticket_figures_task(ticket.pk)
    return ticket, ticket.messages.get(automatic=True)


def sent_survey_link(message: Message, score: int = 4) -> str:
    """Send the survey mail through the real send path; the link the customer got."""
    mail.outbox.clear()
    assert send_message(message.pk) == "sent"
    (email,) = mail.outbox
    match = re.search(rf"https?://\S+(/survey/[^/\s]+/)\?score={score}", email.body)
    assert match is not None, email.body
    return match.group(1)


def test_the_stored_survey_mail_carries_no_token_and_the_sent_one_does(
    personas: Personas,
) -> None:
    ticket, message = solved_with_survey(personas)
    # What agents and the portal read: placeholder links only.
    for text in (message.body_text, message.body_html):
        assert "/survey/from-your-email/?score=4" in text
        assert not TOKEN_LINK.search(text)
    agent = Client()
    agent.force_login(personas.agent_a)
    page = agent.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "/survey/from-your-email/" in page and not TOKEN_LINK.search(page)
    # A colleague of a sharing organization sees the same conversation in the portal.
    org = Organization.objects.create(name="Wei & Co", shares_tickets=True)
    colleague = make_customer("ro@customer.test", user=True, organization=org)
    personas.customer.organization = org
    personas.customer.save(update_fields=["organization"])
    portal = Client()
    portal.force_login(colleague.user)
    page = portal.get(f"/portal/requests/{ticket.pk}/").content.decode()
    assert "/survey/from-your-email/" in page and not TOKEN_LINK.search(page)
    # The mail the customer receives carries working links, in the text and the HTML.
    path = sent_survey_link(message)
    (email,) = mail.outbox
    html = email.alternatives[0].content
    assert f'{path}?score=5"' in html
    message.refresh_from_db()
    assert not TOKEN_LINK.search(message.body_text + message.body_html)  # still not stored
    customer = Client()
    assert customer.get(f"{path}?score=4").status_code == 200
    response = customer.post(path, {"csat": "4", "ces": "6"})
    assert response.status_code == 200
    assert SurveyResponse.objects.get(ticket=ticket, kind="csat").score == 4


def test_the_placeholder_link_answers_nothing_and_says_why(personas: Personas) -> None:
    ticket, _ = solved_with_survey(personas)
    response = Client().post("/survey/from-your-email/", {"csat": "5"})
    assert response.status_code == 404
    assert "only they can answer" in response.content.decode()
    assert not SurveyResponse.objects.filter(ticket=ticket).exists()


def test_a_signed_in_agent_cannot_answer_a_customer_survey(personas: Personas) -> None:
    ticket, message = solved_with_survey(personas)
    path = sent_survey_link(message)
    for staff in (personas.agent_a, personas.manager, personas.admin):
        client = Client()
        client.force_login(staff)
        page = client.get(f"{path}?score=5")
        assert page.status_code == 403
        assert "Only the customer can answer" in page.content.decode()
        assert 'name="csat"' not in page.content.decode()
        response = client.post(path, {"csat": "5", "ces": "7"})
        assert response.status_code == 403
    assert not SurveyResponse.objects.filter(ticket=ticket).exists()


def test_the_link_is_bound_to_the_invited_customer(personas: Personas) -> None:
    ticket, message = solved_with_survey(personas)
    path = sent_survey_link(message)
    other = Client()
    other.force_login(personas.other_customer.user)
    response = other.post(path, {"csat": "1"})
    assert response.status_code == 403
    assert "sent to someone else" in response.content.decode()
    assert not SurveyResponse.objects.filter(ticket=ticket).exists()
    # The invited customer, signed in to the portal or not, answers.
    own = Client()
    own.force_login(personas.customer.user)
    assert own.post(path, {"csat": "5"}).status_code == 200
    # A link for a ticket whose customer changed no longer answers anything.
    ticket.customer = personas.other_customer
    ticket.save(update_fields=["customer"])
    assert Client().get(path).status_code == 404


def test_the_first_answer_is_kept_and_only_its_author_changes_it(personas: Personas) -> None:
    ticket, message = solved_with_survey(personas)
    path = sent_survey_link(message)
    customer = Client()
    assert customer.post(path, {"csat": "5", "comment": "Great"}).status_code == 200
    # Someone else with the link (a forwarded mail, a colleague): already answered.
    stranger = Client()
    page = stranger.get(f"{path}?score=1")
    assert page.status_code == 200
    assert "already answered" in page.content.decode()
    assert 'name="csat"' not in page.content.decode()
    response = stranger.post(path, {"csat": "1", "comment": "Awful"})
    assert response.status_code == 409
    assert "already answered" in response.content.decode()
    csat = SurveyResponse.objects.get(ticket=ticket, kind="csat")
    assert (csat.score, csat.comment) == (5, "Great")
    # A made-up or unsigned author cookie is no proof.
    stranger.cookies[f"survey-t{ticket.pk}"] = str(csat.pk)
    assert stranger.post(path, {"csat": "1"}).status_code == 409
    # The browser that answered may change its answer, and keeps being its author.
    page = customer.get(path).content.decode()
    assert "You already answered this survey" in page
    assert re.search(r'value="5"[^>]*checked', page)
    assert customer.post(path, {"csat": "3", "comment": ""}).status_code == 200
    assert customer.post(path, {"csat": "4", "ces": "6"}).status_code == 200
    csat.refresh_from_db()
    assert csat.score == 4
    assert SurveyResponse.objects.get(ticket=ticket, kind="ces").score == 6
    # Another survey's author cookie does not make its holder the author of this one.
    _, message_2 = solved_with_survey(personas)
    path_2 = sent_survey_link(message_2)
    assert stranger.post(path_2, {"csat": "2"}).status_code == 200
    assert stranger.post(path, {"csat": "1"}).status_code == 409
    assert SurveyResponse.objects.get(ticket=ticket, kind="csat").score == 4


def test_the_service_keeps_the_first_answer(personas: Personas) -> None:
    ticket, _ = solved_with_survey(personas)
    link = surveys.SurveyLink("csat", personas.customer, ticket)
    surveys.record_answers(link, {"csat": 5})
    with pytest.raises(surveys.AlreadyAnswered):
        surveys.record_answers(link, {"csat": 1})
    assert SurveyResponse.objects.get(ticket=ticket, kind="csat").score == 5
    surveys.record_answers(link, {"csat": 2}, change=True)
    assert SurveyResponse.objects.get(ticket=ticket, kind="csat").score == 2


def test_the_nps_answer_is_kept_too(personas: Personas) -> None:
    open_ticket(personas.mailbox_a, personas.customer, at=timezone.now() - timedelta(days=3))
    mail.outbox.clear()
    assert surveys.send_nps_invitations() == 1
    (email,) = mail.outbox
    path = re.search(r"https?://\S+(/survey/[^/\s]+/)\?score=9", email.body).group(1)
    customer = Client()
    assert customer.post(path, {"nps": "9"}).status_code == 200
    assert Client().post(path, {"nps": "0"}).status_code == 409
    assert SurveyResponse.objects.get(kind="nps").score == 9
    assert customer.post(path, {"nps": "10"}).status_code == 200
    assert SurveyResponse.objects.get(kind="nps").score == 10


def test_survey_mails_say_a_click_opens_a_page(personas: Personas) -> None:
    """A click opens the page; only its button answers (mail scanners follow links)."""
    _, message = solved_with_survey(personas)
    sent_survey_link(message)
    open_ticket(personas.mailbox_a, personas.other_customer, at=timezone.now())
    surveys.send_nps_invitations()
    csat_mail, nps_mail, *_ = mail.outbox
    for email in (csat_mail, nps_mail):
        for text in (email.body, email.alternatives[0].content):
            assert "one click" not in text.lower()
            assert "opens a short page where you send your answer" in text


def test_survey_links_stored_before_the_fix_are_replaced(personas: Personas) -> None:
    """Mails stored with the customer's link (before) get the placeholder; the customer's
    e-mail keeps working."""
    ticket, message = solved_with_survey(personas)
    token = surveys.make_token("csat", ticket.customer_id, ticket_id=ticket.pk)
    Message.objects.filter(pk=message.pk).update(
        body_text=message.body_text.replace("from-your-email", token),
        body_html=message.body_html.replace("from-your-email", token),
    )
    migration = importlib.import_module("metrics.migrations.0008_survey_links_out_of_stored_mail")
    migration.scrub_survey_links(django_apps, None)
    message.refresh_from_db()
    for text in (message.body_text, message.body_html):
        assert "/survey/from-your-email/?score=4" in text
        assert not TOKEN_LINK.search(text)
    assert Client().post(f"/survey/{token}/", {"csat": "5"}).status_code == 200
