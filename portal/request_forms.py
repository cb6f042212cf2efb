"""The portal's request forms: the rules of what a form may ask and where it routes,
checked here whichever door saves one (the settings page, the admin), each save in the
audit log. Filing a request through a form is portal.services.file_request.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from audit import services as audit
from audit.models import AuditKind
from portal.models import RequestForm
from tickets import services as ticket_services
from tickets.models import AppliesTo, Mailbox, Team


class FormRefused(Exception):
    """What is wrong with a request form, by attribute."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {text}" for name, text in errors.items()))


def active_forms() -> QuerySet[RequestForm]:
    """The forms the portal offers, in their order."""
    return RequestForm.objects.filter(active=True).order_by("position", "name")


def routed_mailbox(form: RequestForm | None) -> Mailbox | None:
    """The mailbox a form's requests go to: its own while active, else the default one."""
    if form is not None and form.mailbox is not None and form.mailbox.is_active:
        return form.mailbox
    return Mailbox.objects.filter(is_active=True).order_by("-is_default", "pk").first()


def form_errors(form: RequestForm) -> dict[str, str]:
    """What is wrong with a form, by attribute: fields that are not active ticket fields,
    required fields the form does not ask for, a team that does not work its mailbox."""
    errors: dict[str, str] = {}
    known = ticket_services.definitions(AppliesTo.TICKET)
    unknown = [key for key in form.fields if key not in known]
    if unknown:
        errors["fields"] = _("Not an active ticket field: %(keys)s.") % {"keys": ", ".join(unknown)}
    elif len(set(form.fields)) != len(form.fields):
        errors["fields"] = _("Each field once.")
    stray = [key for key in form.required if key not in form.fields]
    if stray:
        errors["required"] = _("Required but not on the form: %(keys)s.") % {
            "keys": ", ".join(stray)
        }
    team = form.team
    if team is not None:
        mailbox = routed_mailbox(form)
        if mailbox is None or not Team.objects.working_in(mailbox.pk).filter(pk=team.pk).exists():
            where = mailbox.address if mailbox else _("no mailbox")
            errors["team"] = _("Team %(team)s does not work in the form's mailbox (%(where)s).") % {
                "team": team.name,
                "where": where,
            }
    duplicate = RequestForm.objects.filter(name__iexact=form.name).exclude(pk=form.pk)
    if duplicate.exists():
        errors["name"] = _("There already is a form with this name.")
    return errors


@transaction.atomic
def save_request_form(form: RequestForm, *, actor: Any = None) -> RequestForm:
    """Create or update a form; FormRefused, saving nothing, when the rules refuse it."""
    errors = form_errors(form)
    if errors:
        raise FormRefused(errors)
    before = audit.stored_snapshot(RequestForm, form.pk)
    if form.pk is None and not form.position:
        last = RequestForm.objects.order_by("-position").values_list("position", flat=True).first()
        form.position = (last or 0) + 1
    form.save()
    audit.record_saved(AuditKind.SETTINGS, form, before)
    return form


@transaction.atomic
def set_form_active(form: RequestForm, active: bool, *, actor: Any = None) -> None:
    """Take a form out of the portal (its tickets keep their fields) or bring it back."""
    before = audit.stored_snapshot(RequestForm, form.pk)
    form.active = active
    form.save(update_fields=["active"])
    audit.record_change(AuditKind.SETTINGS, form, before, audit.snapshot(form), actor=actor)
