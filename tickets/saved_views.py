"""Saved inbox views: personal, or shared by a manager or an admin with everyone or a team.

A view is the inbox's query string (filters, sort), its columns and a name. It holds no
tickets and grants nothing: the inbox applies it on top of the viewer's own visibility
(tickets.selectors.filtered_tickets), so a shared view shows each viewer only what they
may open. The one writer of saved views (the workspace's forms call it).
"""

from __future__ import annotations

from dataclasses import fields
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tickets.counts import counts_changed
from tickets.models import SavedView, Team, User, ViewScope
from tickets.selectors import COUNT_CAP, InboxQuery, ViewCount, filtered_tickets
from tickets.services import InvalidChange, NotPermitted

# The inbox's columns a view may show or leave out (the subject is always shown).
COLUMNS = {
    "status": _("Status"),
    "priority": _("Priority"),
    "assignee": _("Assignee"),
    "updated": _("Last updated"),
}
MAX_VIEWS = 50  # per person: the sidebar counts each one
_DEFAULTS = InboxQuery()
_NOT_PARAMS = {"cursor", "limit", "fields"}


def visible_views(user: User) -> QuerySet[SavedView]:
    """The views `user` may open: their own, those shared with everyone, and those
    shared with a team of theirs."""
    return SavedView.objects.filter(
        Q(owner=user)
        | Q(scope=ViewScope.EVERYONE)
        | Q(scope=ViewScope.TEAM, team__in=user.teams.values("pk"))
    )


def get_view_for(user: User, view_id: int | str, *, write: bool = False) -> SavedView:
    """The view if `user` may open it (404 otherwise); with `write`, if they may also
    rename or delete it: its owner, or an admin for a shared one (403 otherwise)."""
    try:
        view = visible_views(user).get(pk=int(view_id))
    except (SavedView.DoesNotExist, TypeError, ValueError):
        raise Http404(gettext("No such view")) from None
    if write and not may_edit(user, view):
        raise NotPermitted(gettext("Only its owner or an admin may change a shared view."))
    return view


def may_edit(user: User, view: SavedView) -> bool:
    return view.owner_id == user.pk or (view.scope != ViewScope.PERSONAL and user.is_admin)


def query_params(query: InboxQuery) -> str:
    """The query string of an inbox query (what differs from the defaults), as the inbox
    reads it back (tickets.forms.InboxFilterForm)."""
    pairs = [
        (f.name, str(getattr(query, f.name)))
        for f in fields(query)
        if f.name not in _NOT_PARAMS and getattr(query, f.name) != getattr(_DEFAULTS, f.name)
    ]
    return urlencode(pairs + list(query.fields))


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidChange(gettext("Give the view a name."), field="name")
    if len(name) > 80:
        raise InvalidChange(gettext("A view's name is at most 80 characters."), field="name")
    return name


def _clean_columns(columns: list[str]) -> list[str]:
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise InvalidChange(
            gettext("No such column: %(columns)s.") % {"columns": ", ".join(unknown)},
            field="columns",
        )
    return [c for c in COLUMNS if c in columns]


def save_view(
    owner: User,
    name: str,
    query: InboxQuery,
    *,
    columns: list[str] | None = None,
    scope: str = ViewScope.PERSONAL,
    team: Team | None = None,
) -> SavedView:
    """Save the inbox's current filters as a view. Sharing is for managers and admins;
    a team view names the team."""
    name = _clean_name(name)
    if scope not in ViewScope.values:
        raise InvalidChange(gettext("Choose who sees the view."), field="scope")
    if scope != ViewScope.PERSONAL and not owner.sees_everything:
        raise NotPermitted(gettext("Only managers and admins share views."))
    if scope == ViewScope.TEAM and team is None:
        raise InvalidChange(gettext("Choose the team to share the view with."), field="team")
    if owner.saved_views.count() >= MAX_VIEWS:
        raise InvalidChange(
            gettext("You have %(count)s views: delete one first.") % {"count": MAX_VIEWS},
            field="name",
        )
    view = SavedView.objects.create(
        owner=owner,
        name=name,
        scope=scope,
        team=team if scope == ViewScope.TEAM else None,
        params=query_params(query),
        columns=_clean_columns(list(COLUMNS) if columns is None else columns),
    )
    counts_changed()
    return view


def rename_view(view: SavedView, name: str) -> None:
    view.name = _clean_name(name)
    view.save(update_fields=["name"])
    counts_changed()


def delete_view(view: SavedView) -> None:
    view.delete()
    counts_changed()


def view_counts(user: User, views: list[tuple[SavedView, InboxQuery]]) -> list[ViewCount]:
    """The sidebar badge of each view: a capped COUNT of what it shows this viewer."""
    return [
        ViewCount(
            f"saved-{view.pk}",
            view.name,
            filtered_tickets(user, query)[: COUNT_CAP + 1].count(),
            f"saved={view.pk}",
        )
        for view, query in views
    ]
