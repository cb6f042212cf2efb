"""HTTP doors for mail: the inbound webhook, the delivery retry, the quarantine list, the
emails an agent chooses to get, their signature, and the reply box's preview."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tickets import services
from tickets.access import get_ticket_for
from tickets.formatting import inline_image_names, render_reply
from tickets.mail import compose, sending
from tickets.mail.forms import NotificationSettingsForm, SignatureForm
from tickets.mail.inbound import accept
from tickets.mail.tasks import enqueue_ingest
from tickets.models import BODY_MAX, Mailbox, Message
from tickets.permissions import AuthedRequest, agent_required


def _secret(request: HttpRequest) -> str:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("X-Tandem-Webhook-Secret", "")


def _too_large() -> JsonResponse:
    limit = settings.MAIL_MAX_MESSAGE_BYTES
    return JsonResponse({"error": f"The message is larger than {limit} bytes."}, status=413)


@csrf_exempt
@require_POST
def inbound_webhook(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    """POST a raw RFC 822 message (Content-Type: message/rfc822) with the mailbox secret.

    The same size limit as IMAP and `ingest_email` (MAIL_MAX_MESSAGE_BYTES, not the
    upload limit: a 25 MB attachment is a third bigger once base64-encoded in a message),
    read from the stream so Django's in-memory body limit does not apply. The message is
    stored and the answer is 202 at once; it becomes a ticket (or a quarantine entry) in
    the background (tickets/mail/inbound.py), so no message can hold the request."""
    mailbox = Mailbox.objects.filter(pk=mailbox_id, is_active=True).first()
    secret = _secret(request)
    if mailbox is None or not secret or not hmac.compare_digest(secret, mailbox.webhook_secret):
        return JsonResponse({"error": "Unknown mailbox or wrong secret."}, status=401)
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    limit = settings.MAIL_MAX_MESSAGE_BYTES
    if declared > limit:
        return _too_large()
    raw = request.read(limit + 1)  # a body without Content-Length is cut off here too
    if len(raw) > limit:
        return _too_large()
    if not raw.strip():
        return JsonResponse({"error": "The request body must be a raw email message."}, status=400)
    with transaction.atomic():
        entry, new = accept(raw, mailbox)
        if new:
            transaction.on_commit(lambda: enqueue_ingest(entry.pk))
    detail = "Stored; it is ingested in the background." if new else "Received before."
    return JsonResponse(
        {"outcome": "accepted" if new else "received before", "id": entry.pk, "detail": detail},
        status=202,
    )


@agent_required
@require_POST
def retry_delivery(request: AuthedRequest, number: int, message_id: int) -> HttpResponse:
    """An agent's retry of a failed send; a no-op (with a note) if it is not failed. A light
    agent sends nothing (a 403 saying so)."""
    services.check_actor(request.user)
    ticket = get_ticket_for(request.user, number, write=True)
    message = get_object_or_404(Message, pk=message_id, ticket=ticket)
    if sending.requeue(message):
        messages.success(request, "Sending again.")
    else:
        messages.info(request, "This message is not waiting for a retry.")
    return redirect(f"{reverse('tickets:detail', args=[ticket.pk])}#message-{message.pk}")


@staff_member_required
def quarantine(request: HttpRequest) -> HttpResponse:
    """The quarantine list lives in the admin (download and retry are admin actions)."""
    return redirect("admin:mail_quarantinedemail_changelist")


@agent_required
def notification_settings(request: AuthedRequest) -> HttpResponse:
    """The agent's own choice of notices, per kind, in the app and by email."""
    user = request.user
    form = NotificationSettingsForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        form.instance.save(update_fields=list(form.Meta.fields))
        messages.success(request, gettext("Your notification settings are saved."))
        return redirect("tickets:notification-settings")
    status = 422 if form.is_bound else 200
    context = {
        "form": form,
        "app_fields": [form[name] for name in form.APP_FIELDS],
        "email_fields": [form[name] for name in form.EMAIL_FIELDS],
        "other_fields": [form["next_after_reply"]],
    }
    return render(request, "tickets/mail/notification_settings.html", context, status=status)


@agent_required
def signature_settings(request: AuthedRequest) -> HttpResponse:
    """The agent's own signature, which wins over the mailbox's (tickets/mail/compose.py)."""
    form = SignatureForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.instance.save(update_fields=["signature"])
        messages.success(request, gettext("Your signature is saved."))
        return redirect("tickets:signature-settings")
    status = 422 if form.is_bound else 200
    preview = render_reply(request.user.signature) if request.user.signature else ""
    return render(
        request,
        "tickets/mail/signature_settings.html",
        {"form": form, "preview": preview},
        status=status,
    )


@agent_required
@require_POST
def reply_preview(request: AuthedRequest, number: int) -> HttpResponse:
    """The reply box's Markdown as the customer will read it, with the signature."""
    ticket = get_ticket_for(request.user, number)
    body = request.POST.get("body", "")[:BODY_MAX]
    context = {
        "body_html": render_reply(body),
        "signature_html": render_reply(compose.signature_for(request.user, ticket)),
        "has_images": bool(inline_image_names(body)),
    }
    return render(request, "tickets/mail/_reply_preview.html", context)
