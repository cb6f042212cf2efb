"""The agent workspace: thin views over tickets.selectors (reads) and tickets.services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from helpdesk import local_cache
from tickets import bulk_notices, directory, labels, profiles, saved_views, selectors, services
from tickets.access import get_ticket_for
from tickets.counts import cached_counts
from tickets.forms import (
    BulkForm,
    InboxFilterForm,
    NewTicketForm,
    NoteForm,
    ReplyForm,
    TicketUpdateForm,
)
from tickets.history import merged_target
from tickets.mail import compose
from tickets.models import (
    AppliesTo,
    Attachment,
    FieldDefinition,
    FieldType,
    SavedView,
    Ticket,
    User,
    ViewScope,
)
from tickets.permissions import AuthedRequest, acting_agent_required, agent_required
from tickets.services import Actor, InvalidChange, courtesy
from tickets.workflow import collab

# Attachments of these types are shown in the browser; everything else downloads, so an
# HTML or SVG file from a stranger never runs in our origin.
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


@agent_required
@require_GET
def inbox(request: AuthedRequest) -> HttpResponse:
    data, saved = _inbox_data(request.user, request.GET)
    form = InboxFilterForm(data)
    query = form.to_query()
    page = selectors.inbox_tickets(request.user, query)
    columns = form.field_columns()
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "form": form,
        "query": query,
        "page": page,
        "params": params.urlencode(),
        "saved": saved,
        "may_edit_view": saved is not None and saved_views.may_edit(request.user, saved),
        "query_params": saved_views.query_params(query),
        "view_columns": saved_views.COLUMNS,
        "hidden_columns": (
            " ".join(c for c in saved_views.COLUMNS if c not in saved.columns) if saved else ""
        ),
        "scopes": ViewScope.choices,
        "view_label": saved.name
        if saved
        else selectors.VIEWS.get(query.view, selectors.VIEWS["open"]),
        "current_view": (
            f"saved-{saved.pk}"
            if saved
            else f"mailbox-{query.mailbox}"
            if query.mailbox
            else f"team-{query.team}"
            if query.team
            else query.view
        ),
        # The filter form and the heading show names only, held per process
        # (tickets/directory.py) and picked for this viewer.
        "mailboxes": (mailboxes := directory.visible_mailboxes(request.user)),
        "mailbox_choices": [(m.pk, m.name) for m in mailboxes],
        "teams": directory.visible_teams(request.user),
        "agent_choices": directory.agents(),
        "statuses": labels.choices(labels.STATUS_LABELS),
        "priorities": labels.choices(labels.PRIORITY_LABELS),
        "kinds": labels.choices(labels.KIND_LABELS),
        "channels": labels.choices(labels.CHANNEL_LABELS),
        "sorts": selectors.SORTS.items(),
        "sla_filters": selectors.SLA_FILTERS.items(),
        "field_controls": form.field_controls(query),
        "columns": columns,
        "column_keys": [definition.key for definition in columns],
        "row_span": 7 + len(columns),
        # Row links are built from this prefix: one reverse() per page, not per row.
        "detail_prefix": reverse("tickets:detail", args=[0])[:-2],
    }
    # "Load more" asks for the next rows only; everything else is a full page.
    template = (
        "tickets/inbox.html#more-rows" if request.htmx and query.cursor else "tickets/inbox.html"
    )
    return render(request, template, context)


def _inbox_data(user: User, params: QueryDict) -> tuple[QueryDict, SavedView | None]:
    """The inbox's query string: with `saved=<id>`, that view's filters (404 unless the
    viewer may open it), each overridden by the same parameter in `params`."""
    saved_id = params.get("saved")
    if not saved_id:
        return params, None
    saved = saved_views.get_view_for(user, saved_id)
    data = QueryDict(saved.params, mutable=True)
    for key in params:
        if key != "saved":
            data.setlist(key, params.getlist(key))
    return data, saved


def _counts(user: User) -> selectors.InboxCounts:
    tally = selectors.inbox_counts(user)
    views = list(saved_views.visible_views(user)[: saved_views.MAX_VIEWS])
    queries = [InboxFilterForm(QueryDict(view.params)).to_query() for view in views]
    tally.saved = saved_views.view_counts(user, list(zip(views, queries, strict=True)))
    return tally


@agent_required
@require_GET
def counts(request: AuthedRequest) -> HttpResponse:
    user = request.user
    # Cached a few seconds under a version every change moves (tickets/counts.py): right
    # after an action, the counts are counted afresh.
    tally = cached_counts(user.pk, lambda: _counts(user))
    context = {"counts": tally, "current": request.GET.get("current", "")}
    return render(request, "tickets/_sidebar.html", context)


@agent_required
@require_POST
def bulk(request: AuthedRequest) -> HttpResponse:
    form = BulkForm(request.POST)
    back = _safe_next(request, reverse("tickets:inbox"))
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        messages.error(request, _("Nothing changed: %(problems)s") % {"problems": errors})
        return redirect(back)
    data = form.cleaned_data
    # Only tickets this agent may see are touched, whatever numbers were posted.
    tickets = Ticket.objects.visible_to(request.user).filter(pk__in=data["tickets"])
    action = data["action"]
    changes: dict[str, Any] = {}
    if action == "assign":
        changes["assignee"] = data["assignee_user"]
    elif action in ("status", "kind"):
        changes[action] = data[action]
    result = services.bulk_update(
        tickets.order_by("pk"),
        actor=Actor.agent(request.user),
        add_tag=data["tag"] if action == "tag" else "",
        **changes,
    )
    if result.changed:
        messages.success(
            request, _("Updated %(tickets)s.") % {"tickets": bulk_notices.tickets(result.changed)}
        )
    elif not result.refused:
        messages.info(request, _("Nothing to change: the selected tickets already were that way."))
    for field, count in result.refused.items():
        messages.warning(
            request,
            _("Left unchanged: %(why)s.") % {"why": bulk_notices.refused(field, count, data)},
        )
    return redirect(back)


# Unbound, the page's three forms only lend it their choices and help texts (its menus
# come from tickets.directory): one of each per process, read and never written. A
# request that has a bound form (an error to show) passes its own.
_BLANK_FORMS: dict[str, Any] = {}


def _blank_forms() -> dict[str, Any]:
    if not _BLANK_FORMS:
        _BLANK_FORMS.update(
            update_form=TicketUpdateForm(mailbox=None),  # type: ignore[arg-type]  # unbound: unused
            reply_form=ReplyForm(),
            note_form=NoteForm(),
        )
    return _BLANK_FORMS


def _detail_context(request: AuthedRequest, ticket: Ticket, **extra: Any) -> dict[str, Any]:
    conversation = selectors.ticket_conversation(ticket)
    # The history each reply's email quoted, shown collapsed under it.
    quotes = compose.conversation_quotes(conversation, ticket)
    for message in conversation:
        message.sent_quote = quotes.get(message.pk)  # type: ignore[attr-defined]
    context = {
        "ticket": ticket,
        "conversation": conversation,
        "events": (events := selectors.ticket_events(ticket)),
        # Mail that needs no one: the call in force, from the history above (newest first).
        "courtesy_call": courtesy.pending_call(events[::-1]),
        "other_tickets": selectors.customer_other_tickets(request.user, ticket),
        # The properties' menus, held per process (the form validates against the database).
        "assignee_choices": directory.assignable(ticket.mailbox_id),
        "team_choices": directory.working_in(ticket.mailbox_id),
        "field_rows": field_rows(ticket, extra.pop("field_errors", None) or {}),
        **_blank_forms(),
        "composer": "reply",
        "from_view": _from_params(request),
    }
    context.update(extra)
    return context


@dataclass(frozen=True)
class FieldRow:
    """One custom field of the side panel: its definition, the ticket's value, an error."""

    definition: FieldDefinition
    value: Any
    error: str = ""

    @property
    def text(self) -> str:
        """The value as a text input holds it."""
        return "" if self.value is None else str(self.value)


def field_rows(ticket: Ticket, errors: dict[str, str]) -> list[FieldRow]:
    return [
        FieldRow(definition, ticket.fields.get(key), errors.get(key, ""))
        for key, definition in services.definitions(AppliesTo.TICKET).items()
    ]


def _posted_field_value(definition: FieldDefinition, values: list[str]) -> Any:
    """A field's value as its side-panel form posts it."""
    if definition.type == FieldType.MULTICHOICE:
        return values
    if definition.type == FieldType.CHECKBOX:
        return "true" in values
    return values[-1] if values else ""


@agent_required
@require_POST
def set_field(request: AuthedRequest, number: int, key: str) -> HttpResponse:
    """One custom field of the side panel, changed in place (services.update_ticket, the
    check of every door); a wrong value is said under the field."""
    ticket = get_ticket_for(request.user, number, write=True)
    definition = services.definitions(AppliesTo.TICKET).get(key)
    if definition is None:
        raise Http404("No such field")
    value = _posted_field_value(definition, request.POST.getlist("value"))
    errors: dict[str, str] = {}
    try:
        services.update_ticket(ticket, actor=Actor.agent(request.user), fields={key: value})
    except services.FieldErrors as refusal:
        errors = refusal.errors
    except InvalidChange as refusal:
        errors = {key: str(refusal)}
    if not request.htmx:
        for text in errors.values():
            messages.error(request, f"{definition.label}: {text}")
        return redirect("tickets:detail", number=ticket.number)
    ticket = get_ticket_for(request.user, number)
    context = _detail_context(request, ticket, oob=True, field_errors=errors)
    names = ("fields",) if errors else ("fields", "activity")
    html = "".join(
        render_to_string(f"tickets/detail.html#{n}", context, request=request) for n in names
    )
    return HttpResponse(html, status=422 if errors else 200)


@agent_required
@require_GET
def detail(request: AuthedRequest, number: int) -> HttpResponse:
    # One version of each held directory for the whole page: six reads of it (the
    # agent's mailboxes three times, the menus, names) cost one Redis GET, not six.
    with local_cache.pinned():
        ticket = get_ticket_for(request.user, number)
        if ticket.merged_into_id:
            # A merged ticket's conversation lives on in the ticket it was merged into.
            target = merged_target(ticket)
            messages.info(
                request,
                _("#%(number)s was merged into #%(target)s.")
                % {"number": ticket.number, "target": target.number},
            )
            return redirect("tickets:detail", number=target.number)
        return render(request, "tickets/detail.html", _detail_context(request, ticket))


def _render_after_change(
    request: AuthedRequest, ticket: Ticket, status: int = 200, **extra: Any
) -> HttpResponse:
    """The thread, plus out-of-band properties, header and activity: everything a change touches."""
    with local_cache.pinned():
        context = _detail_context(request, ticket, oob=True, **extra)
        html = "".join(
            render_to_string(f"tickets/detail.html#{name}", context, request=request)
            for name in ("thread", "properties", "header", "activity")
        )
    return HttpResponse(html, status=status)


def _post_message(request: AuthedRequest, number: int, *, note: bool) -> HttpResponse:
    ticket = get_ticket_for(request.user, number, write=True)
    if not note:
        # Early, with the core's own check: a light agent's reply is a 403 before its form
        # is read (services.reply refuses it anyway).
        services.check_actor(request.user)
    if _upload_too_large(request):
        limit = filesizeformat(settings.MAX_UPLOAD_BYTES)
        return HttpResponse(
            _("The message and its files are too large: at most %(limit)s in all.")
            % {"limit": limit},
            status=413,
            content_type="text/plain; charset=utf-8",
        )
    form = (NoteForm if note else ReplyForm)(request.POST, request.FILES)
    if not form.is_valid():
        key = "note_form" if note else "reply_form"
        if request.htmx:
            return _render_after_change(
                request, ticket, 422, **{key: form, "composer": "note" if note else "reply"}
            )
        return render(
            request,
            "tickets/detail.html",
            _detail_context(request, ticket, **{key: form}),
            status=422,
        )
    body, files = form.cleaned_data["body"], form.cleaned_data["attachments"]
    user = request.user
    # Where the ticket stood in the view it was opened from, before the reply moves it:
    # only when the agent goes on to the next ticket after it (the inbox query is work).
    going_on = not note and _wants_next_after_reply(request)
    from_view, query = _from_view(request) if going_on else ("", None)
    position = ""
    if query is not None and query.sort != "due":
        position = selectors.encode_cursor(ticket, query.sort)
    seen = request.POST.get("last_message_id", "")
    if not note and seen.isdecimal():
        # Someone else wrote while this agent was typing: show it before sending.
        newer = collab.messages_since(ticket, int(seen), request.user)
        if newer:
            # A browser cannot be handed files back: name them, so none goes missing.
            held = {"collision": newer, "held_files": [upload.name for upload in files]}
            if request.htmx:
                return _render_after_change(
                    request, ticket, 422, reply_form=form, composer="reply", **held
                )
            return render(
                request,
                "tickets/detail.html",
                _detail_context(request, ticket, reply_form=form, **held),
                status=409,
            )
    if note:
        services.add_note(ticket, user, body, attachments=files)
    else:
        status_after = form.cleaned_data["status_after"] or None
        fields = {"status_after": status_after, "attachments": files, "cc": form.cleaned_data["cc"]}
        macro = None
        if form.cleaned_data.get("macro"):
            macro = collab.get_canned_reply_for(user, form.cleaned_data["macro"])
        try:
            if form.cleaned_data.get("macro") and (macro is None or not macro.is_macro):
                raise InvalidChange(_("the inserted macro is no longer available."), field="macro")
            if macro is not None:
                collab.apply_macro(ticket, macro, user, body, **fields)
            else:
                services.reply(ticket, user, body, **fields)
        except InvalidChange as refusal:
            # Nothing was sent (one transaction): say why, with the reply kept.
            form.add_error("status_after", _("Not sent: %(reason)s") % {"reason": refusal})
            if request.htmx:
                return _render_after_change(request, ticket, 422, reply_form=form)
            return render(
                request,
                "tickets/detail.html",
                _detail_context(request, ticket, reply_form=form),
                status=422,
            )
    if not note and _next_after_reply(request) and query is not None:
        following = selectors.next_in_view(user, query, position, ticket.pk)
        if following is not None:
            url = reverse("tickets:detail", args=[following.number])
            url += f"?{urlencode({'from': from_view})}" if from_view else ""
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    ticket = get_ticket_for(request.user, number)
    if request.htmx:
        return _render_after_change(request, ticket, composer="note" if note else "reply")
    return redirect("tickets:detail", number=ticket.number)


def _from_params(request: AuthedRequest) -> str:
    """The inbox query string the ticket was opened from: the ticket page passes it on,
    from its `from` parameter or the inbox page that linked to it."""
    from_view = (request.POST.get("from") or request.GET.get("from") or "")[:2000]
    if not from_view:
        referer = urlsplit(request.headers.get("referer", ""))
        if referer.netloc == request.get_host() and referer.path == reverse("tickets:inbox"):
            from_view = referer.query[:2000]
    return from_view


def _from_view(request: AuthedRequest) -> tuple[str, selectors.InboxQuery]:
    """`_from_params` and the inbox query it makes."""
    from_view = _from_params(request)
    try:
        data, _ = _inbox_data(request.user, QueryDict(from_view))
    except Http404:
        from_view, data = "", QueryDict()
    return from_view, InboxFilterForm(data).to_query()


def _wants_next_after_reply(request: AuthedRequest) -> bool:
    """What `_next_after_reply` will answer, read before the reply and without saving."""
    if request.POST.get("next_choice"):
        return bool(request.POST.get("next_after_reply"))
    return request.user.next_after_reply


def _next_after_reply(request: AuthedRequest) -> bool:
    """The agent's choice of going on to the next ticket after a reply, remembered from
    the composer's checkbox when the composer had it."""
    user = request.user
    if request.POST.get("next_choice"):
        wanted = bool(request.POST.get("next_after_reply"))
        if wanted != user.next_after_reply:
            user.next_after_reply = wanted
            user.save(update_fields=["next_after_reply"])
    return user.next_after_reply


def _upload_too_large(request: AuthedRequest) -> bool:
    """Refuse before Django reads the body: uploads are streamed to disk otherwise."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > settings.MAX_UPLOAD_BYTES
    except ValueError:
        return False


@agent_required
@require_POST
def reply(request: AuthedRequest, number: int) -> HttpResponse:
    return _post_message(request, number, note=False)


@agent_required
@require_POST
def note(request: AuthedRequest, number: int) -> HttpResponse:
    return _post_message(request, number, note=True)


@agent_required
@require_POST
def update(request: AuthedRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for(request.user, number, write=True)
    form = TicketUpdateForm(request.POST, mailbox=ticket.mailbox)
    error = ""
    field_errors: dict[str, str] = {}
    if not form.is_valid():
        error = " ".join(str(e) for errs in form.errors.values() for e in errs)
    elif not form.changes():
        error = _("Nothing to change.")
    else:
        try:
            services.update_ticket(ticket, actor=Actor.agent(request.user), **form.changes())
        except services.FieldErrors as exc:
            # Solving with a field required to solve empty: said at the status and at
            # each field to fill.
            error, field_errors = str(exc), exc.errors
        except InvalidChange as exc:
            error = str(exc)
    status = 422 if error else 200
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("tickets:detail", number=ticket.number)
    ticket = get_ticket_for(request.user, number)
    context = _detail_context(
        request, ticket, oob=True, update_error=error, field_errors=field_errors
    )
    names = ("properties", "fields") if error else ("properties", "header", "activity")
    html = "".join(
        render_to_string(f"tickets/detail.html#{n}", context, request=request) for n in names
    )
    return HttpResponse(html, status=status)


@acting_agent_required
@require_POST
def courtesy_undo(request: AuthedRequest, number: int) -> HttpResponse:
    """Undo the desk's own call on a ticket: reopen a ticket a thanks kept solved, or take
    a newsletter back into the queues (counted: tickets.services.courtesy)."""
    ticket = get_ticket_for(request.user, number, write=True)
    try:
        kind = courtesy.undo(ticket, actor=Actor.agent(request.user))
    except courtesy.NothingToUndo as exc:
        messages.info(request, str(exc))
    else:
        done = _("Reopened.") if kind == courtesy.THANKS else _("No longer marked as a newsletter.")
        messages.success(request, done)
    return redirect("tickets:detail", number=ticket.number)


@acting_agent_required
def new_ticket(request: AuthedRequest, outreach: bool = False) -> HttpResponse:
    form = NewTicketForm(request.POST or None, user=request.user, outreach=outreach)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ticket = services.open_ticket_for_customer(
            agent=request.user,
            mailbox=data["mailbox"],
            email=data["customer_email"],
            name=data["customer_name"],
            subject=data["subject"],
            body_text=data["body"],
            outreach=outreach,
            channel=data.get("channel") or "email",
            priority=data["priority"],
            tags=data["tags"],
            assign_to_me=data["assign_to_me"],
        )
        messages.success(request, _("Ticket #%(number)s created.") % {"number": ticket.number})
        return redirect("tickets:detail", number=ticket.number)
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    status = 422 if form.is_bound else 200
    return render(request, "tickets/new.html", {"form": form, "outreach": outreach}, status=status)


@agent_required
@require_GET
def search(request: AuthedRequest) -> HttpResponse:
    text = request.GET.get("q", "")[:200]
    try:
        page = max(1, min(int(request.GET.get("page", "1")), 1000))
    except ValueError:
        page = 1
    results = selectors.search_tickets(request.user, text, page)
    if request.htmx and request.GET.get("jump") and results.hits:
        return HttpResponseClientRedirect(
            reverse("tickets:detail", args=[results.hits[0].ticket.number])
        )
    people = profiles.search_people(request.user, text) if page == 1 else None
    return render(request, "tickets/search.html", {"results": results, "q": text, "people": people})


@agent_required
@require_GET
def attachment(request: AuthedRequest, number: int, attachment_id: int) -> FileResponse:
    ticket = get_ticket_for(request.user, number)
    try:
        item = Attachment.objects.get(pk=attachment_id, message__ticket=ticket)
        handle = item.file.open("rb")
    except (Attachment.DoesNotExist, FileNotFoundError, ValueError):
        raise Http404(_("No such attachment")) from None
    inline = item.content_type in INLINE_TYPES and request.GET.get("download") is None
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=item.filename,
        content_type=item.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, max-age=3600"
    return response
