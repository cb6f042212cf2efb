"""Mailboxes: addresses, teams and calendar, IMAP and SMTP settings (passwords never
shown back; blank keeps them), signature, auto-acknowledgement, polling status, and
"Test connection"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
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
    ("Mailbox", ("name", "address", "teams", "calendar", "is_active", "is_default")),
    ("Sending", ("from_name", "signature")),
    ("Auto-acknowledgement", ("auto_ack_enabled", "auto_ack_template")),
    (
        "Incoming mail (IMAP)",
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
        "Outgoing mail (SMTP)",
        ("smtp_host", "smtp_port", "smtp_security", "smtp_user", "smtp_password"),
    ),
)


class MailboxForm(MailboxSettingsForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Declared on the parent form, so Meta.labels does not reach them.
        self.fields["imap_password"].label = "IMAP password"
        self.fields["smtp_password"].label = "SMTP password"

    class Meta(MailboxSettingsForm.Meta):
        fields = tuple(name for _, names in GROUPS for name in names)
        widgets = {"teams": forms.CheckboxSelectMultiple}
        error_messages = {
            "address": {"unique": "Another mailbox already has this address."},
        }

    def clean_is_default(self) -> bool:
        default = self.cleaned_data["is_default"]
        others = Mailbox.objects.filter(is_default=True).exclude(pk=self.instance.pk)
        if default and others.exists():
            raise forms.ValidationError(
                f"“{others[0].name}” is the default mailbox; untick it there first."
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
        messages.success(request, f"Mailbox “{mailbox.name}” saved.")
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
