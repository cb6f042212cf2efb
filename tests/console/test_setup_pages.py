"""Teams, mailboxes, business calendars and the settings home, through the pages."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.urls import reverse

from audit.models import AuditEntry, AuditKind
from console.calendar_forms import next_open_hours
from tests.conftest import Personas
from tests.console.conftest import signed_in
from tests.factories import make_mailbox
from tickets.models import BusinessCalendar, Mailbox, Team

pytestmark = pytest.mark.django_db


def test_settings_home_shows_each_role_what_it_may_use(personas: Personas) -> None:
    admin = signed_in(personas.admin).get(reverse("console:home")).content.decode()
    for url in (
        "console:agents",
        "console:mailboxes",
        "console:calendars",
        "tickets:sla",
        "audit:log",
    ):
        assert f'href="{reverse(url)}"' in admin
    manager = signed_in(personas.manager).get(reverse("console:home")).content.decode()
    assert f'href="{reverse("tickets:sla")}"' in manager
    assert f'href="{reverse("tickets:rules")}"' in manager
    assert f'href="{reverse("console:agents")}"' not in manager
    agent = signed_in(personas.agent_a).get(reverse("console:home")).content.decode()
    assert f'href="{reverse("console:tokens")}"' in agent
    assert f'href="{reverse("tickets:sla")}"' not in agent
    # Linked from the navigation of every workspace page.
    inbox = signed_in(personas.agent_a).get(reverse("tickets:inbox")).content.decode()
    assert f'href="{reverse("console:home")}"' in inbox


def test_customers_never_reach_the_settings(personas: Personas) -> None:
    customer = signed_in(personas.customer.user)
    assert customer.get(reverse("console:home")).status_code == 302
    assert customer.post(reverse("console:teams") + "new/", {"name": "X"}).status_code == 404
    assert not Team.objects.filter(name="X").exists()


def test_django_admin_is_for_superusers_only(personas: Personas) -> None:
    assert signed_in(personas.admin).get("/admin/").status_code == 200
    personas.admin.is_superuser = False
    personas.admin.save(update_fields=["is_superuser"])
    # An admin by role, even with is_staff, is sent to the admin's sign-in page.
    response = signed_in(personas.admin).get("/admin/tickets/mailbox/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_teams_take_staff_members_only_and_are_recorded(personas: Personas) -> None:
    admin = signed_in(personas.admin)
    form = admin.get(reverse("console:team-new")).content.decode()
    assert "Li Wei" not in form and "li@customer.test" not in form
    customer_user = personas.customer.user
    refused = admin.post(
        reverse("console:team-new"),
        {"name": "Billing", "members": [personas.agent_a.pk, customer_user.pk]},
    )
    assert refused.status_code == 422
    assert "Select a valid choice." in refused.content.decode()
    created = admin.post(
        reverse("console:team-new"), {"name": "Billing", "members": [personas.agent_a.pk]}
    )
    assert created.status_code == 302
    team = Team.objects.get(name="Billing")
    assert list(team.members.all()) == [personas.agent_a]
    duplicate = admin.post(reverse("console:team-new"), {"name": "Billing"})
    assert "A team with this name already exists." in duplicate.content.decode()
    entry = AuditEntry.objects.get(kind=AuditKind.TEAMS, action="created")
    assert entry.after["members"] == [personas.agent_a.pk]
    assert admin.post(reverse("console:team-delete", args=[team.pk])).status_code == 302
    assert not Team.objects.filter(pk=team.pk).exists()
    assert AuditEntry.objects.filter(kind=AuditKind.TEAMS, action="deleted").count() == 1
    assert signed_in(personas.manager).get(reverse("console:teams")).status_code == 403


def mailbox_data(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Sales",
        "address": "sales@tandem.test",
        "is_active": "on",
        "imap_port": "993",
        "imap_security": "ssl",
        "imap_folder": "INBOX",
        "poll_interval_seconds": "60",
        "smtp_port": "587",
        "smtp_security": "starttls",
    }
    data.update(changes)
    return data


def test_mailbox_passwords_are_never_shown_and_blank_keeps_them(personas: Personas) -> None:
    admin = signed_in(personas.admin)
    created = admin.post(
        reverse("console:mailbox-new"),
        mailbox_data(imap_host="imap.tandem.test", imap_user="sales", imap_password="s3cret-imap"),
    )
    assert created.status_code == 302
    mailbox = Mailbox.objects.get(address="sales@tandem.test")
    assert mailbox.imap_password == "s3cret-imap"
    page = admin.get(reverse("console:mailbox-edit", args=[mailbox.pk])).content.decode()
    assert "s3cret-imap" not in page
    assert "Not polled yet." in page
    kept = admin.post(
        reverse("console:mailbox-edit", args=[mailbox.pk]),
        mailbox_data(imap_host="imap.tandem.test", imap_user="sales", signature="— Sales"),
    )
    assert kept.status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.imap_password == "s3cret-imap" and mailbox.signature == "— Sales"
    # Saved through tickets.calendars.save_mailbox: in the audit log, the secret hidden.
    entries = AuditEntry.objects.filter(kind=AuditKind.SETTINGS, target_id=str(mailbox.pk))
    assert entries.count() == 2
    assert "s3cret-imap" not in str(list(entries.values_list("before", "after")))


def test_a_mailboxs_teams_are_recorded_with_before_and_after(personas: Personas) -> None:
    admin = signed_in(personas.admin)
    team_a, team_b = personas.team_a.pk, personas.team_b.pk
    created = admin.post(reverse("console:mailbox-new"), mailbox_data(teams=[team_a]))
    assert created.status_code == 302
    mailbox = Mailbox.objects.get(address="sales@tandem.test")
    entries = AuditEntry.objects.filter(kind=AuditKind.SETTINGS, target_id=str(mailbox.pk))
    assert entries.get().after["teams"] == [team_a]
    edit = reverse("console:mailbox-edit", args=[mailbox.pk])
    assert admin.post(edit, mailbox_data(teams=[team_a, team_b])).status_code == 302
    assert list(mailbox.teams.order_by("pk").values_list("pk", flat=True)) == sorted(
        [team_a, team_b]
    )
    change = entries.get(action="updated")
    assert change.before == {"teams": [team_a]}
    assert change.after == {"teams": sorted([team_a, team_b])}
    assert change.actor == personas.admin
    # Only the teams changed: the row names nothing else. No teams at all is a change too.
    assert admin.post(edit, mailbox_data()).status_code == 302
    latest = entries.filter(action="updated").latest("pk")
    assert latest.before == {"teams": sorted([team_a, team_b])} and latest.after == {"teams": []}
    # Saving it unchanged writes nothing.
    assert admin.post(edit, mailbox_data()).status_code == 302
    assert entries.count() == 3


def test_mailbox_form_says_what_is_wrong(personas: Personas) -> None:
    admin = signed_in(personas.admin)
    bad = admin.post(
        reverse("console:mailbox-new"),
        mailbox_data(
            address="a@tandem.test",
            imap_host="imap.tandem.test",
            imap_port="not a port",
            auto_ack_template="{% if %}",
            is_default="on",
        ),
    )
    assert bad.status_code == 422
    page = bad.content.decode()
    assert "Another mailbox already has this address." in page
    assert "Enter a whole number." in page
    assert "Enter the IMAP user name" in page
    assert "This template has an error" in page
    assert "is the default mailbox" in page
    assert Mailbox.objects.count() == 2


def test_connection_test_reports_each_side(personas: Personas) -> None:
    mailbox = make_mailbox(
        address="down@tandem.test",
        imap_host="127.0.0.1",
        imap_port=1,
        imap_user="x",
        imap_security="none",
        smtp_host="127.0.0.1",
        smtp_port=1,
        smtp_security="none",
    )
    admin = signed_in(personas.admin)
    url = reverse("console:mailbox-test", args=[mailbox.pk])
    fragment = admin.post(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    text = fragment.content.decode()
    assert "IMAP: could not connect to 127.0.0.1:1" in text
    assert "SMTP: could not connect to 127.0.0.1:1" in text
    assert admin.get(url).status_code == 405
    followed = admin.post(url, follow=True)
    assert "IMAP: could not connect to 127.0.0.1:1" in followed.content.decode()
    assert signed_in(personas.manager).post(url).status_code == 403


def calendar_data(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Paris office",
        "timezone": "Europe/Paris",
        "h-TOTAL_FORMS": "4",
        "h-INITIAL_FORMS": "0",
        "h-0-day": "mon",
        "h-0-start": "09:00",
        "h-0-end": "12:00",
        "h-1-day": "mon",
        "h-1-start": "13:00",
        "h-1-end": "17:30",
        "h-2-day": "tue",
        "h-2-start": "09:00",
        "h-2-end": "17:00",
        "d-TOTAL_FORMS": "2",
        "d-INITIAL_FORMS": "0",
        "d-0-day": "2030-01-01",
    }
    data.update(changes)
    return data


def test_calendar_editor_saves_split_days_and_holidays(personas: Personas) -> None:
    admin = signed_in(personas.admin)
    response = admin.post(reverse("console:calendar-new"), calendar_data())
    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get(name="Paris office")
    assert calendar.hours == {
        "mon": [["09:00", "12:00"], ["13:00", "17:30"]],
        "tue": [["09:00", "17:00"]],
    }
    assert calendar.holidays == [date(2030, 1, 1)]
    page = admin.get(response["Location"]).content.decode()
    assert 'type="date"' in page and 'value="2030-01-01"' in page
    assert "Next open hours" in page
    # In the calendar's own time zone, as typed.
    assert ", 09:00</time> \u2013 <time" in page and ", 13:00</time>" in page
    listing = admin.get(reverse("console:calendars")).content.decode()
    assert " 09:00\u201312:00" in listing
    # Written to the audit log by tickets.calendars.save_calendar.
    assert AuditEntry.objects.filter(kind=AuditKind.SETTINGS, target_id=str(calendar.pk)).exists()
    # Clearing a row removes it; the rest stays.
    edited = admin.post(
        response["Location"],
        calendar_data(**{"h-1-day": "", "h-1-start": "", "h-1-end": "", "d-0-day": ""}),
    )
    assert edited.status_code == 302
    calendar.refresh_from_db()
    assert calendar.hours["mon"] == [["09:00", "12:00"]] and calendar.holidays == []


def test_a_new_calendar_starts_from_the_usual_week(personas: Personas) -> None:
    page = signed_in(personas.admin).get(reverse("console:calendar-new")).content.decode()
    # Monday to Friday, 09:00 to 17:00, and three blank rows for more.
    assert page.count('value="09:00"') == 5 and page.count('value="17:00"') == 5
    assert 'name="h-TOTAL_FORMS" value="8"' in page
    for day in ("mon", "tue", "wed", "thu", "fri"):
        assert f'<option value="{day}" selected>' in page
    assert '<option value="sat" selected>' not in page


def test_calendar_editor_says_what_is_wrong(personas: Personas) -> None:
    admin = signed_in(personas.admin)
    bad = admin.post(
        reverse("console:calendar-new"),
        calendar_data(
            timezone="Mars/Olympus",
            **{"h-0-end": "08:00", "h-2-start": "", "d-1-day": "31/31/2030"},
        ),
    )
    assert bad.status_code == 422
    page = bad.content.decode()
    assert "Unknown time zone" in page
    assert "The interval ends before it starts." in page
    assert "Fill in the day, start and end, or clear the row." in page
    assert "Enter a valid date." in page
    assert not BusinessCalendar.objects.exists()


def test_preview_lists_the_next_open_hours_skipping_holidays() -> None:
    calendar = BusinessCalendar(
        name="x",
        timezone="Europe/Paris",
        hours={"mon": [["09:00", "17:00"]]},
        holidays=[date(2030, 1, 7)],
    )
    # Friday 2030-01-04, noon in Paris: next Monday is a holiday, so the 14th.
    now = datetime.fromisoformat("2030-01-04T11:00:00+00:00")
    (start, end), *_ = next_open_hours(calendar, now)
    assert start.isoformat() == "2030-01-14T09:00:00+01:00"
    assert end.isoformat() == "2030-01-14T17:00:00+01:00"


def test_managers_set_up_sla_policies_and_rules_agents_do_not(personas: Personas) -> None:
    from tickets.workflow.models import SlaPolicy

    manager = signed_in(personas.manager)
    assert manager.get(reverse("tickets:rules")).status_code == 200
    assert manager.get(reverse("tickets:sla")).status_code == 200
    response = manager.post(
        reverse("tickets:sla-new"),
        {
            "name": "Urgent",
            "priority": "urgent",
            "first_response_hours": "1",
            "warn_before_minutes": "15",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert SlaPolicy.objects.filter(name="Urgent").exists()
    assert AuditEntry.objects.filter(kind=AuditKind.SLA, actor=personas.manager).exists()
    agent = signed_in(personas.agent_a)
    assert agent.get(reverse("tickets:sla")).status_code == 403
    assert agent.post(reverse("tickets:sla-new"), {"name": "x"}).status_code == 403
