"""Topics on constructed histories: phrases, counts, the previous window, the API."""

from __future__ import annotations

from datetime import timedelta

from rest_framework.test import APIClient

from service import topics
from tests.factories import T0
from tickets import services

NOW = T0 + timedelta(days=60)
DAY = timedelta(days=1)


def test_phrases_fold_plurals_and_break_at_stop_words() -> None:
    assert topics.phrases("My refunds are late: refund delay!") == {
        "refund": "refunds",
        "late": "late",
        "refund delay": "refund delay",
        "delay": "delay",
    }


def test_mine_groups_a_word_into_its_phrase() -> None:
    texts = [
        "Refund delay again",
        "refund delay for order",
        "Where is my refund",
        "Login fails",
        "login fails on mobile",
        "password reset",
    ]
    mined = topics.mine(texts)
    # "refund delay" covers 2 of the 3 tickets about "refund" (at least half), so it
    # stands for the group; "login fails" holds both "login" and "fail(s)"; "password
    # reset" is in one ticket only.
    assert [(m.phrase, m.count) for m in mined] == [("login fails", 2), ("refund delay", 2)]


def _ticket(personas, subject: str, body: str, days_ago: float, mailbox=None):
    return services.create_ticket(
        mailbox=mailbox or personas.mailbox_a,
        customer=personas.customer,
        subject=subject,
        body_text=body,
        at=NOW - days_ago * DAY,
    )


def _seed(personas) -> None:
    for days in (1, 2, 3):
        _ticket(personas, "Refund delay", "Still waiting", days)
    _ticket(personas, "Question", "The refund delay is long", 4, mailbox=personas.mailbox_b)
    _ticket(personas, "Printer jam", "paper", 5)
    _ticket(personas, "Printer jam", "paper", 6)
    _ticket(personas, "Refund delay", "again", 10)  # the previous window (7 to 14 days ago)
    _ticket(personas, "Printer jam", "paper", 12)
    topics.refresh_topics(now=NOW)


def test_window_counts_and_previous_window(personas) -> None:
    _seed(personas)
    window = topics.TopicFilters(start=NOW - 7 * DAY, end=NOW)
    found = {t.phrase: (t.count, t.previous_count) for t in topics.window_topics(window)}
    assert found["refund delay"] == (4, 1)
    assert found["printer jam"] == (2, 1)
    by_mailbox = topics.TopicFilters(start=NOW - 7 * DAY, end=NOW, mailbox_id=personas.mailbox_b.pk)
    assert {t.phrase: t.count for t in topics.window_topics(by_mailbox)} == {"refund delay": 1}


def test_topics_api(personas, django_assert_num_queries) -> None:
    _seed(personas)
    client = APIClient()
    client.force_authenticate(personas.manager)
    start, end = (NOW - 7 * DAY).isoformat(), NOW.isoformat()
    # Queries: the partial days (TicketTopic), the whole days (TopicDay), the phrases.
    with django_assert_num_queries(3):
        response = client.get("/api/v1/metrics/topics/", {"start": start, "end": end})
    assert response.status_code == 200, response.content
    rows = response.json()["topics"]
    assert rows[0]["phrase"] == "refund delay"
    assert (rows[0]["count"], rows[0]["previous_count"]) == (4, 1)
    assert [r["count"] for r in rows] == sorted((r["count"] for r in rows), reverse=True)
    # The drill-down lists the topic's tickets of the window.
    client.force_login(personas.manager)
    page = client.get(rows[0]["tickets"].removeprefix("http://testserver"))
    assert page.content.decode().count('href="/tickets/') >= 4
    assert client.get("/api/v1/metrics/topics/", {"start": "yesterday"}).status_code == 400
    assert client.get("/api/v1/metrics/topics/", {"hours": "calendar"}).status_code == 400
    agent = APIClient()
    agent.force_authenticate(personas.agent_a)
    assert agent.get("/api/v1/metrics/topics/").status_code == 403


def test_drill_down_shows_only_tickets_the_viewer_may_open(personas, client) -> None:
    _seed(personas)
    from service.models import Topic

    topic = Topic.objects.get(key="refund delay")
    query = {"start": (NOW - 7 * DAY).isoformat(), "end": NOW.isoformat()}
    client.force_login(personas.manager)
    assert client.get(f"/dashboards/topics/{topic.pk}/", query).content.decode().count("#") >= 4
    client.force_login(personas.agent_a)
    assert client.get(f"/dashboards/topics/{topic.pk}/", query).status_code == 403


def test_recompute_metrics_brings_health_and_topics_up_to_date(personas) -> None:
    from django.core.management import call_command
    from django.utils import timezone

    from service.models import AccountHealth, Topic

    for _ in range(2):
        services.create_ticket(
            mailbox=personas.mailbox_a,
            customer=personas.customer,
            subject="Refund delay",
            body_text="waiting",
            at=timezone.now() - DAY,
        )
    call_command("recompute_metrics", verbosity=0)
    # Two tickets this month against a baseline of one: -5.
    assert AccountHealth.objects.get(customer=personas.customer).score == 75
    assert list(Topic.objects.values_list("phrase", flat=True)) == ["refund delay", "waiting"]


def test_day_totals_and_edges_agree_with_the_tickets_for_any_window(personas) -> None:
    from django.db.models import Count
    from django.utils import timezone

    from service.models import TicketTopic

    _seed(personas)
    midnight = topics._midnight(timezone.localtime(NOW).date())  # a local midnight
    windows = [
        (NOW - 7 * DAY, NOW),  # partial days at both ends
        (midnight - 7 * DAY, midnight),  # whole days only
        (NOW - timedelta(hours=30), NOW - timedelta(hours=20)),  # within two days
        (NOW - 3 * DAY, NOW - 2.5 * DAY),  # within one day
    ]
    for start, end in windows:
        filters = topics.TopicFilters(start=start, end=end)
        expected = dict(
            TicketTopic.objects.filter(created_at__gte=start, created_at__lt=end)
            .values_list("topic__phrase")
            .annotate(n=Count("pk"))
        )
        assert {t.phrase: t.count for t in topics.window_topics(filters)} == expected, (start, end)
