"""Query-string filters of GET /api/v1/tickets/ and /customers/; bad values answer 400."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime
from django_filters.fields import IsoDateTimeField

from tickets.models import STAFF_ROLES, Customer, Kind, Mailbox, Status, Team, Ticket, User
from tickets.permissions import is_agent


class ChoiceInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """Comma-separated choices: ?status=open,pending."""


class EmailFilter(django_filters.Filter):
    field_class = forms.EmailField


class AwareIsoDateTimeField(IsoDateTimeField):
    """ISO 8601 with an offset, as specs/api.md gives every time: a bare local time is
    ambiguous. A "+" left unencoded in a query string arrives as a space; it is read back."""

    default_error_messages = {
        "naive": "Give the time with an offset (Z or +01:00): it is ambiguous without one.",
    }

    def to_python(self, value: Any) -> datetime | None:
        if isinstance(value, str):
            value = value.strip().replace(" ", "+")
            parsed = parse_datetime(value) if value else None
            if parsed is not None and parsed.tzinfo is None:
                raise ValidationError(self.error_messages["naive"], code="naive")
        return super().to_python(value)


class AwareIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = AwareIsoDateTimeField


class TicketFilter(django_filters.FilterSet):
    status = ChoiceInFilter(
        choices=Status.choices, help_text="One or more statuses, comma-separated."
    )
    kind = django_filters.ChoiceFilter(choices=Kind.choices)
    mailbox = django_filters.ModelChoiceFilter(
        queryset=Mailbox.objects.all(), to_field_name="address", help_text="Mailbox address."
    )
    assignee = django_filters.ModelChoiceFilter(
        queryset=User.objects.filter(role__in=STAFF_ROLES),
        to_field_name="email",
        null_label="Unassigned",
        null_value="none",
        help_text='An agent\'s email, or "none" for unassigned tickets.',
    )
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.all(),
        to_field_name="name",
        null_label="No team",
        null_value="none",
        help_text='Team name, or "none".',
    )
    tag = django_filters.CharFilter(method="filter_tag", max_length=50, help_text="A tag.")
    customer = EmailFilter(
        field_name="customer__email", lookup_expr="iexact", help_text="Customer email."
    )
    q = django_filters.CharFilter(
        method="filter_text",
        max_length=500,
        help_text="Full-text search over subjects and message bodies (web-search syntax).",
    )
    updated_after = AwareIsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gt",
        help_text="ISO 8601 time with an offset, e.g. 2026-03-02T09:15:00Z.",
    )

    class Meta:
        model = Ticket
        fields: list[str] = []

    def filter_tag(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        tag = "-".join(value.strip().lower().split())
        return queryset.filter(tags__contains=[tag]) if tag else queryset

    def filter_text(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        if not value.strip():
            return queryset
        include_notes = is_agent(getattr(self.request, "user", None))
        return queryset.matching(value, include_notes=include_notes)  # type: ignore[attr-defined]


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_text", max_length=200, help_text="Part of the email or name."
    )
    organization = django_filters.CharFilter(
        field_name="organization__name", lookup_expr="iexact", help_text="Organization name."
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_text(
        self, queryset: QuerySet[Customer], name: str, value: str
    ) -> QuerySet[Customer]:
        return queryset.filter(Q(email__icontains=value) | Q(name__icontains=value))
