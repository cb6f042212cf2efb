"""The agents' feedback pages: the list, an item (who asked, the trend, status, the note
to everyone who asked, the product update), and the ticket page's panel (link a ticket
to an item, or create one inline)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from feedback import selectors, services
from feedback.forms import FilterForm, ItemForm, LinkForm, NotesForm, StatusForm, UpdateForm
from feedback.models import FeedbackItem, ItemStatus, ProductUpdate
from helpdesk.forms import add_errors
from tickets.access import get_ticket_for
from tickets.models import Mailbox, Ticket, User
from tickets.permissions import (
    AuthedRequest,
    acting_agent_required,
    agent_required,
    is_manager,
)
from tickets.selectors import visible_mailboxes
from tickets.services import InvalidChange, NotPermitted


def _refused(form: forms.Form, error: InvalidChange) -> None:
    """The service's refusal as the form's error, on its field when the form has it."""
    add_errors(form, {error.field: str(error)})


@agent_required
@require_GET
def item_list(request: AuthedRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    page = selectors.agent_items(
        status=data.get("status", ""),
        kind=data.get("kind", ""),
        public=data.get("public", ""),
        query=data.get("q", ""),
        page=request.GET.get("page", 1),
    )
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "feedback/list.html",
        {"form": form, "page": page, "params": params.urlencode(), "filtered": bool(data)},
    )


@acting_agent_required
@require_http_methods(["GET", "POST"])
def item_new(request: AuthedRequest) -> HttpResponse:
    form = ItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.create_item(request.user, **form.cleaned_data)
        except InvalidChange as error:
            _refused(form, error)
        else:
            messages.success(request, gettext("Feedback item created."))
            return redirect("feedback:item", item.pk)
    status = 400 if form.errors else 200
    return render(request, "feedback/new.html", {"form": form}, status=status)


def _item_page(
    request: AuthedRequest, item_id: int, status: int = 200, **forms_: Any
) -> HttpResponse:
    item = selectors.item_with_counts(item_id)
    askers = selectors.item_askers(item, request.user)
    trend = selectors.trend(item)
    peak = max((n for _, n in trend), default=0) or 1
    context = {
        "item": item,
        "askers": askers,
        "trend": [
            {"week": week, "n": n, "x": 10 * i + 1, "h": max(1, round(44 * n / peak)) if n else 0}
            | {"y": 48 - (max(1, round(44 * n / peak)) if n else 0)}
            for i, (week, n) in enumerate(trend)
        ],
        "trend_width": 10 * len(trend),
        "trend_total": sum(n for _, n in trend),
        "may_set_status": is_manager(request.user),
        "update": ProductUpdate.objects.filter(item=item).first(),
        "words_form": forms_.get("words_form")
        or ItemForm(
            initial={"title": item.title, "kind": item.kind, "description": item.description}
        ),
        "status_form": forms_.get("status_form")
        or StatusForm(initial={"status": item.status, "public": item.public}),
        "plan_labels": [d.label for d in selectors.plan_fields("customer")],
        "org_plan_labels": [d.label for d in selectors.plan_fields("organization")],
    }
    return render(request, "feedback/item.html", context, status=status)


@agent_required
@require_GET
def item_detail(request: AuthedRequest, item_id: int) -> HttpResponse:
    return _item_page(request, item_id)


@acting_agent_required
@require_POST
def item_edit(request: AuthedRequest, item_id: int) -> HttpResponse:
    item = get_object_or_404(FeedbackItem, pk=item_id)
    form = ItemForm(request.POST)
    if form.is_valid():
        try:
            services.update_item(item, request.user, **form.cleaned_data)
        except InvalidChange as error:
            _refused(form, error)
        else:
            messages.success(request, gettext("Saved."))
            return redirect("feedback:item", item.pk)
    return _item_page(request, item_id, status=400, words_form=form)


@agent_required
@require_POST
def item_status(request: AuthedRequest, item_id: int) -> HttpResponse:
    if not is_manager(request.user):
        raise PermissionDenied(services.STATUS_REFUSAL)
    item = get_object_or_404(FeedbackItem, pk=item_id)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.update_item(item, request.user, **form.cleaned_data)
        except NotPermitted:
            raise
        except InvalidChange as error:
            _refused(form, error)
        else:
            messages.success(request, gettext("Status saved."))
            if form.cleaned_data["status"] == ItemStatus.SHIPPED and item.status != "shipped":
                return redirect("feedback:notes", item.pk)
            return redirect("feedback:item", item.pk)
    return _item_page(request, item_id, status=400, status_form=form)


def _default_mailbox(mailboxes: Any) -> Mailbox | None:
    return mailboxes.filter(is_default=True).first() or mailboxes.order_by("pk").first()


def _note_page(
    request: AuthedRequest,
    item_id: int,
    form_class: type[NotesForm],
    template: str,
    send: Callable[[FeedbackItem, dict[str, Any]], str],
    **initial: Any,
) -> HttpResponse:
    """The note's form, pre-filled with the canned text the agent edits, and its sending
    (`send` returns what to tell the agent): the note on shipping and the update alike."""
    item = selectors.item_with_counts(item_id)
    mailboxes = visible_mailboxes(request.user)
    form = form_class(
        request.POST or None,
        mailboxes=mailboxes,
        initial={
            "mailbox": _default_mailbox(mailboxes),
            "subject": services.shipped_subject(item),
            "body": services.shipped_note(item),
            **initial,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            done = send(item, form.cleaned_data)
        except NotPermitted:
            raise
        except InvalidChange as error:
            _refused(form, error)
        else:
            messages.success(request, done)
            return redirect("feedback:item", item.pk)
    pending, _ = selectors.askers_to_tell(item)
    return render(
        request,
        template,
        {"item": item, "form": form, "pending": pending},
        status=400 if form.errors else 200,
    )


def _told_message(told: services.Told) -> str:
    if told.told == 0:
        return gettext("Everyone who asked had already been told: no note sent.")
    told_now = ngettext("Told %(count)d customer.", "Told %(count)d customers.", told.told) % {
        "count": told.told
    }
    if not told.already:
        return told_now
    before = ngettext(
        "%(count)d had been told before.", "%(count)d had been told before.", told.already
    ) % {"count": told.already}
    return f"{told_now} {before}"


@acting_agent_required
@require_http_methods(["GET", "POST"])
def item_notes(request: AuthedRequest, item_id: int) -> HttpResponse:
    """The one action that tells everyone who asked: the canned note, edited, then sent."""

    def send(item: FeedbackItem, data: dict[str, Any]) -> str:
        return _told_message(services.tell_askers(item, request.user, **data))

    return _note_page(request, item_id, NotesForm, "feedback/notes.html", send)


@acting_agent_required
@require_http_methods(["GET", "POST"])
def item_update(request: AuthedRequest, item_id: int) -> HttpResponse:
    """A shipped item becomes a product update in one step; its followers are told."""

    def send(item: FeedbackItem, data: dict[str, Any]) -> str:
        _, told = services.publish_update(
            item,
            request.user,
            title=data["title"],
            body=data["update_body"],
            mailbox=data["mailbox"],
            subject=data["subject"],
            note=data["body"],
        )
        published = gettext("Published to the changelog.")
        return f"{published} {_told_message(told)}"

    item = get_object_or_404(FeedbackItem, pk=item_id)
    return _note_page(
        request,
        item_id,
        UpdateForm,
        "feedback/update.html",
        send,
        title=item.title,
        update_body=item.description,
    )


# --- the ticket page's panel --------------------------------------------------------------


def ticket_panel_context(ticket: Ticket, user: User, form: LinkForm | None = None) -> dict:
    """What the ticket page's feedback panel shows (fetched by the page: ticket_panel)."""
    panel = selectors.ticket_panel(ticket)
    return {
        "ticket": ticket,
        "items": panel.linked,
        "form": form or LinkForm(choices=FeedbackItem.objects.none()),
        "choices": panel.choices,
        "may_link": user.may_act,
    }


def _panel(
    request: AuthedRequest, ticket: Ticket, form: LinkForm | None, status: int
) -> HttpResponse:
    html = render_to_string(
        "feedback/_ticket_panel.html",
        ticket_panel_context(ticket, request.user, form),
        request=request,
    )
    return HttpResponse(html, status=status)


@agent_required
@require_GET
def ticket_panel(request: AuthedRequest, number: int) -> HttpResponse:
    """The panel, fetched by the ticket page after it loads (the page keeps its queries)."""
    return _panel(request, get_ticket_for(request.user, number), None, 200)


@acting_agent_required
@require_POST
def ticket_link(request: AuthedRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for(request.user, number)
    form: LinkForm | None = LinkForm(request.POST, choices=FeedbackItem.objects.all())
    status = 200
    if form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            if data["item"] is not None:
                services.link_ticket(data["item"], ticket, request.user)
            else:
                services.create_and_link(
                    ticket, request.user, title=data["title"], kind=data["kind"]
                )
        except NotPermitted:
            raise
        except InvalidChange as error:
            _refused(form, error)
            status = 400
        else:
            form = None
    else:
        status = 400
    if not request.htmx:
        if form is not None:
            messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("tickets:detail", ticket.pk)
    return _panel(request, ticket, form, status)


@acting_agent_required
@require_POST
def ticket_unlink(request: AuthedRequest, number: int, item_id: int) -> HttpResponse:
    ticket = get_ticket_for(request.user, number)
    item = get_object_or_404(FeedbackItem, pk=item_id)
    services.unlink_ticket(item, ticket, request.user)
    if not request.htmx:
        return redirect("tickets:detail", ticket.pk)
    return _panel(request, ticket, None, 200)
