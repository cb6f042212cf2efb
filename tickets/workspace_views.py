"""The workspace's own pages beside the inbox: saved views (tickets.saved_views), the
bell of in-app notifications (tickets.notifications) and the agent's language."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from tickets import notifications, saved_views
from tickets.forms import RenameViewForm, SavedViewForm
from tickets.models import ViewScope
from tickets.permissions import AuthedRequest, agent_required
from tickets.services import InvalidChange


def _inbox_of(view_id: int) -> str:
    return f"{reverse('tickets:inbox')}?saved={view_id}"


def _inbox_with(params: str) -> str:
    """The inbox with a posted query string, re-encoded (it came from the browser)."""
    return f"{reverse('tickets:inbox')}?{QueryDict(params[:2000]).urlencode()}"


def _errors(form: SavedViewForm | RenameViewForm) -> str:
    return " ".join(
        f"{form.fields[name].label or name}: {' '.join(str(e) for e in errs)}"
        for name, errs in form.errors.items()
    )


@agent_required
@require_POST
def save_view(request: AuthedRequest) -> HttpResponse:
    """The inbox's current filters saved as a view, which opens."""
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, gettext("The view was not saved. %(errors)s") % {"errors": _errors(form)}
        )
        return redirect(_inbox_with(request.POST.get("params", "")))
    data = form.cleaned_data
    try:
        view = saved_views.save_view(
            request.user,
            data["name"],
            form.query(),
            columns=data["columns"],
            scope=data["scope"] or ViewScope.PERSONAL,
            team=data["team"],
        )
    except InvalidChange as refusal:
        messages.error(request, gettext("The view was not saved: %(reason)s") % {"reason": refusal})
        return redirect(_inbox_with(data["params"]))
    messages.success(request, gettext("Saved the view “%(name)s”.") % {"name": view.name})
    return redirect(_inbox_of(view.pk))


@agent_required
@require_POST
def rename_view(request: AuthedRequest, view_id: int) -> HttpResponse:
    view = saved_views.get_view_for(request.user, view_id, write=True)
    form = RenameViewForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidChange(_errors(form))
        saved_views.rename_view(view, form.cleaned_data["name"])
    except InvalidChange as refusal:
        messages.error(request, gettext("Not renamed: %(reason)s") % {"reason": refusal})
    return redirect(_inbox_of(view.pk))


@agent_required
@require_POST
def delete_view(request: AuthedRequest, view_id: int) -> HttpResponse:
    view = saved_views.get_view_for(request.user, view_id, write=True)
    saved_views.delete_view(view)
    messages.success(request, gettext("Deleted the view “%(name)s”.") % {"name": view.name})
    return redirect("tickets:inbox")


@agent_required
@require_GET
def bell(request: AuthedRequest) -> HttpResponse:
    """The bell's badge, polled by every agent page: one capped COUNT."""
    count = notifications.unread_count(request.user)
    return render(request, "tickets/_bell.html#badge", {"unread": count})


@agent_required
@require_GET
def notification_list(request: AuthedRequest) -> HttpResponse:
    """The newest notices: the bell's panel (htmx) or a page of its own."""
    return _notifications(request)


def _notifications(request: AuthedRequest) -> HttpResponse:
    context = {
        "items": notifications.recent(request.user),
        "unread": notifications.unread_count(request.user),
    }
    template = "tickets/_bell.html#panel" if request.htmx else "tickets/notifications.html"
    return render(request, template, context)


@agent_required
@require_POST
def open_notification(request: AuthedRequest, notification_id: int) -> HttpResponse:
    """Mark the notice read and go to its ticket."""
    notification = notifications.open_notification(request.user, notification_id)
    url = reverse("tickets:detail", args=[notification.ticket_id])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@agent_required
@require_POST
def read_all(request: AuthedRequest) -> HttpResponse:
    notifications.mark_all_read(request.user)
    if request.htmx:
        return _notifications(request)
    return redirect("tickets:notifications")


@agent_required
@require_http_methods(["GET", "POST"])
def language_settings(request: AuthedRequest) -> HttpResponse:
    """The language of the agent app for the signed-in agent (User.language, activated on
    each of their pages by helpdesk.middleware.agent_language); "" follows the browser."""
    known = dict(settings.LANGUAGES)
    if request.method == "POST":
        chosen = request.POST.get("language", "")
        if chosen not in known and chosen != "":
            messages.error(request, gettext("Choose one of the languages listed."))
            return redirect("tickets:language-settings")
        request.user.language = chosen
        request.user.save(update_fields=["language"])
        # The answer to this request is in the new language already.
        translation.activate(chosen or translation.get_language_from_request(request))
        messages.success(request, gettext("Saved your language."))
        return redirect("tickets:language-settings")
    context = {"languages": list(known.items()), "chosen": request.user.language}
    return render(request, "tickets/language.html", context)
