"""Admin pages for mail: mailbox settings with a connection test, the quarantine (list,
download, retry) and the webhook's mail waiting to be ingested."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from audit.admin import AuditedAdmin
from tickets import calendars
from tickets.mail.imap import check_connection, poll_status
from tickets.mail.ingest import Outcome
from tickets.mail.intake import retry_quarantined
from tickets.mail.models import InboundEmail, QuarantinedEmail, QuarantineState
from tickets.mail.notify import TEXT_ERRORS, check_admin_text
from tickets.models import Mailbox, _webhook_secret


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    """Read-only: a row not done a few minutes after it came in means no worker runs the
    mail_in queue (mail.sweep_inbound enqueues it again every minute)."""

    list_display = ("received_at", "mailbox", "state", "attempts", "outcome", "ticket", "size")
    list_filter = ("state", "mailbox")
    fields = readonly_fields = tuple(f.name for f in InboundEmail._meta.fields if f.name != "raw")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(QuarantinedEmail)
class QuarantinedEmailAdmin(admin.ModelAdmin):
    list_display = ("received_at", "from_address", "subject", "reason", "state", "size", "download")
    list_filter = ("state", "source", "mailbox")
    search_fields = ("subject", "from_address", "reason")
    # The raw file's own link would point under MEDIA_URL, which is not served (the bytes
    # hold customers' mail): the page links the admin-only download view instead.
    fields = readonly_fields = tuple(
        "download" if f.name == "raw" else f.name for f in QuarantinedEmail._meta.fields
    )
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    # Adds "Retry ingesting" to an entry's own page, beside Close and Delete.
    change_form_template = "admin/mail/quarantinedemail/change_form.html"

    def get_urls(self):  # type: ignore[no-untyped-def]
        own = [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="mail_quarantinedemail_download",
            ),
            path(
                "<int:pk>/retry/",
                self.admin_site.admin_view(require_POST(self.retry_view)),
                name="mail_quarantinedemail_retry",
            ),
        ]
        return own + super().get_urls()

    @admin.display(description="Raw message")
    def download(self, obj: QuarantinedEmail) -> str:
        url = reverse("admin:mail_quarantinedemail_download", args=[obj.pk])
        return format_html('<a href="{}">Download .eml</a>', url)

    def download_view(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        entry = get_object_or_404(QuarantinedEmail, pk=pk)
        return FileResponse(
            entry.raw.open("rb"),
            as_attachment=True,
            filename=f"quarantined-{entry.pk}.eml",
            content_type="message/rfc822",
        )

    def retry_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        entries = QuarantinedEmail.objects.filter(pk=pk)
        if not entries.filter(state=QuarantineState.HELD).exists():
            self.message_user(request, "This message is no longer held.", messages.INFO)
        self.retry(request, entries)
        return redirect("admin:mail_quarantinedemail_change", pk)

    @admin.action(description="Retry ingesting the selected messages")
    def retry(self, request: HttpRequest, queryset: QuerySet[QuarantinedEmail]) -> None:
        released = 0
        for entry in queryset.filter(state=QuarantineState.HELD):
            result = retry_quarantined(entry)
            if result.outcome in (Outcome.NEW_TICKET, Outcome.ADDED, Outcome.DUPLICATE):
                if result.outcome == Outcome.DUPLICATE:
                    QuarantinedEmail.objects.filter(pk=entry.pk).update(
                        state=QuarantineState.RELEASED
                    )
                released += 1
            else:
                # Not str(entry): it ends with the old reason, which read twice here.
                what = f"{entry.subject or '(no subject)'} from {entry.from_address or 'no sender'}"
                self.message_user(
                    request, f"Still quarantined: {what}: {result.reason}", messages.WARNING
                )
        if released:
            self.message_user(request, f"{released} message(s) ingested.", messages.SUCCESS)


class MailboxSettingsForm(forms.ModelForm):
    """Mailbox settings; passwords are write-only (never shown back, blank keeps them)."""

    imap_password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave blank to keep the current password.",
    )
    smtp_password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave blank to keep the current password.",
    )

    class Meta:
        model = Mailbox
        # The admin builds the full form from MailboxSettingsAdmin.fieldsets (which leave
        # out the UID bookkeeping); this form only adds the write-only passwords.
        fields = ("imap_password", "smtp_password")
        labels = {
            "from_name": "From name",
            "auto_ack_enabled": "Send an auto-acknowledgement",
            "auto_ack_template": "Auto-acknowledgement text",
            "imap_host": "IMAP server",
            "imap_port": "IMAP port",
            "imap_security": "IMAP security",
            "imap_user": "IMAP user name",
            "imap_password": "IMAP password",
            "imap_folder": "Folder to fetch",
            "imap_processed_folder": "Processed folder",
            "poll_interval_seconds": "Poll every (seconds)",
            "smtp_host": "SMTP server",
            "smtp_port": "SMTP port",
            "smtp_security": "SMTP security",
            "smtp_user": "SMTP user name",
            "smtp_password": "SMTP password",
        }
        help_texts = {
            "address": "The address customers write to; mail goes out from it too.",
            "from_name": "The name customers see beside the address (the mailbox name if empty).",
            "signature": "Added under each agent reply.",
            "auto_ack_template": (
                "Empty for the default text. Django template syntax, with {{ customer.name }}, "
                "{{ customer.first_name }}, {{ customer.email }}, {{ ticket.number }}, "
                "{{ ticket.subject }}, {{ ticket.url }} (the customer's page), "
                "{{ mailbox.name }}, {{ mailbox.address }} and {{ mailbox.signature }}."
            ),
            "smtp_host": "Empty: replies go out through the workspace's default mail server.",
            "smtp_user": "Empty: send without signing in.",
        }

    def clean_imap_password(self) -> str:
        return self.cleaned_data["imap_password"] or (
            self.instance.imap_password if self.instance.pk else ""
        )

    def clean_smtp_password(self) -> str:
        return self.cleaned_data["smtp_password"] or (
            self.instance.smtp_password if self.instance.pk else ""
        )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("imap_host") and not data.get("imap_user"):
            self.add_error("imap_user", "Enter the IMAP user name to fetch mail with.")
        if data.get("auto_ack_template"):
            try:
                check_admin_text(data["auto_ack_template"])
            except TEXT_ERRORS as exc:
                self.add_error("auto_ack_template", f"This template has an error: {exc}")
        return data


class MailboxSettingsAdmin(AuditedAdmin, admin.ModelAdmin):
    """Mailbox settings with a "test connection" action that says what failed."""

    form = MailboxSettingsForm
    # Its fields are recorded by calendars.save_mailbox; its teams here.
    audit_many = ("teams",)
    audit_own_fields = False

    def save_model(self, request: HttpRequest, obj: Mailbox, form: object, change: bool) -> None:
        calendars.save_mailbox(obj)

    list_display = (
        "name",
        "address",
        "is_active",
        "is_default",
        "imap_host",
        "mail_in",
        "smtp_host",
    )
    filter_horizontal = ("teams",)
    readonly_fields = ("webhook_url", "webhook_secret_status", "mail_in")
    actions = ["test_connection", "new_webhook_secret"]
    fieldsets = (
        (None, {"fields": ("name", "address", "teams", "calendar", "is_active", "is_default")}),
        ("Sending", {"fields": ("from_name", "signature")}),
        ("Auto-acknowledgement", {"fields": ("auto_ack_enabled", "auto_ack_template")}),
        (
            "Incoming mail (IMAP)",
            {
                "fields": (
                    "imap_host",
                    "imap_port",
                    "imap_security",
                    "imap_user",
                    "imap_password",
                    "imap_folder",
                    "imap_processed_folder",
                    "poll_interval_seconds",
                    "mail_in",
                )
            },
        ),
        (
            "Outgoing mail (SMTP)",
            {
                "fields": (
                    "smtp_host",
                    "smtp_port",
                    "smtp_security",
                    "smtp_user",
                    "smtp_password",
                )
            },
        ),
        ("Inbound webhook", {"fields": ("webhook_url", "webhook_secret_status")}),
    )

    @admin.display(description="Last poll")
    def mail_in(self, obj: Mailbox) -> str:
        return poll_status(obj)

    @admin.display(description="Webhook URL")
    def webhook_url(self, obj: Mailbox) -> str:
        if not obj.pk:
            return "Save the mailbox first."
        return settings.SITE_URL + reverse("tickets:mail-webhook", args=[obj.pk])

    @admin.display(description="Webhook secret")
    def webhook_secret_status(self, obj: Mailbox) -> str:
        # Never shown back, like the passwords: a new one is shown once, when made.
        return (
            "Set, and never shown again. To connect a sender, choose the mailbox in the "
            "list and run the action \u201cGenerate a new webhook secret\u201d: the new "
            "secret is shown once, and the old one stops working."
        )

    @admin.action(description="Generate a new webhook secret (shown once)")
    def new_webhook_secret(
        self, request: HttpRequest, queryset: QuerySet[Mailbox]
    ) -> TemplateResponse:
        shown = []
        for mailbox in queryset:
            mailbox.webhook_secret = _webhook_secret()
            mailbox.save(update_fields=["webhook_secret"])
            url = settings.SITE_URL + reverse("tickets:mail-webhook", args=[mailbox.pk])
            shown.append((mailbox, url, mailbox.webhook_secret))
        context = {
            **self.admin_site.each_context(request),
            "title": "New webhook secrets",
            "opts": self.model._meta,
            "shown": shown,
        }
        # The admin's pages are never cached (no-store): the secrets are not kept anywhere.
        return TemplateResponse(request, "admin/tickets/mailbox/new_webhook_secrets.html", context)

    @admin.action(description="Test the IMAP and SMTP connection")
    def test_connection(self, request: HttpRequest, queryset: QuerySet[Mailbox]) -> None:
        for mailbox in queryset:
            self._report_connection(request, mailbox)

    def _report_connection(self, request: HttpRequest, mailbox: Mailbox) -> None:
        for ok, text in check_connection(mailbox):
            level = messages.SUCCESS if ok else messages.ERROR
            # By name: the admin capitalizes the first letter of a message (capfirst).
            self.message_user(request, f"{mailbox.name}: {text}", level)

    def response_change(self, request: HttpRequest, obj: Mailbox) -> HttpResponse:
        """ "Save and test the connection" (templates/admin/tickets/mailbox/change_form.html):
        saved, tested, and back on the same page with what worked and what failed."""
        if "_test_connection" not in request.POST:
            return super().response_change(request, obj)
        self.message_user(request, f"{obj} was saved.", messages.SUCCESS)
        self._report_connection(request, obj)
        return HttpResponseRedirect(request.path)

    def response_add(
        self, request: HttpRequest, obj: Mailbox, post_url_continue: str | None = None
    ) -> HttpResponse:
        if "_test_connection" not in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, f"{obj} was added.", messages.SUCCESS)
        self._report_connection(request, obj)
        return HttpResponseRedirect(reverse("admin:tickets_mailbox_change", args=[obj.pk]))


# Mailbox settings (IMAP, SMTP, auto-ack, connection test) live beside the mail code.
admin.site.register(Mailbox, MailboxSettingsAdmin)
