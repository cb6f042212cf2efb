"""Admin pages for mail: mailbox settings with a connection test, and the quarantine
(list, download, retry)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template import TemplateSyntaxError, engines
from django.urls import path, reverse
from django.utils.html import format_html

from tickets.mail.imap import check_connection
from tickets.mail.ingest import Outcome, retry_quarantined
from tickets.models import Mailbox, QuarantinedEmail, QuarantineState


@admin.register(QuarantinedEmail)
class QuarantinedEmailAdmin(admin.ModelAdmin):
    list_display = ("received_at", "from_address", "subject", "reason", "state", "size", "download")
    list_filter = ("state", "source", "mailbox")
    search_fields = ("subject", "from_address", "reason")
    # The raw file's own link would point under MEDIA_URL, which is not served (the bytes
    # hold customers' mail): the page links the admin-only download view instead.
    fields = readonly_fields = [
        "download" if f.name == "raw" else f.name for f in QuarantinedEmail._meta.fields
    ]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_urls(self):  # type: ignore[no-untyped-def]
        own = [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="tickets_quarantinedemail_download",
            )
        ]
        return own + super().get_urls()

    @admin.display(description="Raw message")
    def download(self, obj: QuarantinedEmail) -> str:
        url = reverse("admin:tickets_quarantinedemail_download", args=[obj.pk])
        return format_html('<a href="{}">Download .eml</a>', url)

    def download_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        entry = get_object_or_404(QuarantinedEmail, pk=pk)
        return FileResponse(
            entry.raw.open("rb"),
            as_attachment=True,
            filename=f"quarantined-{entry.pk}.eml",
            content_type="message/rfc822",
        )

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
                self.message_user(
                    request, f"Still quarantined: {entry}: {result.reason}", messages.WARNING
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
                engines["django"].from_string(data["auto_ack_template"])
            except TemplateSyntaxError as exc:
                self.add_error("auto_ack_template", f"This template has an error: {exc}")
        return data


class MailboxSettingsAdmin(admin.ModelAdmin):
    """Mailbox settings with a "test connection" action that says what failed."""

    form = MailboxSettingsForm
    list_display = ("name", "address", "is_active", "is_default", "imap_host", "smtp_host")
    filter_horizontal = ("teams",)
    readonly_fields = ("webhook_url", "webhook_secret")
    actions = ["test_connection"]
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
        ("Inbound webhook", {"fields": ("webhook_url", "webhook_secret")}),
    )

    @admin.display(description="Webhook URL")
    def webhook_url(self, obj: Mailbox) -> str:
        if not obj.pk:
            return "Save the mailbox first."
        return settings.SITE_URL + reverse("tickets:mail-webhook", args=[obj.pk])

    @admin.action(description="Test the IMAP and SMTP connection")
    def test_connection(self, request: HttpRequest, queryset: QuerySet[Mailbox]) -> None:
        for mailbox in queryset:
            for ok, text in check_connection(mailbox):
                level = messages.SUCCESS if ok else messages.ERROR
                self.message_user(request, f"{mailbox.address}: {text}", level)
