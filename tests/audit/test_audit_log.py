"""The audit log: a row for each kind of action, written through the real doors (the
sign-in form, DRF's token command and admin, the admin's user, team, calendar and mailbox
forms, the rule and SLA pages), in the change's transaction, append-only, browsed and
exported by admins only, kept a year."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from audit import services
from audit.models import AppendOnly, AuditEntry, AuditKind
from tests.conftest import Personas
from tickets.models import BusinessCalendar, Role
from tickets.workflow.models import AutomationRule, SlaPolicy

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def only(kind: AuditKind) -> AuditEntry:
    rows = list(AuditEntry.objects.filter(kind=kind))
    assert len(rows) == 1, rows
    return rows[0]


# --- a row for each kind, through its door -----------------------------------------------


def test_sign_in_and_failure_through_the_form(personas: Personas, client: Client) -> None:
    bad = client.post("/login/", {"username": personas.agent_a.username, "password": "nope"})
    assert bad.status_code == 200
    failed = only(AuditKind.SIGN_IN_FAILED)
    assert failed.data == {"username": personas.agent_a.username}
    assert failed.actor is None and failed.ip == "127.0.0.1"

    ok = client.post(
        "/login/", {"username": personas.agent_a.username, "password": "pass-word-123"}
    )
    assert ok.status_code == 302
    signed = only(AuditKind.SIGN_IN)
    assert signed.actor == personas.agent_a and signed.actor_label == personas.agent_a.username
    assert signed.target_id == str(personas.agent_a.pk)


def test_token_created_by_the_command_and_revoked_in_the_admin(personas: Personas) -> None:
    call_command("drf_create_token", personas.agent_a.username, stdout=io.StringIO())
    token = Token.objects.get(user=personas.agent_a)
    created = only(AuditKind.TOKEN_CREATED)
    assert created.target_id == str(personas.agent_a.pk) and created.actor_label == "system"
    assert token.key not in str(created.data)

    admin = signed_in(personas.admin)
    url = f"/admin/authtoken/tokenproxy/{personas.agent_a.pk}/delete/"
    assert admin.post(url, {"post": "yes"}).status_code == 302
    assert not Token.objects.filter(user=personas.agent_a).exists()
    revoked = only(AuditKind.TOKEN_REVOKED)
    assert revoked.actor == personas.admin and revoked.target_label == (
        f"token of {personas.agent_a.username}"
    )


def test_token_created_in_the_admin_names_the_admin(personas: Personas) -> None:
    admin = signed_in(personas.admin)
    response = admin.post("/admin/authtoken/tokenproxy/add/", {"user": personas.agent_b.pk})
    assert response.status_code == 302
    assert Token.objects.filter(user=personas.agent_b).exists()
    assert only(AuditKind.TOKEN_CREATED).actor == personas.admin


def _user_form(user: Any, **changes: Any) -> dict[str, Any]:
    form = {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on",
        "role": user.role,
        "notify_on_assignment": "on",
        "notify_on_customer_reply": "on",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "past_emails-TOTAL_FORMS": "0",
        "past_emails-INITIAL_FORMS": "0",
        "past_emails-MIN_NUM_FORMS": "0",
        "past_emails-MAX_NUM_FORMS": "1000",
    }
    form.update(changes)
    return form


def test_role_change_in_the_admin(personas: Personas) -> None:
    agent = personas.agent_a
    # The admin's form edits the time to the second.
    agent.date_joined = agent.date_joined.replace(microsecond=0)
    agent.save(update_fields=["date_joined"])
    admin = signed_in(personas.admin)
    url = f"/admin/tickets/user/{agent.pk}/change/"
    response = admin.post(url, _user_form(agent, role=Role.MANAGER))
    assert response.status_code == 302, response.content.decode()[:3000]
    agent.refresh_from_db()
    assert agent.role == Role.MANAGER
    row = only(AuditKind.ROLE)
    assert (row.before, row.after) == ({"role": "agent"}, {"role": "manager"})
    assert row.actor == personas.admin and row.action == "updated"
    assert row.target_type == "tickets.user" and row.target_id == str(agent.pk)


def test_team_members_change_in_the_admin(personas: Personas) -> None:
    team = personas.team_a
    admin = signed_in(personas.admin)
    url = f"/admin/tickets/team/{team.pk}/change/"
    members = [personas.agent_a.pk, personas.agent_b.pk]
    assert admin.post(url, {"name": team.name, "tier": 1, "members": members}).status_code == 302
    row = only(AuditKind.TEAMS)
    assert row.before == {"members": [personas.agent_a.pk]}
    assert row.after == {"members": sorted(members)}
    assert row.actor == personas.admin and row.target_label == "Team A"


def test_calendar_and_mailbox_settings_with_before_and_after(personas: Personas) -> None:
    admin = signed_in(personas.admin)
    response = admin.post(
        "/admin/tickets/businesscalendar/add/",
        {
            "name": "Berlin",
            "timezone": "Europe/Berlin",
            "hours": '{"mon": [["09:00", "17:00"]]}',
            "holidays": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    calendar = BusinessCalendar.objects.get(name="Berlin")
    created = only(AuditKind.SETTINGS)
    assert created.action == "created" and created.before is None
    assert created.after["timezone"] == "Europe/Berlin" and created.actor == personas.admin
    assert created.target_id == str(calendar.pk)

    box = personas.mailbox_a
    url = f"/admin/tickets/mailbox/{box.pk}/change/"
    form = {
        "name": box.name,
        "address": box.address,
        "is_active": "on",
        "is_default": "on",
        "signature": "Cheers, the team",
        "imap_port": 993,
        "imap_security": "ssl",
        "imap_folder": "INBOX",
        "poll_interval_seconds": 60,
        "smtp_port": 587,
        "smtp_security": "starttls",
        "smtp_password": "s3cret-smtp",
        "teams": [personas.team_a.pk, personas.team_b.pk],
    }
    assert admin.post(url, form).status_code == 302
    rows = AuditEntry.objects.filter(kind=AuditKind.SETTINGS, target_type="tickets.mailbox")
    fields = next(row for row in rows if "signature" in (row.after or {}))
    assert fields.before["signature"] == "" and fields.after["signature"] == "Cheers, the team"
    # A secret shows as changed, never as itself.
    assert fields.before["smtp_password"] == ""
    assert fields.after["smtp_password"].startswith("(hidden ")
    assert "s3cret" not in str(list(AuditEntry.objects.values_list("before", "after")))
    teams = next(row for row in rows if "teams" in (row.after or {}))
    assert teams.before == {"teams": [personas.team_a.pk]}
    assert teams.after == {"teams": sorted([personas.team_a.pk, personas.team_b.pk])}


def test_rule_and_sla_edits_through_their_pages(personas: Personas) -> None:
    admin = signed_in(personas.admin)
    rule = AutomationRule.objects.filter(builtin=True).first() or AutomationRule.objects.create(
        name="Tag refunds", trigger="created", conditions=[], actions=[]
    )
    was_active = rule.is_active
    assert admin.post(reverse("tickets:rule-toggle", args=[rule.pk])).status_code == 302
    toggled = only(AuditKind.RULE)
    assert (
        toggled.before["is_active"] is was_active and toggled.after["is_active"] is not was_active
    )
    assert toggled.actor == personas.admin
    assert admin.post(reverse("tickets:rule-delete", args=[rule.pk])).status_code == 302
    deleted = AuditEntry.objects.get(kind=AuditKind.RULE, action="deleted")
    assert deleted.before["name"] == rule.name and deleted.after is None

    form = {
        "name": "High",
        "priority": "high",
        "first_response_hours": "2",
        "resolution_hours": "24",
        "warn_before_minutes": "30",
        "is_active": "on",
    }
    assert admin.post(reverse("tickets:sla-new"), form).status_code == 302
    policy = SlaPolicy.objects.get(name="High")
    url = reverse("tickets:sla-edit", args=[policy.pk])
    assert admin.post(url, {**form, "first_response_hours": "4"}).status_code == 302
    created, changed = AuditEntry.objects.filter(kind=AuditKind.SLA).order_by("id")
    assert created.action == "created" and created.after["first_response_hours"] == "2.00"
    assert changed.before == {"first_response_hours": "2.00"}
    assert changed.after == {"first_response_hours": "4.00"}


def test_two_factor_kind_is_ready_for_its_pages(personas: Personas) -> None:
    row = services.record(
        AuditKind.TWO_FACTOR, action="enabled", actor=personas.agent_a, target=personas.agent_a
    )
    assert row.get_kind_display() == "Two-factor" and row.actor_label == personas.agent_a.username


# --- same transaction, append-only, retention ------------------------------------------


def test_the_row_rolls_back_with_the_change(personas: Personas) -> None:
    from tickets import calendars

    with pytest.raises(RuntimeError), transaction.atomic():
        calendars.save_calendar(BusinessCalendar(name="Gone", timezone="UTC"))
        assert AuditEntry.objects.filter(kind=AuditKind.SETTINGS).exists()
        raise RuntimeError
    assert not AuditEntry.objects.exists()


def test_rows_cannot_be_changed_or_deleted(personas: Personas) -> None:
    row = services.record(AuditKind.SETTINGS, action="updated", actor=personas.admin)
    row.action = "forged"
    with pytest.raises(AppendOnly):
        row.save()
    with pytest.raises(AppendOnly):
        row.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=row.pk).update(action="forged")
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=row.pk).delete()
    # Nor in SQL: the database refuses too.
    for statement in (
        "UPDATE audit_auditentry SET action = 'forged'",
        "DELETE FROM audit_auditentry",
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    row.refresh_from_db()
    assert row.action == "updated"


def test_deleting_a_user_keeps_their_rows(personas: Personas) -> None:
    services.record(AuditKind.SETTINGS, action="updated", actor=personas.agent_b)
    personas.agent_b.delete()
    row = AuditEntry.objects.get()
    assert row.actor is None and row.actor_label == "agent.b@staff.test"


def _old(days: int) -> AuditEntry:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditentry (at, kind, action, actor_label, target_type,"
            " target_id, target_label, data) VALUES (%s, 'settings', 'updated', 'x', '', '',"
            " '', '{}') RETURNING id",
            [timezone.now() - timedelta(days=days)],
        )
        return AuditEntry.objects.get(pk=cursor.fetchone()[0])


def test_the_purge_keeps_a_year_and_refuses_less(personas: Personas, settings: Any) -> None:
    settings.AUDIT_RETENTION_DAYS = 400
    kept = [_old(1), _old(364), _old(399)]
    gone = _old(401)
    call_command("shell", "-c", "from audit.tasks import purge_expired; purge_expired()")
    assert set(AuditEntry.objects.values_list("pk", flat=True)) == {row.pk for row in kept}
    assert not AuditEntry.objects.filter(pk=gone.pk).exists()
    settings.AUDIT_RETENTION_DAYS = 30
    with pytest.raises(ValueError, match="at least 365 days"):
        services.purge_expired()
    assert AuditEntry.objects.count() == 3


def test_the_beat_schedule_runs_the_purge() -> None:
    from helpdesk.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"audit.purge_expired", "privacy.apply_retention"} <= tasks


# --- browsing and export ---------------------------------------------------------------


@pytest.fixture
def admin(personas: Personas) -> Client:
    return signed_in(personas.admin)


@pytest.fixture
def log(personas: Personas, admin: Client) -> list[AuditEntry]:
    """The admin's sign-in, then nine rows."""
    rows = [only(AuditKind.SIGN_IN)]
    for n in range(7):
        rows.append(services.record(AuditKind.SETTINGS, action=f"n{n}", actor=personas.admin))
    rows.append(services.record(AuditKind.RULE, action="created", actor=personas.manager))
    rows.append(
        services.record(
            AuditKind.SIGN_IN_FAILED,
            action="failed",
            actor_label="anonymous",
            target_label="=HYPERLINK(evil)",
        )
    )
    return rows


def test_admins_browse_filter_and_page(
    personas: Personas, admin: Client, log: list, monkeypatch: Any
) -> None:
    monkeypatch.setattr("audit.selectors.PAGE_SIZE", 3)
    page = admin.get(reverse("audit:log"))
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count("<tr>") == 1 + 3 and "Older entries" in text
    assert page.context["entries"] == [log[9], log[8], log[7]]
    second = admin.get(reverse("audit:log") + "?" + page.context["next_query"])
    assert second.context["entries"] == [log[6], log[5], log[4]]
    pages, query = 1, page.context["next_query"]
    while query:
        query = admin.get(reverse("audit:log") + "?" + query).context["next_query"]
        pages += 1
    assert pages == 4  # ten rows, three a page

    by_actor = admin.get(reverse("audit:log"), {"actor": personas.manager.email})
    assert by_actor.context["entries"] == [log[8]]
    by_kind = admin.get(reverse("audit:log"), {"kind": "sign_in_failed"})
    assert by_kind.context["entries"] == [log[9]]
    today = timezone.localdate()
    in_range = admin.get(reverse("audit:log"), {"start": today, "end": today, "kind": "rule"})
    assert in_range.context["entries"] == [log[8]]
    before = admin.get(reverse("audit:log"), {"end": today - timedelta(days=1)})
    assert before.context["entries"] == []
    bad = admin.get(reverse("audit:log"), {"start": "not a date", "kind": "nope"})
    assert bad.status_code == 200 and "Enter a valid date" in bad.content.decode()
    backwards = admin.get(reverse("audit:log"), {"start": today, "end": today - timedelta(days=2)})
    assert "The end date is before the start date." in backwards.content.decode()
    assert admin.get(reverse("audit:log"), {"after": "junk_x"}).status_code == 200


def test_the_page_costs_the_same_whatever_the_rows(
    admin: Client, log: list, django_assert_num_queries: Any
) -> None:
    admin.get(reverse("audit:log"))
    # One page of entries with their actors; the failing-mailbox banner every page shows
    # to admins (the session and the user come from the cache: helpdesk/sessions.py,
    # helpdesk/users.py).
    with django_assert_num_queries(2):
        admin.get(reverse("audit:log"))


def test_csv_export_is_streamed_and_filtered(admin: Client, log: list) -> None:
    response = admin.get(reverse("audit:export"), {"kind": "sign_in_failed"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["at", "kind", "action", "actor"]
    assert len(rows) == 2 and rows[1][1] == "sign_in_failed"
    # A formula typed as a user name is inert in a spreadsheet.
    assert rows[1][5] == "'=HYPERLINK(evil)"
    everything = admin.get(reverse("audit:export"))
    assert b"".join(everything.streaming_content).decode().count("\n") == 1 + len(log)


@pytest.mark.parametrize("who", ["agent_a", "manager"])
def test_only_admins_see_the_log(personas: Personas, log: list, who: str) -> None:
    client = signed_in(getattr(personas, who))
    assert client.get(reverse("audit:log")).status_code == 403
    assert client.get(reverse("audit:export")).status_code == 403
    assert "Audit log" not in client.get(reverse("tickets:inbox")).content.decode()


def test_customers_and_strangers_do_not_get_the_log(personas: Personas, client: Client) -> None:
    anonymous = client.get(reverse("audit:log"))
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    # Customers are sent to their portal, as from every agent page.
    customer = signed_in(personas.customer.user)
    assert customer.get(reverse("audit:log"))["Location"] == "/portal/"
    assert customer.get(reverse("audit:export"))["Location"] == "/portal/"
