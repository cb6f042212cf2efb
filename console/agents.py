"""What admins do to staff accounts: invite, accept an invitation, change a role, teams
or away status, deactivate and reactivate. Accounts are never deleted: tickets, events
and figures name them.

An invitation is a staff user who cannot sign in yet and a link (console.invites).
Withdrawing one deletes that waiting user, who never signed in and so has no history;
the audit log keeps the invitation and its withdrawal.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError

from audit import services as audit
from audit.models import AuditKind
from console import invite_mail, tasks
from console.invites import USED, WITHDRAWN, InviteError, is_invited
from helpdesk.celery import enqueue_on_commit
from helpdesk.signin import identity
from tickets.models import STAFF_ROLES, Team, User


def _access(user: User) -> dict[str, Any]:
    return {
        "role": user.role,
        "is_active": user.is_active,
        "teams": sorted(user.teams.values_list("pk", flat=True)),
    }


@transaction.atomic
def invite_agent(
    email: str,
    *,
    role: str,
    teams: Iterable[Team] = (),
    first_name: str = "",
    actor: Any = None,
    language: str | None = None,
) -> User:
    """A staff account waiting for its owner, and the invitation mailed after commit, in
    `language` (the inviter's choice) or LANGUAGE_CODE."""
    if role not in STAFF_ROLES:
        raise ValueError(f"not a staff role: {role}")
    address = identity(email)
    user = User(username=address, email=address, role=role, first_name=first_name)
    user.is_active = False
    user.set_unusable_password()
    user.save()
    user.teams.set(list(teams))
    audit.record(AuditKind.ROLE, action="invited", actor=actor, target=user, after=_access(user))
    send_invitation(user, language=language)
    return user


def send_invitation(user: User, *, language: str | None = None) -> None:
    """Mail (again) an invitation: from a worker, or from here with the broker down."""
    enqueue_on_commit(
        tasks.send_invitation,
        user.pk,
        language,
        otherwise=lambda: invite_mail.send_or_log(user, language),
    )


@transaction.atomic
def accept_invitation(user: User, *, first_name: str, last_name: str, password: str) -> User:
    """The invited person's name and password: the account can sign in from now on."""
    locked = User.objects.select_for_update().filter(pk=user.pk).first()
    if locked is None:
        raise InviteError(WITHDRAWN)
    if not is_invited(locked):
        raise InviteError(USED)
    locked.first_name, locked.last_name = first_name, last_name
    locked.set_password(password)
    locked.is_active = True
    locked.save()
    audit.record(AuditKind.ROLE, action="accepted", actor=locked, target=locked)
    return locked


@transaction.atomic
def withdraw_invitation(user: User, *, actor: Any = None) -> None:
    """The invitation ends: its links say it was withdrawn, and the address may be invited
    again. InviteError once it was accepted (deactivate the account instead)."""
    locked = User.objects.select_for_update().filter(pk=user.pk).first()
    if locked is None:
        return
    if not is_invited(locked):
        raise InviteError(f"{locked.email} has already joined: deactivate the account instead.")
    audit.record(
        AuditKind.ROLE,
        action="invitation withdrawn",
        actor=actor,
        target=locked,
        before=_access(locked),
    )
    try:
        locked.delete()
    except ProtectedError as exc:  # rows that must outlive it (an API token made for it)
        raise InviteError(
            f"{locked.email} already has records here: deactivate the account instead."
        ) from exc


@transaction.atomic
def change_agent(
    user: User,
    *,
    role: str,
    teams: Iterable[Team],
    is_away: bool,
    actor: Any = None,
) -> None:
    """Role, teams and away status, each change written to the audit log."""
    if role not in STAFF_ROLES:
        raise ValueError(f"not a staff role: {role}")
    before = _access(user)
    user.role = role
    away_changed = user.is_away != is_away
    user.is_away = is_away
    user.save(update_fields=["role", "is_away"])
    user.teams.set(list(teams))
    after = _access(user)
    if before["role"] != after["role"]:
        audit.record_change(
            AuditKind.ROLE, user, {"role": before["role"]}, {"role": after["role"]}, actor=actor
        )
    if before["teams"] != after["teams"]:
        audit.record_change(
            AuditKind.TEAMS,
            user,
            {"teams": before["teams"]},
            {"teams": after["teams"]},
            actor=actor,
        )
    if away_changed:
        audit.record_change(
            AuditKind.SETTINGS, user, {"is_away": not is_away}, {"is_away": is_away}, actor=actor
        )


@transaction.atomic
def set_active(user: User, active: bool, *, actor: Any = None) -> bool:
    """Deactivate (no sign-in, no API, no assignment) or reactivate; False if unchanged.
    The account and everything it did stay."""
    if user.is_active == active or is_invited(user):
        return False
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit.record_change(
        AuditKind.ROLE,
        user,
        {"is_active": not active},
        {"is_active": active},
        actor=actor,
    )
    return True


@transaction.atomic
def save_team(team: Team, members: Iterable[User], *, actor: Any = None) -> Team:
    """Create or update a team with its members (staff only), recorded in the audit log."""
    staff = [user for user in members if user.is_agent]
    before = audit.stored_snapshot(Team, team.pk, many=("members",))
    team.save()
    team.members.set(staff)
    after = audit.stored_snapshot(Team, team.pk, many=("members",))
    audit.record_change(AuditKind.TEAMS, team, before, after, actor=actor)
    return team


@transaction.atomic
def delete_team(team: Team, *, actor: Any = None) -> None:
    """Its tickets keep their history and lose only the team (Ticket.team is SET_NULL)."""
    before = audit.snapshot(team, many=("members",))
    team.delete()
    audit.record_change(AuditKind.TEAMS, team, before, None, actor=actor)
