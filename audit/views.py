"""The audit log for admins: a filtered, paginated page and its CSV export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django import forms
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET

from audit.models import AuditKind
from audit.selectors import AuditFilter, audit_entries, audit_page
from helpdesk.spreadsheet import streamed_csv
from tickets.permissions import AuthedRequest, admin_required

CSV_HEADER = ["at", "kind", "action", "actor", "ip", "target", "target id", "before", "after"]


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=254)
    kind = forms.ChoiceField(
        required=False, choices=[("", gettext_lazy("Any kind")), *AuditKind.choices]
    )
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", gettext("The end date is before the start date."))
        return data

    def filters(self) -> AuditFilter:
        data = self.cleaned_data if self.is_valid() else {}
        return AuditFilter(
            actor=(data.get("actor") or "").strip(),
            kind=data.get("kind") or "",
            start=data.get("start"),
            end=data.get("end"),
        )


def _cursor(value: str) -> tuple[datetime, int] | None:
    """`<ISO time>_<id>` of the last row of the page before; anything else is page one."""
    at, _, pk = value.rpartition("_")
    parsed = parse_datetime(at) if at else None
    return (parsed, int(pk)) if parsed is not None and pk.isdigit() else None


@require_GET
@admin_required
def audit_log(request: AuthedRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.filters()
    entries, more = audit_page(filters, _cursor(request.GET.get("after", "")))
    query = request.GET.copy()
    query.pop("after", None)
    if more is not None:
        query["after"] = f"{more[0].isoformat()}_{more[1]}"
    return render(
        request,
        "audit/log.html",
        {
            "form": form,
            "entries": entries,
            "next_query": query.urlencode() if more is not None else "",
            "export_query": request.GET.urlencode(),
        },
    )


def _rows(filters: AuditFilter) -> Iterator[list[Any]]:
    yield CSV_HEADER
    for entry in audit_entries(filters).iterator(chunk_size=2000):
        yield [
            entry.at.isoformat(),
            entry.kind,
            entry.action,
            entry.actor_label,
            entry.ip or "",
            entry.target_label,
            f"{entry.target_type} {entry.target_id}".strip(),
            "" if entry.before is None else _json(entry.before),
            "" if entry.after is None else _json(entry.after),
        ]


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@require_GET
@admin_required
def audit_export(request: AuthedRequest) -> HttpResponseBase:
    form = AuditFilterForm(request.GET or None)
    return streamed_csv("audit-log", _rows(form.filters()))
