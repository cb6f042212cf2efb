"""Mailboxes: addresses, teams and calendar, IMAP and SMTP settings (passwords never
shown back; blank keeps them), signature, auto-acknowledgement, polling status, and
"Test connection"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tickets import calendars
from tickets.mail.admin import MailboxSettingsForm
from tickets.mail.imap import check_connection, poll_status
from tickets.models import Mailbox
from tickets.permissions import AuthedRequest, admin_required

# The admin waits on the page: a server that does not answer is reported soon.
CHECK_TIMEOUT_SECONDS = 8

# The form's fields in groups, as the page shows them (fieldsets).
GROUPS = (
    (gettext_lazy("Mailbox"), ("name", "address", "teams", "calendar", "is_active", "is_default")),
    (gettext_lazy("Sending"), ("from_name", "signature")),
    (gettext_lazy("Auto-acknowledgement"), ("auto_ack_enabled", "auto_ack_template")),
    (
        gettext_lazy("Incoming mail (IMAP)"),
        (
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_user",
            "imap_password",
            "imap_folder",
            "imap_processed_folder",
            "poll_interval_seconds",
        ),
    ),
    (
        gettext_lazy("Outgoing mail (SMTP)"),
        ("smtp_host", "smtp_port", "smtp_security", "smtp_user", "smtp_password"),
    ),
)


class MailboxForm(MailboxSettingsForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Declared on the parent form, so Meta.labels does not reach them.
        self.fields["imap_password"].label = gettext("IMAP password")
        self.fields["smtp_password"].label = gettext("SMTP password")
        for name in ("imap_password", "smtp_password"):
            self.fields[name].help_text = gettext("Leave blank to keep the current password.")

    class Meta(MailboxSettingsForm.Meta):
        fields = tuple(name for _, names in GROUPS for name in names)
        widgets = {"teams": forms.CheckboxSelectMultiple}
        labels = {
            "name": gettext_lazy("Name"),
            "address": gettext_lazy("Address"),
            "teams": gettext_lazy("Teams"),
            "calendar": gettext_lazy("Calendar"),
            "is_active": gettext_lazy("Active"),
            "is_default": gettext_lazy("Default mailbox"),
            "from_name": gettext_lazy("From name"),
            "signature": gettext_lazy("Signature"),
            "auto_ack_enabled": gettext_lazy("Send an auto-acknowledgement"),
            "auto_ack_template": gettext_lazy("Auto-acknowledgement text"),
            "imap_host": gettext_lazy("IMAP server"),
            "imap_port": gettext_lazy("IMAP port"),
            "imap_security": gettext_lazy("IMAP security"),
            "imap_user": gettext_lazy("IMAP user name"),
            "imap_folder": gettext_lazy("Folder to fetch"),
            "imap_processed_folder": gettext_lazy("Processed folder"),
            "poll_interval_seconds": gettext_lazy("Poll every (seconds)"),
            "smtp_host": gettext_lazy("SMTP server"),
            "smtp_port": gettext_lazy("SMTP port"),
            "smtp_security": gettext_lazy("SMTP security"),
            "smtp_user": gettext_lazy("SMTP user name"),
        }
        help_texts = {
            "address": gettext_lazy("The address customers write to; mail goes out from it too."),
            "from_name": gettext_lazy(
                "The name customers see beside the address (the mailbox name if empty)."
            ),
            "signature": gettext_lazy("Added under each agent reply."),
            "imap_processed_folder": gettext_lazy(
                "Move fetched mail here; empty means flag it seen."
            ),
            "smtp_host": gettext_lazy(
                "Empty: replies go out through the workspace's default mail server."
            ),
            "smtp_user": gettext_lazy("Empty: send without signing in."),
            "auto_ack_template": gettext_lazy(
                "Empty for the default text. Django template syntax, with {{ customer.name }}, "
                "{{ customer.first_name }}, {{ customer.email }}, {{ ticket.number }}, "
                "{{ ticket.subject }}, {{ ticket.url }} (the customer's page), "
                "{{ mailbox.name }}, {{ mailbox.address }} and {{ mailbox.signature }}."
            ),
        }
        error_messages = {
            "address": {"unique": gettext_lazy("Another mailbox already has this address.")},
        }

    def clean_is_default(self) -> bool:
        default = self.cleaned_data["is_default"]
        others = Mailbox.objects.filter(is_default=True).exclude(pk=self.instance.pk)
        if default and others.exists():
            raise forms.ValidationError(
                gettext("“%(name)s” is the default mailbox; untick it there first.")
                % {"name": others[0].name}
            )
        return default


@require_GET
@admin_required
def mailbox_list(request: AuthedRequest) -> HttpResponse:
    mailboxes = Mailbox.objects.prefetch_related("teams").select_related("calendar")
    rows = [(mailbox, poll_status(mailbox)) for mailbox in mailboxes]
    return render(request, "console/mailboxes.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@admin_required
def mailbox_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    mailbox = get_object_or_404(Mailbox, pk=pk) if pk else Mailbox()
    form = MailboxForm(request.POST or None, instance=mailbox)
    if request.method == "POST" and form.is_valid():
        calendars.save_mailbox(form.save(commit=False), teams=form.cleaned_data["teams"])
        messages.success(request, gettext("Mailbox “%(name)s” saved.") % {"name": mailbox.name})
        return redirect("console:mailbox-edit", mailbox.pk)
    groups = [(title, [form[name] for name in names]) for title, names in GROUPS]
    context = {
        "form": form,
        "groups": groups,
        "mailbox": mailbox,
        "status": poll_status(mailbox) if mailbox.pk else "",
    }
    return render(
        request, "console/mailbox_form.html", context, status=422 if form.is_bound else 200
    )


@require_POST
@admin_required
def mailbox_test(request: AuthedRequest, pk: int) -> HttpResponse:
    """Sign in to the saved IMAP and SMTP settings; each line says what worked or failed."""
    mailbox = get_object_or_404(Mailbox, pk=pk)
    results = check_connection(mailbox, timeout=CHECK_TIMEOUT_SECONDS)
    if request.htmx:
        return render(request, "console/_connection.html", {"results": results})
    for ok, text in results:
        (messages.success if ok else messages.error)(request, text)
    return redirect("console:mailbox-edit", mailbox.pk)
