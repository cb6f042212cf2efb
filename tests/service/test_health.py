"""Account health on constructed histories: the factors and the score, exactly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from metrics.models import SurveyKind, SurveyResponse
from metrics.services import refresh_ticket_figures
from service import health, hooks, tasks
from service.models import AccountHealth, HealthSnapshot
from tests.factories import T0, make_customer
from tickets import services
from tickets.models import Direction, Kind, Organization, Status, Ticket
from tickets.services import Actor
from tickets.workflow.automation import validate_rule
from tickets.workflow.automation.health import Account
from tickets.workflow.follow_ups import HEALTH_TAG
from tickets.workflow.models import AutomationRule, Trigger

NOW = T0 + timedelta(days=400)
DAY = timedelta(days=1)


def _points(row: AccountHealth) -> dict[str, float]:
    return {f["name"]: f["points"] for f in row.factors}


def test_score_of_facts_sums_the_factors() -> None:
    facts = health.Facts(
        now=NOW,
        recent_tickets=4,
        baseline_tickets=6,
        solved=4,
        reopened=1,
        oldest_open_at=NOW - 10 * DAY,
        sentiments=(-0.5, -0.3),
        latest_csat=2,
        latest_nps=5,
        last_contact_at=NOW - 50 * DAY,
    )
    result = health.score_of(facts)
    assert {f.name: f.points for f in result.factors} == {
        "ticket_volume": -15.0,  # 4 against a baseline of 1 a month: 3 over, 5 each
        "reopen_rate": -5.0,  # 1 of 4 reopened: -20 x 0.25
        "unresolved_age": -3.0,  # 10 days old: 3 past the first week
        "sentiment": -6.0,  # mean -0.4 x 15
        "csat": -5.0,  # (2 - 3) x 5
        "nps": -15.0,  # a detractor
        "last_contact": -5.0,  # 50 days: (50 - 30) / 4
    }
    assert result.score == 26  # 80 - 54


def test_score_is_kept_within_0_and_100() -> None:
    good = health.Facts(now=NOW, latest_csat=5, latest_nps=10, sentiments=(1.0,))
    assert health.score_of(good).score == 100  # 80 + 10 + 5 + 5
    assert health.score_of(health.Facts(now=NOW)).score == 80


def _history(personas, customer, *, mailbox=None) -> None:
    mailbox = mailbox or personas.mailbox_a
    agent = Actor.agent(personas.agent_a)
    # Baseline: six tickets 60 to 200 days before NOW (one a month on average).
    for days in (60, 80, 100, 130, 160, 200):
        old = services.create_ticket(
            mailbox=mailbox, customer=customer, subject="Old", body_text="ok", at=NOW - days * DAY
        )
        services.update_ticket(old, actor=agent, status=Status.CLOSED, at=NOW - (days - 1) * DAY)
    # Recent: four tickets; one reopened after its solve, one still open from 10 days ago.
    opened = services.create_ticket(
        mailbox=mailbox,
        customer=customer,
        subject="Down",
        body_text="Invoice 12",
        at=NOW - 10 * DAY,
    )
    for days in (20, 15, 12):
        t = services.create_ticket(
            mailbox=mailbox,
            customer=customer,
            subject="x",
            body_text="Invoice 12",
            at=NOW - days * DAY,
        )
        services.update_ticket(t, actor=agent, status=Status.SOLVED, at=NOW - (days - 1) * DAY)
        if days == 20:
            services.update_ticket(t, actor=agent, status=Status.OPEN, at=NOW - 18 * DAY)
            services.update_ticket(t, actor=agent, status=Status.SOLVED, at=NOW - 17 * DAY)
    for ticket in Ticket.objects.filter(customer=customer):
        refresh_ticket_figures(ticket.pk)
    SurveyResponse.objects.create(
        kind=SurveyKind.CSAT, score=5, customer=customer, submitted_at=NOW - 90 * DAY
    )
    SurveyResponse.objects.create(
        kind=SurveyKind.CSAT, score=2, customer=customer, submitted_at=NOW - 9 * DAY
    )
    SurveyResponse.objects.create(
        kind=SurveyKind.NPS, score=9, customer=customer, submitted_at=NOW - 9 * DAY
    )
    assert opened.status != Status.SOLVED


def test_recompute_on_a_constructed_history(personas) -> None:
    customer = make_customer("ops@acme.test")
    _history(personas, customer)
    row = health.recompute(Account("customer", customer.pk), now=NOW)
    row.refresh_from_db()
    assert _points(row) == {
        "ticket_volume": -15.0,  # 4 recent against 6 / 6 = 1 a month
        "reopen_rate": -4.0,  # 1 of the 5 solved in 90 days (3 recent; opened 60, 80 days ago)
        "unresolved_age": -3.0,  # opened 10 days ago
        "sentiment": 0.0,  # "Invoice 12" is neutral to VADER
        "csat": -5.0,  # the latest CSAT (2), not the earlier 5
        "nps": 5.0,  # a promoter
        "last_contact": 0.0,  # they wrote 10 days ago
    }
    assert row.score == 58  # 80 - 15 - 4 - 3 - 5 + 5
    assert HealthSnapshot.objects.get(customer=customer).score == 58


def test_an_organization_adds_up_its_members(personas) -> None:
    org = Organization.objects.create(name="Acme")
    first = make_customer("one@acme.test", organization=org)
    second = make_customer("two@acme.test", organization=org)
    for customer, days in ((first, 5), (second, 6), (second, 7)):
        services.create_ticket(
            mailbox=personas.mailbox_a,
            customer=customer,
            subject="Help",
            body_text="I hate this, awful",
            at=NOW - days * DAY,
        )
    row = health.recompute(Account("organization", org.pk), now=NOW)
    sentiment = services_sentiment("I hate this, awful")
    assert _points(row)["ticket_volume"] == -10.0  # 3 tickets, baseline 1: 2 over
    assert _points(row)["unresolved_age"] == 0.0  # 7 days: not past the first week
    assert _points(row)["sentiment"] == round(15 * sentiment, 1)
    assert sentiment < -0.5


def services_sentiment(text: str) -> float:
    from tickets.workflow.automation import message_sentiment

    return message_sentiment(text)


def test_history_is_one_row_per_account_per_day(personas) -> None:
    customer = make_customer("ops@acme.test")
    account = Account("customer", customer.pk)
    health.recompute(account, now=NOW)
    services.create_ticket(
        mailbox=personas.mailbox_a, customer=customer, subject="a", body_text="b", at=NOW - DAY
    )
    health.recompute(account, now=NOW + timedelta(minutes=5))
    health.recompute(account, now=NOW + DAY)
    assert list(
        HealthSnapshot.objects.filter(customer=customer)
        .order_by("day")
        .values_list("score", flat=True)
    ) == [80, 80]
    assert AccountHealth.objects.filter(customer=customer).count() == 1


def _health_rule(threshold: int) -> AutomationRule:
    rule = AutomationRule.objects.create(
        name="Falling",
        trigger=Trigger.HEALTH_FELL,
        conditions=[{"field": "health", "op": "below", "value": threshold}],
        actions=[{"type": "health_follow_up"}, {"type": "tell_account_owner"}],
    )
    from tickets.workflow.automation import rules_changed

    rules_changed()
    return rule


@pytest.mark.django_db(transaction=True)
def test_a_fall_below_the_threshold_opens_one_follow_up_for_the_owner(
    personas, monkeypatch
) -> None:
    told: list[tuple] = []
    monkeypatch.setattr(
        "tickets.workflow.automation.actions.notify.notify_agents",
        lambda users, ticket_id, headline, text="": told.append((users, headline)),
    )
    org = Organization.objects.create(name="Acme", success_contact=personas.agent_a)
    customer = make_customer("ops@acme.test", organization=org)
    _history(personas, customer)
    _health_rule(60)
    account = Account("organization", org.pk)
    health.recompute(account, now=NOW)  # 58: below 60, from no score (healthy)
    follow_ups = Ticket.objects.filter(kind=Kind.SERVICE, tags__contains=[HEALTH_TAG])
    assert follow_ups.count() == 1
    follow_up = follow_ups.get()
    assert follow_up.assignee == personas.agent_a
    assert follow_up.subject == "Health of Acme fell to 58"
    assert "Ticket volume" in follow_up.messages.get(direction=Direction.NOTE).body_text
    # The headline is worded in the owner's language when it is written.
    assert [(users, headline()) for users, headline in told] == [
        ([personas.agent_a], "Health of Acme fell to 58")
    ]
    health.recompute(account, now=NOW + timedelta(minutes=1))  # still 58: no new fall
    assert follow_ups.count() == 1
    assert len(told) == 1


def test_health_rules_are_validated() -> None:
    assert validate_rule(
        Trigger.CREATED,
        [{"field": "health", "op": "below", "value": 40}],
        [{"type": "add_note", "value": "x"}],
    ) == ["“Account health” is only for rules run when health falls."]
    assert validate_rule(
        Trigger.HEALTH_FELL,
        [{"field": "health", "op": "below", "value": 40}],
        [{"type": "add_note", "value": "x"}],
    ) == ["A health rule can open a service follow-up or tell the account owner, nothing else."]
    assert (
        validate_rule(
            Trigger.HEALTH_FELL,
            [{"field": "health", "op": "below", "value": 40}],
            [{"type": "tell_account_owner"}],
        )
        == []
    )


def test_changes_of_one_account_are_measured_once(
    personas, monkeypatch, django_assert_num_queries
) -> None:
    handed: list[tuple] = []
    queued: list[tuple] = []
    monkeypatch.setattr(hooks, "enqueue", lambda task, *args, **kw: handed.append(args) or True)
    monkeypatch.setattr(tasks, "enqueue", lambda task, *args, **kw: queued.append(args) or True)
    org = Organization.objects.create(name="Acme")
    customer = make_customer("ops@acme.test", organization=org)
    first = services.create_ticket(
        mailbox=personas.mailbox_a, customer=customer, subject="a", body_text="b"
    )
    second = services.create_ticket(
        mailbox=personas.mailbox_a, customer=customer, subject="c", body_text="d"
    )
    # The request hands the ticket over once until a worker takes it: no query.
    with django_assert_num_queries(0):
        hooks.ticket_changed(first.pk)
        hooks.ticket_changed(first.pk)
    assert handed == [([first.pk],)]
    tasks.accounts_stale_task([first.pk])
    tasks.accounts_stale_task([first.pk, second.pk])
    assert queued == [("customer", customer.pk), ("organization", org.pk)]


def test_a_health_rule_through_the_rule_builder(personas, client) -> None:
    client.force_login(personas.manager)
    data = {
        "name": "Falling accounts",
        "trigger": "health_fell",
        "match": "all",
        "is_active": "on",
        "position": "5",
        "c-TOTAL_FORMS": "1",
        "c-INITIAL_FORMS": "0",
        "c-0-field": "health",
        "c-0-op": "below",
        "c-0-value": "40",
        "a-TOTAL_FORMS": "2",
        "a-INITIAL_FORMS": "0",
        "a-0-type": "health_follow_up",
        "a-1-type": "tell_account_owner",
    }
    assert client.post("/workflow/rules/new/", data).status_code == 302
    rule = AutomationRule.objects.get(name="Falling accounts")
    assert (rule.trigger, rule.conditions) == (
        Trigger.HEALTH_FELL,
        [{"field": "health", "op": "below", "value": 40.0}],
    )
    assert rule.actions == [
        {"type": "health_follow_up", "value": None},
        {"type": "tell_account_owner", "value": None},
    ]
    refused = client.post("/workflow/rules/new/", {**data, "name": "Odd", "trigger": "created"})
    assert refused.status_code == 422
    assert "only for rules run when health falls" in refused.content.decode()


def test_factors_read_in_the_readers_language() -> None:
    """A factor keeps its English detail (rules, audit) and is explained in the page's
    language from its stored message and numbers; a factor stored before that keeps its
    English."""
    from django.utils import translation

    facts = health.Facts(
        now=NOW, recent_tickets=1234, baseline_tickets=9, sentiments=(-0.5, -0.3), latest_nps=5
    )
    stored = {f.name: f.as_dict() for f in health.score_of(facts).factors}
    volume = stored["ticket_volume"]
    assert volume["detail"] == "1234 support tickets in the last 30 days; usually 1.5 per 30 days"
    assert stored["sentiment"]["detail"] == "Mean tone -0.40 (-1 to +1) over their last 2 messages"
    with translation.override("de"):
        shown = health.explain(volume)
        assert shown["label"] == "Ticketvolumen" and shown["points_text"] == "-20"
        assert shown["detail"] == (
            "1.234 Support-Tickets in den letzten 30 Tagen; üblich sind 1,5 pro 30 Tage"
        )
        assert health.explain(stored["nps"])["detail"] == "Bewertet mit 5 von 10 (Kritiker)"
        assert health.explain(stored["sentiment"])["points_text"] == "-6"
        old = {"name": "csat", "label": "Latest CSAT", "points": -2.5, "detail": "none"}
        assert health.explain(old) == {**old, "label": "Letzte CSAT", "points_text": "-2,5"}
    with translation.override("en"):
        assert health.explain(volume)["detail"] == "1,234 " + volume["detail"].removeprefix("1234 ")


def test_the_account_pages_in_german(personas, client) -> None:
    """At risk, My accounts, the customer's health panel and the service dashboard's
    sections speak German to a German reader, the factors and their numbers included."""
    customer = personas.customer
    AccountHealth.objects.create(
        customer=customer,
        score=42,
        computed_at=NOW,
        factors=[
            health.Factor(
                "reopen_rate",
                health.REOPEN_RATE,
                -12.5,
                "%(reopened)s of %(solved)s tickets solved in the last 90 days were reopened",
                {"reopened": 5, "solved": 8},
            ).as_dict()
        ],
    )
    client.force_login(personas.manager)
    german = {"HTTP_ACCEPT_LANGUAGE": "de"}
    at_risk = client.get("/accounts/at-risk/", **german).content.decode()
    assert "Gefährdete Konten" in at_risk and "Wiedereröffnungsquote (-12,5)" in at_risk
    assert "Gesundheit" not in at_risk and "Weighs most" not in at_risk
    mine = client.get("/accounts/mine/", **german).content.decode()
    assert "Meine Konten" in mine and "Sie betreuen noch keine Organisation" in mine
    page = client.get(f"/customers/{customer.pk}/", **german).content.decode()
    assert "5 von 8 in den letzten 90 Tagen gelösten Tickets wurden wiedereröffnet" in page
    assert '<td class="num">-12,5</td>' in page and "Verlauf (letzte 90 Tage)" in page
    service = client.get("/dashboards/service/", **german).content.decode()
    assert "Worüber Kunden schreiben" in service and "Gefährdet" in service
