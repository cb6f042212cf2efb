"""Who works here, as the pages' menus list them: agents, teams, mailboxes.

The inbox and the ticket page list the agents (all, or those who may hold a ticket of
its mailbox), the teams and the mailboxes a viewer sees: a few small tables that every
page read again. They are held per process (helpdesk.local_cache.VersionedCache) and
reloaded after any change to a user, team, mailbox or membership (the receivers below,
connected in tickets.apps), so a menu is never staler than the request after the
change. What a viewer sees is worked out from the held rows for that viewer each time,
by the same rules as `User.objects.assignable` and `selectors.visible_mailboxes`:
nothing one viewer is shown is kept for another.

Forms still validate against the database (the choice a request posts is checked
there); these lists only render menus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import transaction

from helpdesk.local_cache import VersionedCache
from tickets.models import MANAGER_ROLES, Mailbox, Team, User


class Choice(NamedTuple):
    """A menu entry: (value, label) for `{% options %}`, or `.pk` and `.name`."""

    pk: int
    name: str


@dataclass(frozen=True)
class Directory:
    agents: list[Choice]
    # Agents who hold every mailbox: managers, admins and superusers.
    everywhere: frozenset[int]
    teams: list[Choice]
    mailboxes: list[Choice]
    # Each agent's display name by their address today.
    names: dict[str, str] = field(default_factory=dict)
    team_members: dict[int, set[int]] = field(default_factory=dict)
    mailbox_teams: dict[int, set[int]] = field(default_factory=dict)


def _load() -> Directory:
    agents = User.objects.agents().order_by("first_name", "email")
    staff = list(agents.only("role", "is_superuser", *User.NAME_FIELDS))
    members: dict[int, set[int]] = {}
    for team_id, user_id in Team.members.through.objects.values_list("team_id", "user_id"):
        members.setdefault(team_id, set()).add(user_id)
    mailbox_teams: dict[int, set[int]] = {}
    for mailbox_id, team_id in Mailbox.teams.through.objects.values_list("mailbox_id", "team_id"):
        mailbox_teams.setdefault(mailbox_id, set()).add(team_id)
    return Directory(
        agents=[Choice(user.pk, user.display_name) for user in staff],
        everywhere=frozenset(
            user.pk for user in staff if user.role in MANAGER_ROLES or user.is_superuser
        ),
        teams=[Choice(*row) for row in Team.objects.order_by("name").values_list("pk", "name")],
        mailboxes=[
            Choice(*row) for row in Mailbox.objects.order_by("name").values_list("pk", "name")
        ],
        team_members=members,
        mailbox_teams=mailbox_teams,
        names={user.email: user.display_name for user in staff},
    )


# Five minutes at most, should a change's bump be lost (Redis down at that moment).
_directory = VersionedCache("directory", _load, max_age=300)


def changed(*args: Any, **kwargs: Any) -> None:
    """Receiver of the saves, deletes and membership changes of users, teams and
    mailboxes (tickets.apps): every process reloads on its next read."""
    if kwargs.get("update_fields") == frozenset({"last_login"}):
        return  # a sign-in, nothing a menu shows
    # Now, for this transaction's own later reads, and after commit, for a process that
    # reloaded in between and so read the rows of before the change.
    _directory.bump()
    transaction.on_commit(_directory.bump)


def agents() -> list[Choice]:
    """Every active agent, manager and admin, by name (`User.objects.agents`)."""
    return _directory.get().agents


def assignable(mailbox_id: int) -> list[Choice]:
    """Who may hold a ticket of the mailbox, by name (`User.objects.assignable`)."""
    held = _directory.get()
    teams = held.mailbox_teams.get(mailbox_id, set())
    allowed = set(held.everywhere).union(
        *(held.team_members.get(team_id, set()) for team_id in teams)
    )
    return [agent for agent in held.agents if agent.pk in allowed]


def names_by_email(emails: set[str]) -> dict[str, str]:
    """The names of the people addresses name, as `User.objects.by_email` finds them:
    today's agents from the held rows, anyone else (a past address, a former agent)
    from the database."""
    held = _directory.get().names
    found = {email: held[email] for email in emails if email in held}
    rest = emails - found.keys()
    if rest:
        found.update({email: u.display_name for email, u in User.objects.by_email(rest).items()})
    return found


def teams() -> list[Choice]:
    return _directory.get().teams


def working_in(mailbox_id: int) -> list[Choice]:
    """The teams that work the mailbox, by name (`Team.objects.working_in`: the teams a
    ticket of it may have, services.check_team)."""
    held = _directory.get()
    own = held.mailbox_teams.get(mailbox_id, set())
    return [team for team in held.teams if team.pk in own]


def _teams_of(held: Directory, user: User) -> set[int]:
    return {team_id for team_id, members in held.team_members.items() if user.pk in members}


def visible_teams(user: User) -> list[Choice]:
    """The teams `user` may pick (`selectors.visible_teams`), by name."""
    held = _directory.get()
    if user.sees_everything:
        return held.teams
    own = _teams_of(held, user)
    return [team for team in held.teams if team.pk in own]


def visible_mailboxes(user: User) -> list[Choice]:
    """The mailboxes `user` sees (`selectors.visible_mailboxes`), by name."""
    held = _directory.get()
    if user.sees_everything:
        return held.mailboxes
    own = _teams_of(held, user)
    return [box for box in held.mailboxes if held.mailbox_teams.get(box.pk, set()) & own]
