"""Forms of the customer and organization pages. They check shapes; the rules (addresses
and domains nobody else has) are the services', whose refusals the views put back on
the field they name."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tickets.models import Customer, Organization, User
from tickets.services import Profile

_SEPARATORS = re.compile(r"[\s,;]+")


def _items(text: str) -> list[str]:
    return [item for item in _SEPARATORS.split(text) if item]


class CustomerForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, label=_("Name"))
    emails = forms.CharField(
        label=_("Other email addresses"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One a line. Mail from any of them is this customer's."),
    )
    phone = forms.CharField(max_length=50, required=False, label=_("Phone"))
    organization = forms.CharField(
        max_length=200,
        required=False,
        label=_("Organization"),
        help_text=_("The name of an existing organization."),
    )
    notes = forms.CharField(
        required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4}), label=_("Notes")
    )

    @classmethod
    def of(cls, customer: Customer) -> CustomerForm:
        return cls(
            initial={
                "name": customer.name,
                "emails": "\n".join(e.email for e in customer.emails.all()),
                "phone": customer.phone,
                "organization": customer.organization.name if customer.organization else "",
                "notes": customer.notes,
            }
        )

    def clean_phone(self) -> str:
        phone: str = self.cleaned_data["phone"].strip()
        if phone and not re.fullmatch(r"[0-9+()./ -]{3,50}", phone):
            raise ValidationError(gettext("Digits, spaces and + ( ) - . / only."))
        return phone

    def clean_organization(self) -> Organization | None:
        name = self.cleaned_data["organization"].strip()
        if not name:
            return None
        organization = Organization.objects.filter(name__iexact=name).first()
        if organization is None:
            raise ValidationError(
                gettext("There is no organization named “%(name)s”.") % {"name": name}
            )
        return organization

    def profile(self) -> Profile:
        data = self.cleaned_data
        return Profile(
            name=data["name"],
            phone=data["phone"],
            notes=data["notes"],
            organization=data["organization"],
            emails=_items(data["emails"]),
        )


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))
    domains = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Domains"),
        help_text=_("One a line, e.g. acme.com. A new customer with an address there joins."),
    )
    notes = forms.CharField(
        required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4}), label=_("Notes")
    )
    owner = forms.ModelChoiceField(
        User.objects.acting_agents().order_by("first_name", "email"),
        required=False,
        empty_label=_("Nobody"),
        label=_("Account owner"),
        help_text=_("The agent who looks after this account: it shows in their “My accounts”."),
    )

    @classmethod
    def of(cls, organization: Organization) -> OrganizationForm:
        return cls(
            initial={
                "owner": organization.success_contact_id,
                "name": organization.name,
                "domains": "\n".join(d.domain for d in organization.domains.all()),
                "notes": organization.notes,
            }
        )

    def domain_list(self) -> list[str]:
        return _items(self.cleaned_data["domains"])


class AddressForm(forms.Form):
    """A customer named by address: the other customer of a merge, a new requester."""

    email = forms.CharField(max_length=254, label=_("Email"))

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"].strip().lower()
        validate_email(email)
        return email

    def error_text(self) -> str:
        errors: Any = self.errors
        return " ".join(e for errs in errors.values() for e in errs)
