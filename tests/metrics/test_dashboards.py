"""Managers' dashboards: figures with definitions, comparison, charts, drill-down, CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone

from metrics.models import SurveyResponse
from metrics.services import recompute_all
from tests.conftest import Personas
from tests.factories import assign, make_customer, make_user, open_ticket, reply, set_status
from tickets.models import Role, Ticket

pytestmark = pytest.mark.django_db


def _history(p: Personas, count: int, channels: list[str] | None = None) -> list:
    start = timezone.now() - timedelta(days=3)
    tickets = []
    for n in range(count):
        at = start + timedelta(minutes=n)
        ticket = open_ticket(p.mailbox_a, make_customer(), at=at, team=p.team_a)
        assign(ticket, p.agent_a if n % 2 else p.agent_b, at)
        reply(ticket, p.agent_a if n % 2 else p.agent_b, at + timedelta(hours=1))
        if n % 3:
            set_status(ticket, p.agent_a, "solved", at + timedelta(hours=2))
        tickets.append(ticket)
    for ticket, channel in zip(tickets, channels or [], strict=False):
        Ticket.objects.filter(pk=ticket.pk).update(channel=channel)
    SurveyResponse.objects.create(
        kind="csat",
        score=5,
        ticket=tickets[0],
        customer=tickets[0].customer,
        assignee=p.agent_b,
        comment="Very kind people",
        submitted_at=start + timedelta(days=1),
    )
    recompute_all()
    return tickets


@pytest.fixture
def manager(personas: Personas) -> Client:
    client = Client()
    client.force_login(personas.manager)
    return client


def test_only_managers_and_admins(personas: Personas) -> None:
    client = Client()
    response = client.get("/dashboards/support/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(personas.agent_a)
    assert client.get("/dashboards/support/").status_code == 403
    assert client.get("/dashboards/tickets/?figure=backlog").status_code == 403
    client.force_login(personas.admin)
    assert client.get("/dashboards/").status_code == 302
    assert client.get("/dashboards/service/").status_code == 200
    assert client.post("/dashboards/support/").status_code == 405


def test_support_dashboard(manager: Client, personas: Personas) -> None:
    _history(personas, 6)
    response = manager.get("/dashboards/support/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "First response time (median)" in html
    assert "1 h 00 min" in html  # every first reply came after one hour
    # Resolution with its mean (MTTR) and p90 beside the median; FRT too.
    assert "n = 6 · mean 1 h 00 min · p90 1 h 00 min" in html
    assert "n = 4 · mean (MTTR) 2 h 00 min · p90 2 h 00 min" in html
    assert "Resolution p90" in html
    # Definitions in the spec's words, beside the figures.
    assert "time of the final solve minus creation time" in html
    assert "One-touch tickets / tickets whose final solve falls in the window" in html
    # Whom the agent filter and the per-agent table count, as the spec says it.
    assert "By agent: the agent who sent the first reply." in html
    assert html.count("By agent: the ticket&#x27;s assignee at its final solve.") == 4
    assert "By agent: the ticket&#x27;s assignee when the survey was answered." in html
    assert html.count('<svg class="chart"') == 4
    assert "Ana" in html  # the per-agent table
    assert "Team A" in html
    assert "figure=backlog" in html
    assert "Knowledge base gaps" in html


def test_comparison_says_better_or_worse_only_where_one_direction_is_better(
    manager: Client, personas: Personas
) -> None:
    _history(personas, 6)  # all in this window, none in the previous one
    html = manager.get("/dashboards/support/").content.decode()
    volume = html.split("Volume (tickets created)")[1].split("</article>")[0]
    assert "previous window: 0</p>" in volume and "kpi-better" not in volume
    backlog = html.split("Backlog at end")[1].split("</article>")[0]
    assert "kpi-worse" in backlog and "▲ 2</strong> worse · previous window: 0</p>" in backlog


def test_empty_window_shows_dashes_and_empty_charts(manager: Client, personas: Personas) -> None:
    html = manager.get("/dashboards/support/?start=2020-01-01&end=2020-01-31").content.decode()
    assert "No data in this window." in html
    assert "Nothing to show for this window" in html


def test_the_filters_show_the_window_in_use(manager: Client, personas: Personas) -> None:
    today = timezone.localdate()
    html = manager.get("/dashboards/support/").content.decode()
    # Left blank, the dates are those of the last 30 days the figures are for.
    assert f'name="start" value="{(today - timedelta(days=29)).isoformat()}"' in html
    assert f'name="end" value="{today.isoformat()}"' in html
    assert '<option value="calendar" selected>' in html
    html = manager.get("/dashboards/service/?start=2020-01-01&end=2020-03-31").content.decode()
    # Longer than two months, the charts are per week: the choice says so.
    assert '<option value="week" selected>' in html
    assert "Jan. 1, 2020 \u2013 March 31, 2020 (91 days, UTC time)" in html
    assert "compared with the 91 days before: Oct. 2, 2019 \u2013 Dec. 31, 2019" in html
    drill = manager.get("/dashboards/tickets/?figure=backlog&start=2020-01-01&end=2020-01-31")
    assert "Jan. 1, 2020 \u2013 Jan. 31, 2020 (UTC time)" in drill.content.decode()


def test_bad_filters_fall_back_with_a_message(manager: Client, personas: Personas) -> None:
    response = manager.get("/dashboards/support/?start=2026-02-10&end=2026-01-01&team=999")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Showing the last 30 days instead." in html


def test_drill_down_lists_the_tickets_behind_a_figure(manager: Client, personas: Personas) -> None:
    tickets = _history(personas, 6)
    backlog = manager.get("/dashboards/tickets/?figure=backlog")
    assert backlog.status_code == 200
    open_numbers = {t.pk for n, t in enumerate(tickets) if n % 3 == 0}
    html = backlog.content.decode()
    for number in open_numbers:
        assert f"#{number} " in html
    solved = manager.get(f"/dashboards/tickets/?figure=resolution&agent={personas.agent_a.pk}")
    shown = {t.pk for t in tickets if f"#{t.pk} " in solved.content.decode()}
    assert shown == {t.pk for n, t in enumerate(tickets) if n % 3 and n % 2}
    assert manager.get("/dashboards/tickets/?figure=nonsense").status_code == 400
    # A filter that names nobody says so, rather than listing every ticket as if filtered.
    unknown = manager.get("/dashboards/tickets/?figure=backlog&agent=999999").content.decode()
    assert "Showing the last 30 days without filters instead." in unknown
    assert "First resolution" in solved.content.decode()
    # Behind CSAT: the tickets with the answer each gave.
    csat = manager.get("/dashboards/tickets/?figure=csat&dashboard=service").content.decode()
    assert f"#{tickets[0].pk} " in csat
    assert "CSAT answer" in csat and "Very kind people" in csat
    assert 'badge-survey-csat">5<' in csat
    assert "CSAT answer" not in backlog.content.decode()


def test_table_figures_link_to_their_tickets(manager: Client, personas: Personas) -> None:
    p = personas
    tickets = _history(p, 6)
    html = manager.get(f"/dashboards/support/?mailbox={p.mailbox_a.pk}").content.decode()
    links = set(re.findall(r'href="(/dashboards/tickets/\?[^"]+)"', html))
    solved_by_ana = {t.pk for n, t in enumerate(tickets) if n % 3 and n % 2}
    for group, key, figure, expected in [
        ("agent", p.agent_a.pk, "resolution", solved_by_ana),
        ("agent", p.agent_b.pk, "first_response", {t.pk for t in tickets[::2]}),
        ("team", p.team_a.pk, "fcr", {t.pk for n, t in enumerate(tickets) if n % 3}),
    ]:
        (link,) = [
            unescape(link) for link in links if f"&amp;{group}={key}&amp;figure={figure}" in link
        ]
        assert f"mailbox={p.mailbox_a.pk}" in link  # the page's filters stay
        listed = manager.get(link).content.decode()
        # The list says which filters it is under.
        name = p.agent_a.display_name if key == p.agent_a.pk else p.agent_b.display_name
        named = f"Agent: {name}" if group == "agent" else f"Team: {p.team_a.name}"
        assert f"<strong>{named} · Mailbox: {p.mailbox_a}" in unescape(listed)
        assert {t.pk for t in tickets if f"#{t.pk} " in listed} == expected, (group, figure)
    service = manager.get("/dashboards/service/").content.decode()
    assert f"dashboard=service&amp;agent={p.agent_b.pk}&amp;figure=csat" in service


def test_csv_exports(manager: Client, personas: Personas) -> None:
    _history(personas, 4)
    response = manager.get("/dashboards/support/?export=agents")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["name", "First replies", "FRT median"]
    assert {row[0] for row in rows[1:]} == {"Ana", "Ben"}
    figures = list(
        csv.reader(io.StringIO(manager.get("/dashboards/support/?export=figures").content.decode()))
    )
    assert figures[1][0] == "Volume (tickets created)" and figures[1][1] == "4"
    assert figures[0][3] == "detail" and figures[2][3].startswith("n = 4 · mean 1 h 00 min")
    assert "Resolution p90" in rows[0]
    service = manager.get("/dashboards/service/?export=agents").content.decode()
    assert "CSAT score" in service
    assert manager.get("/dashboards/support/?export=bogus").status_code == 400


def test_drill_down_shows_the_agent_the_figure_counts(manager: Client, personas: Personas) -> None:
    p = personas
    start = timezone.now() - timedelta(days=2)
    ticket = open_ticket(p.mailbox_a, make_customer(), at=start)
    assign(ticket, p.agent_b, start)
    reply(ticket, p.agent_b, start + timedelta(hours=1))
    set_status(ticket, p.agent_b, "solved", start + timedelta(hours=2))
    assign(ticket, p.agent_a, start + timedelta(hours=3))  # handed over after the solve
    recompute_all()
    url = f"/dashboards/tickets/?figure=resolution&agent={p.agent_b.pk}"
    row = manager.get(url).content.decode().split(f"#{ticket.pk} ")[1].split("</tr>")[0]
    assert "Ben" in row and "Ana" not in row
    rows = list(csv.reader(io.StringIO(manager.get(url + "&export=csv").content.decode())))
    assert (rows[0][3], rows[1][3]) == ("agent counted", p.agent_b.display_name)
    backlog = manager.get("/dashboards/tickets/?figure=tickets_created").content.decode()
    assert "Assignee now" in backlog and "Agent counted" not in backlog


def test_csv_of_the_comments_and_of_the_tickets_behind_a_figure(
    manager: Client, personas: Personas
) -> None:
    tickets = _history(personas, 6)
    SurveyResponse.objects.create(
        kind="nps",
        score=0,
        customer=personas.other_customer,
        comment='=HYPERLINK("http://evil.test")',
        submitted_at=timezone.now() - timedelta(hours=1),
    )

    def rows(url: str) -> list[list[str]]:
        response = manager.get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        return list(csv.reader(io.StringIO(response.content.decode())))

    comments = rows(f"/dashboards/service/?team={personas.team_a.pk}&export=comments")
    assert comments[0] == ["survey", "score", "ticket", "customer", "submitted at", "comment"]
    # A spreadsheet must not run a customer's text as a formula.
    assert [(r[0], r[1], r[2], r[5]) for r in comments[1:]] == [
        ("nps", "0", "", '\'=HYPERLINK("http://evil.test")'),
        ("csat", "5", str(tickets[0].pk), "Very kind people"),
    ]
    html = manager.get("/dashboards/service/").content.decode()
    assert "export=comments" in html
    assert manager.get("/dashboards/support/?export=comments").status_code == 400

    backlog = rows("/dashboards/tickets/?figure=backlog&export=csv")
    assert backlog[0][:4] == ["ticket", "subject", "status", "assignee now"]
    assert backlog[0][4] == "FRT seconds (calendar)"
    assert {int(r[0]) for r in backlog[1:]} == {t.pk for n, t in enumerate(tickets) if n % 3 == 0}
    assert all(r[4] == "3600.0" for r in backlog[1:])
    assert backlog[0][5:7] == [
        "first resolution seconds (calendar)",
        "full resolution seconds (calendar)",
    ]
    csat = rows("/dashboards/tickets/?figure=csat&dashboard=service&export=csv")
    assert csat[0][-2:] == ["csat score", "comment"]
    assert csat[1][0] == str(tickets[0].pk) and csat[1][-2:] == ["5", "Very kind people"]
    page = manager.get("/dashboards/tickets/?figure=backlog").content.decode()
    assert "export=csv" in page


def test_service_dashboard(manager: Client, personas: Personas) -> None:
    _history(personas, 3)
    html = manager.get("/dashboards/service/").content.decode()
    assert "Very kind people" in html
    assert "100.0 %" in html  # one CSAT answer of 5
    assert "1 response<" in html
    assert "0 promoters · 0 passives · 0 detractors" in html
    assert "takes no ticket filter" in html


def test_comments_follow_the_filters(manager: Client, personas: Personas) -> None:
    p = personas
    tickets = _history(p, 2)  # "Very kind people": team A's ticket, answered under Ben
    other = open_ticket(p.mailbox_b, p.other_customer, team=p.team_b, kind="service")
    at = timezone.now() - timedelta(hours=1)
    for kind, score, ticket, comment in [
        ("csat", 2, other, "Nobody from team B called back"),
        ("nps", 9, None, "Great product overall"),
    ]:
        SurveyResponse.objects.create(
            kind=kind,
            score=score,
            ticket=ticket,
            customer=p.other_customer,
            assignee=p.agent_b if ticket else None,
            comment=comment,
            submitted_at=at,
        )

    def comments(query: str) -> set[str]:
        html = manager.get(f"/dashboards/service/?{query}").content.decode()
        texts = ("Very kind people", "Nobody from team B called back", "Great product overall")
        return {text for text in texts if text in html}

    everything = {"Very kind people", "Nobody from team B called back", "Great product overall"}
    assert comments("") == everything
    # NPS is asked of a customer: its comments stay under every ticket filter.
    assert comments(f"team={p.team_a.pk}") == {"Very kind people", "Great product overall"}
    assert comments(f"mailbox={p.mailbox_b.pk}") == everything - {"Very kind people"}
    assert comments("kind=support") == {"Very kind people", "Great product overall"}
    assert comments(f"agent={p.agent_a.pk}") == {"Great product overall"}
    assert comments(f"agent={p.agent_b.pk}") == everything
    assert tickets[0].team_id == p.team_a.pk


def test_service_tables_are_sorted_by_name(manager: Client, personas: Personas) -> None:
    names = ["Yara", "Carl", "Wes", "Abe", "Mia", "Lou"]
    for n, name in enumerate(names):
        agent = make_user(Role.AGENT, teams=[personas.team_a], first_name=name)
        ticket = open_ticket(personas.mailbox_a, make_customer())
        SurveyResponse.objects.create(
            kind="csat",
            score=1 + n % 5,
            ticket=ticket,
            customer=ticket.customer,
            assignee=agent,
            submitted_at=timezone.now() - timedelta(hours=n + 1),
        )
    html = manager.get("/dashboards/service/").content.decode()
    agents = html.split("Per agent")[1].split("Per team")[0]
    shown = re.findall(r'<th scope="row">(\w+)', agents)
    assert shown == sorted(names)


@pytest.mark.parametrize("count", [3, 12])
def test_query_count_does_not_grow_with_data(
    manager: Client, personas: Personas, count: int, django_assert_num_queries
) -> None:
    _history(personas, count)
    # the user (read once, then cached; the session was cached at sign-in), the filter
    # form's team/agent/mailbox choices (3), one statement per figure for both windows,
    # its series and its per-agent and per-team columns (tickets created, first
    # response, resolution, backlog, CES: 5), agent names, team names, the
    # knowledge-base gap report (search totals, unanswered searches, deflection; the
    # page shows no article ranking), SLA compliance (one statement), and the mailboxes
    # whose mail does not come in (the layout's alert for managers); and the branding row
    # (console.branding: read once, then held per process).
    with django_assert_num_queries(17):
        assert manager.get("/dashboards/support/").status_code == 200
    # the form's choices (3), CSAT and NPS (2), latest comments, agent names, team
    # names, the layout's mail alert (session and user from the cache); the service
    # app's sections: the at-risk accounts and the window's topics (2: the dashboard's
    # windows are whole days, summed in TopicDay; phrases are read when some matched).
    with django_assert_num_queries(11):
        assert manager.get("/dashboards/service/").status_code == 200


def test_per_agent_and_team_tables_end_with_what_no_one_was_counted_for(
    manager: Client, personas: Personas
) -> None:
    start = timezone.now() - timedelta(days=2)
    owned = open_ticket(personas.mailbox_a, make_customer(), at=start, team=personas.team_a)
    assign(owned, personas.agent_a, start)
    reply(owned, personas.agent_a, start + timedelta(hours=1))
    set_status(owned, personas.agent_a, "solved", start + timedelta(hours=2))
    # Solved without ever having an assignee or a team.
    loose = open_ticket(personas.mailbox_a, make_customer(), at=start)
    reply(loose, personas.agent_b, start + timedelta(hours=1))
    set_status(loose, personas.agent_b, "solved", start + timedelta(hours=3))
    recompute_all()
    html = manager.get("/dashboards/support/").content.decode()
    agents = html.split("Per agent")[1].split("Per team")[0]
    teams = html.split("Per team")[1]
    assert re.findall(r'<th scope="row">([^<]+)', agents) == ["Ana", "Ben", "No agent (unassigned)"]
    # The last row counts the loose ticket's solve, unlinked (the drill-down cannot name
    # "no agent"); Ana's row links hers.
    nobody = agents.split("No agent (unassigned)</th>")[1].split("</tr>")[0]
    assert "<a " not in nobody and '<td class="num">1</td>' in nobody
    assert re.findall(r'<th scope="row">([^<]+)', teams)[-1] == "No team"
    assert f"agent={personas.agent_a.pk}&amp;figure=resolution" in agents


def test_each_figure_shows_its_change_against_the_previous_window() -> None:
    from metrics.dashboards import Figure
    from metrics.templatetags.metrics_tags import change

    def figure(unit: str, now: float | None, before: float | None) -> Figure:
        return Figure("k", "K", now, before, unit, "", None)

    assert change(figure("seconds", 5400, 3600)) == "▲ 50 %"
    assert change(figure("count", 30, 40)) == "▼ 25 %"
    assert change(figure("rate", 0.62, 0.5)) == "▲ 12.0 pts"
    assert change(figure("score", 80.0, 85.5)) == "▼ 5.5 pts"
    assert change(figure("nps", -10, 20)) == "▼ 30"
    assert change(figure("count", 3, 0)) == "▲ 3"
    assert change(figure("mean", 5.0, 5.0)) == "no change"
    assert change(figure("seconds", None, 3600)) == change(figure("mean", 4.0, 0)) == ""


def test_a_dashboard_in_german_writes_numbers_dates_and_words_the_german_way(
    manager: Client, personas: Personas
) -> None:
    """The agent app follows the reader's language: words, month names, decimal commas
    and thousands points (docs/i18n.md); English keeps its own."""
    _history(personas, 6)
    german = manager.get("/dashboards/support/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Erste Antwortzeit (Median)" in german and "First response" not in german
    assert "n = 6 · Mittelwert 1 Std. 00 Min. · p90 1 Std. 00 Min." in german
    assert "<h2>Pro Agent</h2>" in german and "Wiedereröffnungsquote" in german
    window = "/dashboards/service/?start=2020-01-01&end=2020-03-31"
    german = unescape(manager.get(window, HTTP_ACCEPT_LANGUAGE="de").content.decode())
    assert "1. Januar 2020 \u2013 31. März 2020 (91 Tage, Zeitzone UTC)" in german
    assert "verglichen mit den 91 Tagen davor: 2. Oktober 2019 \u2013 31. Dezember 2019" in german
    english = unescape(manager.get(window, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "Jan. 1, 2020 \u2013 March 31, 2020 (91 days, UTC time)" in english


def test_figures_follow_the_language() -> None:
    from django.utils import translation

    from metrics.templatetags.metrics_tags import figure_value, whole

    with translation.override("de"):
        assert figure_value(1234, "count") == whole(1234) == "1.234"
        assert figure_value(0.625, "rate") == "62,5 %"
        assert figure_value(4.25, "mean") == "4,25"
        assert figure_value(93784.0, "seconds") == "26 Std. 03 Min."
        assert figure_value(200000.0, "seconds") == "2 T. 7 Std."
    with translation.override("fr"):
        assert figure_value(1234567, "count") == "1\xa0234\xa0567"
    with translation.override("en"):
        assert figure_value(1234, "count") == "1,234"
        assert figure_value(0.625, "rate") == "62.5 %"
        assert figure_value(12.0, "nps") == "+12"
        assert figure_value(200000.0, "seconds") == "2 d 7 h"


def test_the_drill_down_and_the_style_guide_in_german(manager: Client, personas: Personas) -> None:
    _history(personas, 3)
    german = {"HTTP_ACCEPT_LANGUAGE": "de"}
    drill = manager.get("/dashboards/tickets/?figure=resolution", **german).content.decode()
    assert "Endgültige Lösungen" in drill and "Zurück zum Dashboard" in drill
    assert "Gezählter Agent" in drill and "1 Std. 00 Min." in drill
    bogus = manager.get("/dashboards/tickets/?figure=nothing", **german)
    assert bogus.status_code == 400 and "Unbekannte Kennzahl." in bogus.content.decode()
    admin = Client()
    admin.force_login(personas.admin)
    guide = admin.get("/style/", **german).content.decode()
    assert "Schaltflächen und Links" in guide and "6 Std. 40 Min." in guide
