"""Agents in the settings area: invite, accept, role, teams, away, deactivate."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from accounts import two_factor
from audit.models import AuditEntry, AuditKind
from console import agents, invites
from tests.accounts.conftest import PASSWORD, turn_on, with_two_factor
from tests.conftest import Personas
from tickets.models import Role, User

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def can_sign_in(email: str, password: str) -> bool:
    """Through the sign-in page, as a person would."""
    response = Client().post(reverse("login"), {"username": email, "password": password})
    return response.status_code == 302


def invite(client: Client, personas: Personas, capture, email: str = "new.hire@staff.test") -> str:
    """Invite through the page; the link from the mail that went out after commit."""
    with capture(execute=True):
        response = client.post(
            reverse("console:agents"),
            {"email": email, "first_name": "Nia", "role": "agent", "teams": [personas.team_a.pk]},
        )
    assert response.status_code == 302
    link = re.search(r"https?://\S+/invitation/\S+/", mail.outbox[-1].body)
    assert link is not None
    return urlsplit(link.group(0)).path


def test_an_admin_invites_and_the_agent_joins_once(
    personas: Personas, django_capture_on_commit_callbacks, eager_tasks: None
) -> None:
    admin = signed_in(personas.admin)
    path = invite(admin, personas, django_capture_on_commit_callbacks)
    invited = User.objects.get(email="new.hire@staff.test")
    assert not invited.is_active and not invited.has_usable_password()
    assert list(invited.teams.all()) == [personas.team_a]
    assert mail.outbox[-1].to == ["new.hire@staff.test"]
    page = admin.get(reverse("console:agents")).content.decode()
    assert "Invited" in page and "new.hire@staff.test" in page
    # An invited person cannot sign in yet.
    assert not can_sign_in("new.hire@staff.test", "guess-pass-123")

    visitor = Client()
    form = visitor.get(path)
    assert form.status_code == 200 and "new.hire@staff.test" in form.content.decode()
    mismatch = visitor.post(
        path, {"first_name": "Nia", "password1": "a-long-pass-phrase", "password2": "other"}
    )
    assert mismatch.status_code == 422 and "The two passwords differ." in mismatch.content.decode()
    weak = visitor.post(path, {"first_name": "Nia", "password1": "123", "password2": "123"})
    assert weak.status_code == 422 and "too short" in weak.content.decode()
    joined = visitor.post(
        path,
        {
            "first_name": "Nia",
            "last_name": "Okafor",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
    )
    assert joined.status_code == 302 and joined["Location"] == reverse("tickets:inbox")
    invited.refresh_from_db()
    assert invited.is_active and invited.get_full_name() == "Nia Okafor"
    assert visitor.get(reverse("tickets:inbox")).status_code == 200
    assert can_sign_in("new.hire@staff.test", "a-long-pass-phrase")
    # The link worked once.
    again = Client().get(path)
    assert again.status_code == 410 and "already been used" in again.content.decode()
    assert AuditEntry.objects.filter(kind=AuditKind.ROLE, action="invited").count() == 1
    assert AuditEntry.objects.filter(kind=AuditKind.ROLE, action="accepted").count() == 1


def test_an_expired_or_forged_invitation_is_refused(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    invited = User.objects.create(
        username="late@staff.test", email="late@staff.test", is_active=False
    )
    invited.set_unusable_password()
    invited.save()
    token = invites.invite_token(invited)
    assert Client().get(reverse("console:accept", args=[token])).status_code == 200
    forged = Client().get(reverse("console:accept", args=[token[:-2] + "xx"]))
    assert forged.status_code == 410 and "not valid" in forged.content.decode()
    # A link mailed longer ago than its lifetime.
    sent = int(time.time() - (invites.INVITE_LIFETIME + timedelta(minutes=1)).total_seconds())
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(sent))
    old = invites.invite_token(invited)
    monkeypatch.undo()
    expired = Client().get(reverse("console:accept", args=[old]))
    assert expired.status_code == 410 and "expired" in expired.content.decode()


def test_invitation_form_says_what_is_wrong(personas: Personas) -> None:
    admin = signed_in(personas.admin)
    taken = admin.post(reverse("console:agents"), {"email": "AGENT.A@staff.test", "role": "agent"})
    assert taken.status_code == 422
    assert "Someone on the team already has this address." in taken.content.decode()
    customer = admin.post(reverse("console:agents"), {"email": "li@customer.test", "role": "agent"})
    assert "signs in to the customer portal" in customer.content.decode()
    bad = admin.post(reverse("console:agents"), {"email": "nope", "role": "customer"})
    assert bad.status_code == 422
    assert "Enter a valid email address." in bad.content.decode()
    assert "Select a valid choice." in bad.content.decode()
    assert not User.objects.filter(email="nope").exists()


def test_role_teams_and_away_are_changed_and_recorded(personas: Personas) -> None:
    admin = signed_in(personas.admin)
    url = reverse("console:agent-edit", args=[personas.agent_a.pk])
    assert admin.get(url).status_code == 200
    response = admin.post(url, {"role": "manager", "teams": [personas.team_b.pk], "is_away": "on"})
    assert response.status_code == 302
    personas.agent_a.refresh_from_db()
    assert personas.agent_a.role == Role.MANAGER and personas.agent_a.is_away
    assert list(personas.agent_a.teams.all()) == [personas.team_b]
    role = AuditEntry.objects.get(kind=AuditKind.ROLE, target_id=str(personas.agent_a.pk))
    assert role.before == {"role": "agent"} and role.after == {"role": "manager"}
    assert AuditEntry.objects.filter(kind=AuditKind.TEAMS).count() == 1
    # An admin cannot demote themself (no desk without an admin by accident).
    own = admin.post(
        reverse("console:agent-edit", args=[personas.admin.pk]), {"role": "agent", "teams": []}
    )
    assert own.status_code == 422 and "cannot take the admin role" in own.content.decode()
    # Customers are not staff: no edit page for them.
    customer_user = personas.customer.user
    assert admin.get(reverse("console:agent-edit", args=[customer_user.pk])).status_code == 404


def test_deactivate_keeps_the_account_and_reactivate_restores_it(personas: Personas) -> None:
    admin = signed_in(personas.admin)
    agent = signed_in(personas.agent_b)
    url = reverse("console:agent-active", args=[personas.agent_b.pk])
    assert admin.post(url, {"active": "0"}).status_code == 302
    personas.agent_b.refresh_from_db()
    assert not personas.agent_b.is_active
    assert User.objects.filter(pk=personas.agent_b.pk).exists()
    # Their session ends with the deactivation.
    assert agent.get(reverse("tickets:inbox")).status_code == 302
    assert "Deactivated" in admin.get(reverse("console:agents")).content.decode()
    assert admin.post(url, {"active": "1"}).status_code == 302
    personas.agent_b.refresh_from_db()
    assert personas.agent_b.is_active
    entries = AuditEntry.objects.filter(kind=AuditKind.ROLE, target_id=str(personas.agent_b.pk))
    assert [e.after for e in entries.order_by("at")] == [{"is_active": False}, {"is_active": True}]
    # Nobody deactivates themself.
    admin.post(reverse("console:agent-active", args=[personas.admin.pk]), {"active": "0"})
    personas.admin.refresh_from_db()
    assert personas.admin.is_active


@pytest.mark.parametrize("who", ["agent_a", "manager"])
def test_only_admins_manage_agents(personas: Personas, who: str) -> None:
    client = signed_in(getattr(personas, who))
    assert client.get(reverse("console:agents")).status_code == 403
    response = client.post(reverse("console:agents"), {"email": "x@staff.test", "role": "admin"})
    assert response.status_code == 403
    assert not User.objects.filter(email="x@staff.test").exists()
    url = reverse("console:agent-active", args=[personas.agent_b.pk])
    assert client.post(url, {"active": "0"}).status_code == 403
    assert client.get(reverse("console:agents") + "x").status_code == 404
    assert Client().get(reverse("console:agents")).status_code == 302


def test_a_withdrawn_invitation_says_so_and_is_recorded(
    personas: Personas, django_capture_on_commit_callbacks, eager_tasks: None
) -> None:
    admin = signed_in(personas.admin)
    path = invite(admin, personas, django_capture_on_commit_callbacks)
    invited = User.objects.get(email="new.hire@staff.test")
    listing = admin.get(reverse("console:agents")).content.decode()
    withdraw = reverse("console:agent-withdraw", args=[invited.pk])
    # The button asks first (workflow.js: data-confirm).
    assert f'action="{withdraw}" data-confirm="Withdraw the invitation to new.hire' in listing
    response = admin.post(withdraw, follow=True)
    assert "Invitation to new.hire@staff.test withdrawn" in response.content.decode()
    assert not User.objects.filter(email="new.hire@staff.test").exists()

    answer = Client().get(path)
    assert answer.status_code == 410
    assert "This invitation was withdrawn by an admin." in answer.content.decode()
    entry = AuditEntry.objects.get(kind=AuditKind.ROLE, action="invitation withdrawn")
    assert entry.actor == personas.admin and entry.target_label == "new.hire@staff.test"
    assert entry.before == {"role": "agent", "is_active": False, "teams": [personas.team_a.pk]}
    # The address may be invited again; the old link stays withdrawn, the new one works.
    fresh = invite(admin, personas, django_capture_on_commit_callbacks)
    assert Client().get(fresh).status_code == 200
    assert "withdrawn" in Client().get(path).content.decode()


def test_an_accepted_invitation_cannot_be_withdrawn(personas: Personas) -> None:
    admin = signed_in(personas.admin)
    url = reverse("console:agent-withdraw", args=[personas.agent_a.pk])
    response = admin.post(url, follow=True)
    assert "has already joined: deactivate the account instead" in response.content.decode()
    assert User.objects.filter(pk=personas.agent_a.pk, is_active=True).exists()
    assert not AuditEntry.objects.filter(action="invitation withdrawn").exists()
    url = reverse("console:agent-withdraw", args=[personas.agent_b.pk])
    assert signed_in(personas.manager).post(url).status_code == 403
    assert User.objects.filter(pk=personas.agent_b.pk).exists()


def test_an_invitation_withdrawn_while_its_form_is_open(personas: Personas) -> None:
    invited = agents.invite_agent("late@staff.test", role="agent", actor=personas.admin)
    opened = User.objects.get(pk=invited.pk)  # the page was valid when it was opened
    agents.withdraw_invitation(invited, actor=personas.admin)
    with pytest.raises(invites.InviteError, match="withdrawn"):
        agents.accept_invitation(opened, first_name="N", last_name="O", password="x" * 12)


def test_an_admin_resets_someones_two_factor_after_confirming(personas: Personas) -> None:
    agent = personas.agent_a
    with_two_factor(Client(), agent)
    assert two_factor.is_enabled(agent)
    admin = signed_in(personas.admin)
    edit = admin.get(reverse("console:agent-edit", args=[agent.pk])).content.decode()
    reset = reverse("console:agent-two-factor-reset", args=[agent.pk])
    assert "Two-factor sign-in" in edit and f'href="{reset}"' in edit
    # The link asks first; nothing changes until the admin confirms.
    question = admin.get(reset)
    assert question.status_code == 200
    assert "Reset two-factor sign-in of Ana" in question.content.decode()
    assert two_factor.is_enabled(agent)
    done = admin.post(reset, follow=True)
    assert "is reset" in done.content.decode()
    assert not two_factor.is_enabled(agent) and two_factor.recovery_codes_left(agent) == 0
    entry = AuditEntry.objects.get(kind=AuditKind.TWO_FACTOR, action="reset by an admin")
    assert entry.actor == personas.admin and entry.target_id == str(agent.pk)
    # The password alone signs them in again.
    client = Client()
    assert client.post(reverse("login"), {"username": agent.username, "password": PASSWORD})[
        "Location"
    ] == reverse("tickets:inbox")


def test_two_factor_reset_is_for_admins_and_not_for_oneself(personas: Personas) -> None:
    agent = personas.agent_a
    with_two_factor(Client(), agent)
    reset = reverse("console:agent-two-factor-reset", args=[agent.pk])
    for who in (personas.manager, personas.agent_b):
        assert signed_in(who).post(reset).status_code == 403
    assert two_factor.is_enabled(agent)
    admin = signed_in(personas.admin)
    turn_on(admin)  # the session stays verified
    own = reverse("console:agent-two-factor-reset", args=[personas.admin.pk])
    assert admin.post(own)["Location"] == reverse("accounts:two-factor")
    assert two_factor.is_enabled(personas.admin)
    assert not AuditEntry.objects.filter(action="reset by an admin").exists()
