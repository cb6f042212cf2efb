"""Workflow screens and ticket-page actions: presence, canned replies and macros, snooze,
reminders, merge, split, outreach to a list, and the admin pages for rules, SLA policies
and canned replies. Thin: forms validate, tickets.workflow.collab / automation / sla do the work.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tickets import presence, selectors
from tickets.access import get_ticket_for
from tickets.models import Message, User
from tickets.permissions import (
    AuthedRequest,
    acting_agent_required,
    agent_required,
    setup_required,
)
from tickets.services import Actor, InvalidChange, courtesy
from tickets.workflow import automation, collab, setup
from tickets.workflow.forms import (
    ACTION_VALUES,
    ActionFormSet,
    CannedReplyForm,
    ConditionFormSet,
    MacroForm,
    MergeForm,
    OutreachForm,
    ReminderForm,
    RuleForm,
    SlaPolicyForm,
    SnoozeForm,
    rule_definition,
    rule_initial,
)
from tickets.workflow.models import AutomationRule, CannedReply, SlaPolicy


def _form_errors(form: Any) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def _back(number: int) -> HttpResponse:
    return redirect("tickets:detail", number=number)


# --- ticket page --------------------------------------------------------------------------


@agent_required
@require_http_methods(["GET", "POST"])
def presence_view(request: AuthedRequest, number: int) -> HttpResponse:
    """The ticket page polls this every few seconds: "I am here (and typing)"; who else is."""
    ticket = get_ticket_for(request.user, number)
    if request.method == "POST":
        others = presence.heartbeat(
            ticket.pk,
            request.user,
            typing=request.POST.get("typing") == "1",
        )
    else:
        others = presence.present(ticket.pk, exclude=request.user.pk)
    last_seen = request.POST.get("last_message_id", "") or request.GET.get("last_message_id", "")
    newer = []
    if last_seen.isdecimal():
        newer = collab.messages_since(ticket, int(last_seen), request.user)
    return render(
        request,
        "tickets/workflow/_presence.html",
        {"others": others, "ticket": ticket, "newer": newer},
    )


@agent_required
@require_GET
def canned_search(request: AuthedRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for(request.user, number)
    query = request.GET.get("q", "")[:100]
    replies = list(collab.canned_replies_for(request.user, query)[:15])
    rendered = [
        (canned, collab.render_placeholders(canned.body, ticket, request.user))
        for canned in replies
    ]
    return render(
        request,
        "tickets/workflow/_canned_results.html",
        {"ticket": ticket, "results": rendered, "q": query},
    )


@agent_required
@require_POST
def apply_macro(request: AuthedRequest, number: int, canned_id: int) -> HttpResponse:
    ticket = get_ticket_for(request.user, number, write=True)
    canned = collab.get_canned_reply_for(request.user, canned_id)
    if canned is None:
        raise Http404("No such canned reply")
    form = MacroForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Not sent: %(problems)s") % {"problems": _form_errors(form)})
        return _back(ticket.pk)
    body = form.cleaned_data["body"]
    try:
        collab.apply_macro(ticket, canned, request.user, body)
    except InvalidChange as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Sent “%(title)s” and applied its changes.") % {"title": canned.title}
        )
    return _back(ticket.pk)


@agent_required
@require_POST
def snooze_view(request: AuthedRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for(request.user, number, write=True)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Not snoozed: %(problems)s") % {"problems": _form_errors(form)})
        return _back(ticket.pk)
    try:
        collab.snooze(ticket, form.cleaned_data["until"], actor=Actor.agent(request.user))
    except InvalidChange as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Snoozed: the ticket is pending and reopens at the time you chose.")
        )
    return _back(ticket.pk)


@agent_required
@require_POST
def remind_view(request: AuthedRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for(request.user, number, write=True)
    form = ReminderForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        collab.add_reminder(ticket, request.user, data["remind_at"], data["note"])
        messages.success(request, _("Reminder set: you will get an email."))
    else:
        messages.error(
            request, _("No reminder set: %(problems)s") % {"problems": _form_errors(form)}
        )
    return _back(ticket.pk)


@agent_required
@require_POST
def merge_view(request: AuthedRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for(request.user, number, write=True)
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Not merged: %(problems)s") % {"problems": _form_errors(form)})
        return _back(ticket.pk)
    try:
        target = get_ticket_for(request.user, form.cleaned_data["into"], write=True)
    except Http404:
        messages.error(
            request,
            _("Not merged: there is no ticket #%(number)s you can see.")
            % {"number": form.cleaned_data["into"]},
        )
        return _back(ticket.pk)
    try:
        collab.merge_tickets(
            ticket,
            target,
            actor=Actor.agent(request.user),
            confirm_different_customers=form.cleaned_data["confirm_different_customers"],
        )
    except collab.DifferentCustomers as warning:
        # Two customers: say who would see whose messages, and ask again.
        context = {"ticket": warning.source, "target": warning.target, "warning": warning}
        return render(request, "tickets/workflow/merge_confirm.html", context, status=409)
    except InvalidChange as exc:
        messages.error(request, _("Not merged: %(problems)s") % {"problems": exc})
        return _back(ticket.pk)
    messages.success(request, _("#%(number)s was merged into this ticket.") % {"number": ticket.pk})
    return _back(target.pk)


@agent_required
@require_POST
def split_view(request: AuthedRequest, number: int, message_id: int) -> HttpResponse:
    ticket = get_ticket_for(request.user, number, write=True)
    message = get_object_or_404(Message, pk=message_id, ticket=ticket)
    try:
        new = collab.split_message(message, actor=Actor.agent(request.user))
    except InvalidChange as exc:
        messages.error(request, str(exc))
        return _back(ticket.pk)
    messages.success(
        request,
        _("The message now lives in its own ticket, split from #%(number)s.")
        % {"number": ticket.pk},
    )
    return _back(new.pk)


# --- outreach to a list -------------------------------------------------------------------


@acting_agent_required
@require_http_methods(["GET", "POST"])
def outreach_list(request: AuthedRequest) -> HttpResponse:
    mailboxes = selectors.visible_mailboxes(request.user)
    form = OutreachForm(request.POST or None, mailboxes=mailboxes)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        tickets = collab.start_outreach(
            request.user,
            data["mailbox"],
            data["emails"],
            data["subject"],
            data["body"],
            tags=data["tag_list"],
        )
        messages.success(
            request,
            ngettext(
                "Started %(count)s conversation; replies thread back.",
                "Started %(count)s conversations; replies thread back.",
                len(tickets),
            )
            % {"count": len(tickets)},
        )
        return redirect("tickets:inbox")
    status = 422 if form.is_bound else 200
    return render(request, "tickets/workflow/outreach.html", {"form": form}, status=status)


# --- automation rules ---------------------------------------------------------------------


@setup_required
@require_GET
def rules_list(request: AuthedRequest) -> HttpResponse:
    rules = list(AutomationRule.objects.order_by("position", "id"))
    for rule in rules:
        rule.condition_lines = automation.describe(rule.conditions)  # type: ignore[attr-defined]
        rule.action_lines = [  # type: ignore[attr-defined]
            automation.action_label(a.get("type", "")) for a in rule.actions
        ]
    since = timezone.now() - timedelta(days=30)
    return render(
        request,
        "tickets/workflow/rules.html",
        {"rules": rules, "courtesy": courtesy.counts(since)},
    )


@setup_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    rule = get_object_or_404(AutomationRule, pk=pk) if pk else AutomationRule()
    if request.method == "POST":
        form = RuleForm(request.POST, instance=rule)
        conditions = ConditionFormSet(request.POST, prefix="c")
        actions = ActionFormSet(request.POST, prefix="a")
        form_ok = form.is_valid()
        conditions.is_valid()
        actions.is_valid()
        parsed_c, parsed_a, problems = rule_definition(form, conditions, actions)
        if form_ok and not problems:
            rule = form.save(commit=False)
            rule.conditions, rule.actions = parsed_c, parsed_a
            with transaction.atomic():
                setup.save_rule(rule)
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule.name})
            return redirect("tickets:rules")
        status = 422
    else:
        initial_c, initial_a = rule_initial(rule) if pk else ([], [])
        form = RuleForm(instance=rule)
        conditions = ConditionFormSet(initial=initial_c, prefix="c")
        actions = ActionFormSet(initial=initial_a, prefix="a")
        problems, status = [], 200
    context = {
        "form": form,
        "rule": rule,
        "conditions": conditions,
        "actions": actions,
        "problems": problems,
        "value_hints": ACTION_VALUES,
    }
    return render(request, "tickets/workflow/rule_form.html", context, status=status)


@setup_required
@require_POST
def rule_toggle(request: AuthedRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(AutomationRule, pk=pk)
    rule.is_active = not rule.is_active
    with transaction.atomic():
        setup.save_rule(rule)
    messages.success(
        request,
        (
            _("Rule “%(name)s” switched on.")
            if rule.is_active
            else _("Rule “%(name)s” switched off.")
        )
        % {"name": rule.name},
    )
    return redirect("tickets:rules")


@setup_required
@require_POST
def rule_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(AutomationRule, pk=pk)
    with transaction.atomic():
        setup.delete_rules([rule])
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("tickets:rules")


# --- SLA policies -------------------------------------------------------------------------


@setup_required
@require_GET
def sla_list(request: AuthedRequest) -> HttpResponse:
    policies = SlaPolicy.objects.select_related("mailbox", "organization").order_by(
        "priority", "name"
    )
    return render(request, "tickets/workflow/sla.html", {"policies": policies})


@setup_required
@require_http_methods(["GET", "POST"])
def sla_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    policy = get_object_or_404(SlaPolicy, pk=pk) if pk else SlaPolicy()
    form = SlaPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        setup.save_policy(form.save(commit=False))
        messages.success(
            request,
            _("SLA policy “%(name)s” saved; new and changed tickets use it.")
            % {"name": form.instance.name},
        )
        return redirect("tickets:sla")
    status = 422 if form.is_bound else 200
    return render(
        request, "tickets/workflow/sla_form.html", {"form": form, "policy": policy}, status=status
    )


@setup_required
@require_POST
def sla_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(SlaPolicy, pk=pk)
    setup.delete_policies([policy])
    messages.success(request, _("SLA policy “%(name)s” deleted.") % {"name": policy.name})
    return redirect("tickets:sla")


# --- canned replies -----------------------------------------------------------------------


def _editable_canned(user: User, pk: int) -> CannedReply:
    canned = get_object_or_404(CannedReply, pk=pk)
    if canned.editable_by(user):
        return canned
    raise Http404("No such canned reply")


@acting_agent_required
@require_GET
def canned_list(request: AuthedRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    replies = collab.canned_replies_for(request.user, query).select_related("owner")
    return render(request, "tickets/workflow/canned.html", {"replies": replies, "q": query})


@acting_agent_required
@require_http_methods(["GET", "POST"])
def canned_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    canned = _editable_canned(request.user, pk) if pk else CannedReply()
    form = CannedReplyForm(request.POST or None, instance=canned, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(
            request, _("Canned reply “%(title)s” saved.") % {"title": form.instance.title}
        )
        return redirect("tickets:canned")
    status = 422 if form.is_bound else 200
    return render(
        request,
        "tickets/workflow/canned_form.html",
        {"form": form, "canned": canned},
        status=status,
    )


@acting_agent_required
@require_POST
def canned_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    canned = _editable_canned(request.user, pk)
    canned.delete()
    messages.success(request, _("Canned reply “%(title)s” deleted.") % {"title": canned.title})
    return redirect("tickets:canned")
