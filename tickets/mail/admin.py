"""Admin pages for mail: the quarantine (list, download, retry)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from tickets.mail.ingest import Outcome, retry_quarantined
from tickets.models import QuarantinedEmail, QuarantineState


@admin.register(QuarantinedEmail)
class QuarantinedEmailAdmin(admin.ModelAdmin):
    list_display = ("received_at", "from_address", "subject", "reason", "state", "size", "download")
    list_filter = ("state", "source", "mailbox")
    search_fields = ("subject", "from_address", "reason")
    readonly_fields = [f.name for f in QuarantinedEmail._meta.fields]
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
        released = failed = 0
        for entry in queryset.filter(state=QuarantineState.HELD):
            result = retry_quarantined(entry)
            if result.outcome in (Outcome.NEW_TICKET, Outcome.ADDED, Outcome.DUPLICATE):
                if result.outcome == Outcome.DUPLICATE:
                    QuarantinedEmail.objects.filter(pk=entry.pk).update(
                        state=QuarantineState.RELEASED
                    )
                released += 1
            else:
                failed += 1
                self.message_user(
                    request, f"Still quarantined: {entry}: {result.reason}", messages.WARNING
                )
        if released:
            self.message_user(request, f"{released} message(s) ingested.", messages.SUCCESS)
