"""Forms of the agent workspace. They only validate; views hand clean data to services."""

from __future__ import annotations

from email.utils import getaddresses
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import QueryDict
from django.template.defaultfilters import filesizeformat
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from tickets.models import (
    BODY_MAX,
    RECORDED_CHANNELS,
    AppliesTo,
    Channel,
    FieldDefinition,
    FieldType,
    Kind,
    Mailbox,
    Priority,
    Status,
    Team,
    User,
    ViewScope,
)
from tickets.saved_views import COLUMNS
from tickets.selectors import (
    SLA_FILTERS,
    SORTS,
    VIEWS,
    InboxQuery,
    assignable_agents,
    visible_mailboxes,
)
from tickets.services import (
    FILTER_PREFIX,
    FieldErrors,
    InvalidChange,
    clean_tags,
    definitions,
    field_filters,
    normalize_tags,
)
from tickets.services.fields import TEXT_MAX_LENGTH

BULK_MAX = 500
MAX_FIELD_COLUMNS = 5
CC_MAX = 20


def _clean_tags(text: str) -> list[str]:
    """Comma-separated tags, checked by the rule every change obeys (services.clean_tags)."""
    try:
        return clean_tags(text.split(","))
    except InvalidChange as refusal:
        raise ValidationError(str(refusal)) from None


def _blank(choices: Any, label: Any = None) -> list[tuple[str, Any]]:
    return [("", _("Any") if label is None else label), *choices]


class InboxFilterForm(forms.Form):
    """The inbox's query string. Unknown or bad values are dropped, never a 500."""

    view = forms.ChoiceField(choices=list(VIEWS.items()), required=False)
    status = forms.ChoiceField(choices=_blank(Status.choices), required=False)
    priority = forms.ChoiceField(choices=_blank(Priority.choices), required=False)
    kind = forms.ChoiceField(choices=_blank(Kind.choices), required=False)
    channel = forms.ChoiceField(choices=_blank(Channel.choices), required=False)
    tag = forms.CharField(max_length=50, required=False)
    assignee = forms.CharField(max_length=20, required=False)
    mailbox = forms.IntegerField(min_value=1, required=False)
    team = forms.IntegerField(min_value=1, required=False)
    sort = forms.ChoiceField(choices=list(SORTS.items()), required=False)
    sla = forms.ChoiceField(choices=_blank(list(SLA_FILTERS.items())), required=False)
    cursor = forms.CharField(max_length=80, required=False)

    def clean_assignee(self) -> str:
        value = self.cleaned_data["assignee"].strip()
        if value and value != "none" and not value.isdecimal():
            raise ValidationError(gettext("Choose an agent or “Unassigned”."))
        return value

    def clean_tag(self) -> str:
        tags = normalize_tags([self.cleaned_data["tag"]])
        return tags[0] if tags else ""

    def to_query(self) -> InboxQuery:
        self.is_valid()
        data = {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v not in ("", None)}
        if data.get("view") == "mine" and data.get("assignee"):
            data.pop("assignee")
        data["fields"] = tuple(self._field_filters())
        return InboxQuery(**data)

    def field_columns(self) -> list[FieldDefinition]:
        """The custom fields shown as columns (`col=<key>`, repeated; at most five)."""
        known = definitions(AppliesTo.TICKET)
        wanted = (
            dict.fromkeys(str(key) for key in self.data.getlist("col"))
            if isinstance(self.data, MultiValueDict)
            else {}
        )
        return [known[key] for key in wanted if key in known][:MAX_FIELD_COLUMNS]

    def field_controls(self, query: InboxQuery) -> list[tuple[FieldDefinition, str]]:
        """Each active ticket field with the value it filters by now ("" for any)."""
        chosen = dict(query.fields)
        return [
            (definition, chosen.get(FILTER_PREFIX + key, ""))
            for key, definition in definitions(AppliesTo.TICKET).items()
        ]

    def _field_filters(self) -> list[tuple[str, str]]:
        """`field.<key>=<value>` pairs the ticket fields can filter by, as the API takes
        them (services.field_filters); a bad one is dropped."""
        pairs = []
        for name in self.data:
            if name.startswith(FILTER_PREFIX) and str(self.data.get(name, "")).strip():
                pair = (name, str(self.data.get(name, ""))[:200])
                try:
                    field_filters(dict([pair]))
                except FieldErrors:
                    continue
                pairs.append(pair)
        return sorted(pairs)[:10]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (Django's documented pattern for `multiple`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


MAX_ATTACHMENTS = 10


class AttachmentsMixin(forms.Form):
    attachments = MultipleFileField(required=False)

    def clean_attachments(self) -> list[Any]:
        files = self.cleaned_data["attachments"]
        if len(files) > MAX_ATTACHMENTS:
            raise ValidationError(
                gettext("Attach at most %(count)s files.") % {"count": MAX_ATTACHMENTS}
            )
        limit = settings.MAX_UPLOAD_BYTES
        for upload in files:
            if upload.size > limit:
                raise ValidationError(
                    gettext("“%(name)s” is too large; files may be at most %(size)s.")
                    % {"name": upload.name, "size": filesizeformat(limit)}
                )
        return files


class ReplyForm(AttachmentsMixin):
    body = forms.CharField(
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        label=pgettext_lazy("a message", "Reply"),
    )
    status_after = forms.ChoiceField(
        choices=[
            ("", _("Keep status")),
            (Status.OPEN, _("and set Open")),
            (Status.PENDING, _("and set Pending")),
            (Status.ON_HOLD, _("and set On hold")),
            (Status.SOLVED, _("and set Solved")),
        ],
        required=False,
        label=_("Then"),
    )
    cc = forms.CharField(
        max_length=4000,
        required=False,
        label=_("Cc"),
        help_text=_("Addresses that get a copy, separated by commas"),
    )
    # A macro inserted into the reply box: its changes apply when the reply is sent.
    macro = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean_cc(self) -> list[str]:
        """The thread's Cc as the agent left it: valid addresses, each once, in order."""
        addresses: dict[str, None] = {}
        value = self.cleaned_data["cc"].replace(";", ",").replace("\n", ",")
        for name, address in getaddresses([value]):
            address = address.strip().lower()
            if not address and not name:
                continue
            try:
                validate_email(address)
            except ValidationError:
                shown = address or name
                raise ValidationError(
                    gettext("%(address)s is not an email address.") % {"address": repr(shown)}
                ) from None
            addresses.setdefault(address, None)
        if len(addresses) > CC_MAX:
            raise ValidationError(
                gettext("At most %(count)s addresses can be copied.") % {"count": CC_MAX}
            )
        return list(addresses)


class NoteForm(AttachmentsMixin):
    body = forms.CharField(
        max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 4}), label=_("Internal note")
    )


class TicketUpdateForm(forms.Form):
    """Any subset of the editable properties; only the fields posted are changed."""

    status = forms.ChoiceField(choices=Status.choices, label=_("Status"))
    priority = forms.ChoiceField(choices=Priority.choices, label=_("Priority"))
    kind = forms.ChoiceField(choices=Kind.choices, label=_("Kind"))
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Unassigned"),
        label=_("Assignee"),
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label=_("No team"), label=_("Team")
    )
    tags = forms.CharField(
        max_length=1000, required=False, label=_("Tags"), help_text=_("Comma-separated")
    )

    def __init__(self, *args: Any, mailbox: Mailbox, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only what was posted is validated and changed: each control saves on its own.
        # (The page renders its menus from tickets.directory: an unbound form needs no
        # querysets.)
        if self.is_bound:
            self.fields["assignee"].queryset = assignable_agents(mailbox)  # type: ignore[attr-defined]
            # The teams that work the ticket's mailbox: the rule of services.check_team.
            self.fields["team"].queryset = Team.objects.working_in(mailbox.pk)  # type: ignore[attr-defined]
            for name in list(self.fields):
                if name not in self.data:
                    del self.fields[name]

    def clean_tags(self) -> list[str]:
        return _clean_tags(self.cleaned_data["tags"])

    def changes(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class BulkForm(forms.Form):
    ACTIONS = [
        ("assign", _("Assign")),
        ("status", _("Set status")),
        ("tag", _("Add tag")),
        ("kind", _("Set kind")),
    ]

    action = forms.ChoiceField(choices=ACTIONS)
    tickets = forms.CharField(
        max_length=20_000, error_messages={"required": _("Select tickets first.")}
    )
    assignee = forms.CharField(max_length=20, required=False)
    status = forms.ChoiceField(choices=_blank(Status.choices, "—"), required=False)
    tag = forms.CharField(max_length=50, required=False)
    kind = forms.ChoiceField(choices=_blank(Kind.choices, "—"), required=False)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        if data is not None and hasattr(data, "getlist"):
            data = data.copy()
            data["tickets"] = ",".join(data.getlist("tickets"))
        super().__init__(data, **kwargs)

    def clean_tickets(self) -> list[int]:
        try:
            numbers = sorted({int(n) for n in self.cleaned_data["tickets"].split(",") if n.strip()})
        except ValueError:
            raise ValidationError(_("Ticket numbers must be whole numbers.")) from None
        if not numbers:
            raise ValidationError(_("Select tickets first."))
        if len(numbers) > BULK_MAX:
            raise ValidationError(
                gettext("At most %(count)s tickets at once.") % {"count": BULK_MAX}
            )
        return numbers

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        action = data.get("action")
        if action == "assign":
            value = (data.get("assignee") or "").strip()
            if value == "none":
                data["assignee_user"] = None
            else:
                agents = User.objects.acting_agents()
                agent = agents.filter(pk=int(value)).first() if value.isdecimal() else None
                if agent is None:
                    self.add_error("assignee", gettext("Choose an agent to assign."))
                data["assignee_user"] = agent
        elif action == "status" and not data.get("status"):
            self.add_error("status", gettext("Choose a status."))
        elif action == "kind" and not data.get("kind"):
            self.add_error("kind", gettext("Choose a kind."))
        elif action == "tag":
            tags = normalize_tags([data.get("tag") or ""])
            if not tags:
                self.add_error("tag", gettext("Enter a tag."))
            data["tag"] = tags[0] if tags else ""
        return data


class NewTicketForm(forms.Form):
    """A ticket on behalf of a customer (inbound) or an agent's outreach (outbound)."""

    customer_email = forms.EmailField(max_length=254, label=_("Customer email"))
    customer_name = forms.CharField(max_length=200, required=False, label=_("Customer name"))
    mailbox = forms.ModelChoiceField(
        queryset=Mailbox.objects.none(), empty_label=None, label=_("Mailbox")
    )
    channel = forms.ChoiceField(
        choices=[(c.value, c.label) for c in RECORDED_CHANNELS],
        label=_("Channel"),
        help_text=_("How the customer reached us."),
    )
    subject = forms.CharField(max_length=998, label=_("Subject"))
    body = forms.CharField(
        max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 8}), label=_("Message")
    )
    priority = forms.ChoiceField(
        choices=Priority.choices, initial=Priority.NORMAL, label=_("Priority")
    )
    tags = forms.CharField(
        max_length=1000, required=False, label=_("Tags"), help_text=_("Comma-separated")
    )
    assign_to_me = forms.BooleanField(required=False, initial=True, label=_("Assign to me"))

    def __init__(self, *args: Any, user: User, outreach: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outreach = outreach
        self.fields["mailbox"].queryset = visible_mailboxes(user).filter(is_active=True)  # type: ignore[attr-defined]
        if outreach:
            del self.fields["channel"]
            self.fields["body"].label = _("Message to the customer")
        else:
            self.fields["body"].label = _("What the customer asked")

    def clean_customer_email(self) -> str:
        email = self.cleaned_data["customer_email"].strip().lower()
        if Mailbox.objects.filter(address=email).exists():
            # Its replies would come back to us, and ingest refuses them as a mail loop.
            raise ValidationError(_("That is one of our own mailboxes, not a customer."))
        return email

    def clean_subject(self) -> str:
        subject = " ".join(self.cleaned_data["subject"].split())
        if not subject:
            raise ValidationError(_("Enter a subject."))
        return subject

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise ValidationError(_("Enter a message."))
        return body

    def clean_tags(self) -> list[str]:
        return _clean_tags(self.cleaned_data["tags"])


class SavedViewForm(forms.Form):
    """Save the inbox's current filters (`params`, its query string) as a view."""

    name = forms.CharField(max_length=80)
    params = forms.CharField(max_length=2000, required=False)
    columns = forms.MultipleChoiceField(choices=list(COLUMNS.items()), required=False)
    scope = forms.ChoiceField(choices=ViewScope.choices, required=False)
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)

    def query(self) -> InboxQuery:
        """The inbox query the saved filters make, read as the inbox reads them."""
        return InboxFilterForm(QueryDict(self.cleaned_data["params"])).to_query()


class RenameViewForm(forms.Form):
    name = forms.CharField(max_length=80)


def custom_form_field(definition: FieldDefinition, *, required: bool = False) -> forms.Field:
    """A form input for a custom field (the portal's request forms): it takes the value's
    shape; whether the value is right is `services.clean_fields`'s to say."""
    common: dict[str, Any] = {"label": definition.label, "required": required}
    kind = definition.type
    if kind == FieldType.CHOICE:
        choices = [("", gettext("Choose…")), *((c, c) for c in definition.choices)]
        return forms.ChoiceField(choices=choices, **common)
    if kind == FieldType.MULTICHOICE:
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in definition.choices],
            widget=forms.CheckboxSelectMultiple,
            **common,
        )
    if kind == FieldType.CHECKBOX:
        return forms.BooleanField(**common)
    if kind == FieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == FieldType.NUMBER:
        return forms.CharField(
            max_length=40, widget=forms.NumberInput(attrs={"step": "any"}), **common
        )
    return forms.CharField(max_length=TEXT_MAX_LENGTH, **common)
