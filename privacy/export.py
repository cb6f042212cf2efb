"""Everything the desk holds about a customer, as a zip (specs/api.md, "Privacy").

`customer.json`: the profile, its fields, organization and portal account, and the
survey answers of no ticket (NPS). `tickets.json`: their tickets with every message,
event and survey answer. `attachments/<message id>/<attachment id>-<file name>`: the
files, each named in tickets.json under its message.
"""

from __future__ import annotations

import json
import zipfile
from typing import IO, Any

from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Prefetch

from audit import services as audit
from audit.models import AuditKind
from audit.services import Actor
from kb.models import ArticleFeedback
from metrics.models import SurveyResponse
from tickets.models import Attachment, Customer, Message, Ticket, TicketEvent


def _fields(row: models.Model, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A row's own fields (foreign keys as ids), whatever fields its model has."""
    return {
        field.name: getattr(row, field.attname)
        for field in row._meta.concrete_fields
        if field.name not in skip and not isinstance(field, models.GeneratedField)
    }


def _attachment_path(attachment: Attachment) -> str:
    name = attachment.filename.replace("/", "_").replace("\\", "_") or "file"
    return f"attachments/{attachment.message_id}/{attachment.pk}-{name}"


def _profile(customer: Customer) -> dict[str, Any]:
    profile = _fields(customer)
    profile["organization"] = (
        {"id": customer.organization.pk, "name": customer.organization.name}
        if customer.organization
        else None
    )
    profile["other_emails"] = sorted(customer.emails.values_list("email", flat=True))
    user = customer.user
    profile["user"] = (
        {
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
        }
        if user
        else None
    )
    answers = SurveyResponse.objects.filter(customer=customer, ticket__isnull=True)
    profile["survey_answers"] = [
        _fields(answer, skip=("customer", "assignee")) for answer in answers.order_by("pk")
    ]
    profile["article_feedback"] = (
        [
            {
                "article": f.article_id,
                "helpful": f.helpful,
                "comment": f.comment,
                "at": f.created_at,
            }
            for f in ArticleFeedback.objects.filter(user=user).order_by("pk")
        ]
        if user
        else []
    )
    return profile


def _tickets(customer: Customer) -> list[dict[str, Any]]:
    tickets = (
        Ticket.objects.filter(customer=customer)
        .select_related("mailbox")
        .prefetch_related(
            Prefetch(
                "messages",
                Message.objects.prefetch_related("attachments").order_by("created_at", "id"),
            ),
            Prefetch("events", TicketEvent.objects.order_by("at", "id")),
            "survey_responses",
        )
        .order_by("number")
    )
    skip_message = ("ticket", "search_vector", "dedupe_key")
    return [
        {
            **_fields(ticket, skip=("customer", "search_vector")),
            "mailbox": ticket.mailbox.address,
            "messages": [
                {
                    **_fields(message, skip=skip_message),
                    "attachments": [
                        {
                            "filename": a.filename,
                            "content_type": a.content_type,
                            "size": a.size,
                            "path": _attachment_path(a),
                        }
                        for a in message.attachments.all()
                    ],
                }
                for message in ticket.messages.all()
            ],
            "events": [_fields(event, skip=("ticket",)) for event in ticket.events.all()],
            "survey_answers": [
                _fields(answer, skip=("customer", "ticket", "assignee"))
                for answer in ticket.survey_responses.all()
            ],
        }
        for ticket in tickets
    ]


def _dump(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)


def export_customer(
    customer: Customer, out: IO[bytes], *, actor: Actor = None, actor_label: str = ""
) -> int:
    """Write the customer's zip to `out` and record the export; returns the ticket count."""
    tickets = _tickets(customer)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("customer.json", _dump(_profile(customer)))
        archive.writestr("tickets.json", _dump(tickets))
        attachments = Attachment.objects.filter(message__ticket__customer=customer).order_by("pk")
        for attachment in attachments.iterator():
            try:
                with (
                    default_storage.open(attachment.file.name or "", "rb") as source,
                    archive.open(_attachment_path(attachment), "w") as target,
                ):
                    while chunk := source.read(1 << 20):
                        target.write(chunk)
            except OSError:
                # A file gone from the media store: the listing in tickets.json still names it.
                continue
    audit.record_about_customer(
        AuditKind.EXPORT,
        "customer exported",
        customer,
        actor=actor,
        actor_label=actor_label,
        data={"tickets": len(tickets)},
    )
    return len(tickets)
