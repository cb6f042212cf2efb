"""CSAT/CES after a solve, NPS on a schedule: links, pages, answers, throttle."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.template import Context, Template
from django.test import Client
from django.utils import timezone

from metrics import surveys
from metrics.models import SurveyInvitation, SurveyResponse, TicketFigures
from metrics.tasks import refresh_ticket_figures_task
from tests.conftest import Personas
from tests.factories import assign, make_customer, open_ticket, reply, set_status
from tickets import directory
from tickets.models import EventKind, Ticket

pytestmark = pytest.mark.django_db


def solved_ticket(p: Personas, kind: str = "support") -> Ticket:
    start = timezone.now() - timedelta(hours=3)
    ticket = open_ticket(p.mailbox_a, p.customer, at=start, kind=kind)
    assign(ticket, p.agent_a, start)
    reply(ticket, p.agent_a, start + timedelta(hours=1))
    set_status(ticket, p.agent_a, "solved", start + timedelta(hours=2))
    return ticket


def csat_path(ticket: Ticket) -> str:
    token = surveys.make_token("csat", ticket.customer_id, ticket_id=ticket.pk)
    return f"/survey/{token}/"


def test_solving_mails_a_csat_survey_once(personas: Personas) -> None:
    ticket = solved_ticket(personas)
    refresh_ticket_figures_task(ticket.pk)
    message = ticket.messages.order_by("-id").first()
    assert (message.direction, message.automatic) == ("outbound", True)
    assert message.delivery_status == "queued"  # the mail worker sends it like a reply
    assert message.to == [personas.customer.email]
    assert message.from_address == personas.mailbox_a.address
    links = re.findall(r"https?://\S+/survey/\S+/\?score=(\d)", message.body_text)
    assert links == ["1", "2", "3", "4", "5"]
    assert "?score=5" in message.body_html
    # A second refresh (the survey message itself changed the ticket) sends nothing.
    refresh_ticket_figures_task(ticket.pk)
    assert ticket.messages.filter(automatic=True).count() == 1
    assert SurveyInvitation.objects.filter(ticket=ticket).count() == 1
    # The survey mail is not an agent reply.
    assert TicketFigures.objects.get(ticket=ticket).agent_replies == 1


def test_open_and_historical_tickets_get_no_survey(personas: Personas) -> None:
    open_one = open_ticket(personas.mailbox_a, personas.customer)
    assert surveys.offer_csat(open_one.pk) is False
    old = open_ticket(personas.mailbox_a, personas.customer)  # created in March (import-like)
    set_status(old, personas.agent_a, "solved", old.created_at + timedelta(hours=1))
    assert surveys.offer_csat(old.pk) is False
    assert not SurveyInvitation.objects.exists()


def test_get_shows_the_clicked_score_but_records_nothing(personas: Personas) -> None:
    ticket = solved_ticket(personas)
    response = Client().get(csat_path(ticket) + "?score=4")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'value="4"[^>]*checked', html)
    assert "How easy was it to get your issue resolved?" in html
    assert not SurveyResponse.objects.exists()


def test_post_records_and_a_repeat_changes_the_answer(personas: Personas) -> None:
    ticket = solved_ticket(personas)
    client = Client()
    path = csat_path(ticket)
    response = client.post(path, {"csat": "4", "ces": "6", "comment": "Quick, thanks"})
    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    csat = SurveyResponse.objects.get(ticket=ticket, kind="csat")
    assert (csat.score, csat.comment, csat.assignee_id) == (4, "Quick, thanks", personas.agent_a.pk)
    assert SurveyResponse.objects.get(ticket=ticket, kind="ces").score == 6
    event = ticket.events.get(kind=EventKind.SURVEY)
    assert event.after == {"csat": 4, "ces": 6}
    # The page remembers the answer; a second POST from the same browser replaces it.
    assert re.search(r'value="4"[^>]*checked', client.get(path).content.decode())
    client.post(path, {"csat": "2", "comment": ""})
    assert SurveyResponse.objects.filter(ticket=ticket, kind="csat").count() == 1
    csat.refresh_from_db()
    assert (csat.score, csat.comment) == (2, "")
    assert SurveyResponse.objects.get(ticket=ticket, kind="ces").score == 6


def test_service_tickets_are_not_asked_for_effort(personas: Personas) -> None:
    ticket = solved_ticket(personas, kind="service")
    html = Client().get(csat_path(ticket)).content.decode()
    assert "How easy" not in html
    Client().post(csat_path(ticket), {"csat": "5", "ces": "7"})
    assert list(SurveyResponse.objects.values_list("kind", flat=True)) == ["csat"]


def test_bad_answers_are_refused_clearly(personas: Personas) -> None:
    ticket = solved_ticket(personas)
    response = Client().post(csat_path(ticket), {"csat": "9"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    response = Client().post(csat_path(ticket), {"comment": "no score"})
    assert "Choose a score from 1 to 5." in response.content.decode()
    assert not SurveyResponse.objects.exists()


def test_forged_and_expired_links(personas: Personas, settings) -> None:
    ticket = solved_ticket(personas)
    path = csat_path(ticket)
    forged = path.replace(path[-6:-1], "AAAAA")
    response = Client().get(forged)
    assert response.status_code == 404
    assert "not valid" in response.content.decode()
    assert Client().post(forged, {"csat": "5"}).status_code == 404
    other = make_customer()
    wrong_customer = surveys.make_token("csat", other.pk, ticket_id=ticket.pk)
    assert Client().get(f"/survey/{wrong_customer}/").status_code == 404
    settings.SURVEY_LINK_MAX_AGE_DAYS = 0
    response = Client().post(path, {"csat": "5"})
    assert response.status_code == 404
    assert "expired" in response.content.decode()
    assert not SurveyResponse.objects.exists()


def test_nps_invitations_are_throttled(personas: Personas) -> None:
    now = timezone.now()
    open_ticket(personas.mailbox_a, personas.customer, at=now - timedelta(days=10))
    assert surveys.send_nps_invitations(now) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [personas.customer.email]
    assert personas.mailbox_a.address in message.from_email
    links = re.findall(r"/survey/\S+/\?score=(\d+)", message.body)
    assert links == [str(n) for n in range(11)]
    # Asked within the last 90 days: not again.
    assert surveys.send_nps_invitations(now + timedelta(days=30)) == 0
    # 91 days later, with a ticket in that period, the customer is asked again.
    open_ticket(personas.mailbox_a, personas.customer, at=now + timedelta(days=60))
    assert surveys.send_nps_invitations(now + timedelta(days=91)) == 1


def test_nps_answer_by_post_only(personas: Personas) -> None:
    invitation = SurveyInvitation.objects.create(kind="nps", customer=personas.customer)
    token = surveys.make_token("nps", personas.customer.pk, invitation_id=invitation.pk)
    client = Client()
    assert client.get(f"/survey/{token}/?score=9").status_code == 200
    assert not SurveyResponse.objects.exists()
    client.post(f"/survey/{token}/", {"nps": "9", "comment": "Great"})
    client.post(f"/survey/{token}/", {"nps": "10"})
    response = SurveyResponse.objects.get()
    assert (response.kind, response.score, response.ticket_id) == ("nps", 10, None)


def test_answers_show_on_the_ticket_page(personas: Personas) -> None:
    ticket = solved_ticket(personas)
    surveys.record_answers(
        surveys.read_token(csat_path(ticket).split("/")[2]), {"csat": 5}, "Lovely"
    )
    html = Template("{% load metrics_tags %}{% ticket_surveys ticket viewer %}").render(
        Context({"ticket": ticket, "viewer": personas.agent_a})
    )
    assert "CSAT" in html and "Lovely" in html
    client = Client()
    client.force_login(personas.agent_a)
    page = client.get(f"/tickets/{ticket.pk}/")
    assert page.status_code == 200
    assert page.content.decode().count("Lovely") == 2  # ticket panel and customer panel
    assert "answered the survey: CSAT 5" in page.content.decode()  # the activity feed


def test_survey_mails_keep_lines_short(personas: Personas) -> None:
    """SMTP refuses lines over 998 characters (RFC 5321); templates must not make them."""
    ticket = solved_ticket(personas)
    surveys.offer_csat(ticket.pk)
    message = ticket.messages.get(automatic=True)
    open_ticket(personas.mailbox_a, make_customer(), at=timezone.now())
    surveys.send_nps_invitations()
    bodies = [message.body_text, message.body_html, mail.outbox[0].body]
    bodies += [content for content, _ in mail.outbox[0].alternatives]
    assert max(len(line) for body in bodies for line in body.splitlines()) < 500


@pytest.mark.parametrize(
    ("kind", "scores"),
    [
        ("csat", {1: "bad", 2: "bad", 3: "mid", 4: "good", 5: "good"}),
        ("ces", {1: "bad", 3: "bad", 4: "mid", 5: "good", 7: "good"}),
        ("nps", {0: "bad", 6: "bad", 7: "mid", 8: "mid", 9: "good", 10: "good"}),
    ],
)
def test_answer_badges_are_coloured_by_score_not_by_kind(
    personas: Personas, kind: str, scores: dict[int, str]
) -> None:
    """A CSAT of 1 is red and a 5 green (they were both the CSAT green); NPS detractors,
    passives and promoters; CES hard, neutral, easy."""
    ticket = solved_ticket(personas)
    customer_panel = "{% load metrics_tags %}{% customer_surveys customer viewer %}"
    for score, tone in scores.items():
        SurveyResponse.objects.update_or_create(
            ticket=ticket if kind != "nps" else None,
            kind=kind,
            external_key="" if kind != "nps" else "nps-1",
            defaults={"score": score, "customer": personas.customer},
        )
        html = Template(customer_panel).render(
            Context({"customer": personas.customer, "viewer": personas.agent_a})
        )
        badge = re.search(r'<span class="badge ([^"]+)">' + kind.upper(), html)
        assert badge is not None, html
        assert f"badge-score-{tone}" in badge.group(1).split(), (kind, score, badge.group(1))


def test_ticket_page_reads_both_panels_in_one_query_with_what_each_reads_alone(
    personas: Personas, django_assert_num_queries
) -> None:
    """The ticket's own answers stay on its panel when older than the customer's five
    newest; the customer panel lists the five newest of any ticket, NPS included."""
    ticket = solved_ticket(personas)
    now = timezone.now()
    for kind, score, age in (("ces", 2, 99), ("csat", 3, 98)):
        SurveyResponse.objects.create(
            kind=kind,
            score=score,
            ticket=ticket,
            customer=ticket.customer,
            submitted_at=now - timedelta(hours=age),
        )
    for n in range(6):
        other = solved_ticket(personas)
        kind = "nps" if n == 5 else "csat"
        SurveyResponse.objects.create(
            kind=kind,
            score=4,
            ticket=None if kind == "nps" else other,
            customer=ticket.customer,
            submitted_at=now - timedelta(hours=n),
        )
    SurveyResponse.objects.create(
        kind="csat", score=1, ticket=solved_ticket(personas), customer=make_customer()
    )
    ticket = Ticket.objects.select_related("customer").get(pk=ticket.pk)
    # The agent's mailboxes come from the directory each process holds (the ticket page
    # has loaded it for its menus by then).
    directory.visible_mailboxes(personas.agent_a)
    with django_assert_num_queries(1):
        panels = surveys.ticket_page_responses(ticket, personas.agent_a)
        assert surveys.ticket_page_responses(ticket, personas.agent_a) is panels
    assert [r.pk for r in panels.ticket] == [r.pk for r in surveys.ticket_responses(ticket)]
    assert [r.kind for r in panels.ticket] == ["ces", "csat"]
    alone = surveys.customer_responses(ticket.customer, personas.agent_a)
    assert [r.pk for r in panels.customer] == [r.pk for r in alone]
    assert len(alone) == 5 and alone[-1].submitted_at == now - timedelta(hours=4)
