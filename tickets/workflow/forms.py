"""Forms of the workflow screens: rule builder, SLA policies, canned replies, snooze,
reminders, merge, outreach. They validate and translate what people type (names, emails,
labels) into what the rule engine stores (ids and values); services do the rest.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tickets.models import BODY_MAX, Kind, Mailbox, Organization, Priority, Status, Team, User
from tickets.services import InvalidChange, clean_tags, normalize_tags
from tickets.workflow import automation, collab
from tickets.workflow.models import AutomationRule, CannedReply, MatchMode, SlaPolicy, Trigger

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

_CHOICES = {"priority": Priority, "kind": Kind, "status": Status}


def _choice_value(kind: str, text: str) -> str:
    enum = _CHOICES[kind]
    wanted = text.strip().lower()
    # The value ("on_hold"), its words ("on hold") or its label in the reader's language.
    for value, label in enum.choices:
        if wanted in (value, value.replace("_", " "), label.lower()):
            return value
    names = ", ".join(str(label) for _value, label in enum.choices)
    message = {
        "priority": gettext("“%(text)s” is not a priority; use one of: %(names)s."),
        "kind": gettext("“%(text)s” is not a kind; use one of: %(names)s."),
        "status": gettext("“%(text)s” is not a status; use one of: %(names)s."),
    }[kind]
    raise ValidationError(message % {"text": text, "names": names})


def _split(text: str) -> list[str]:
    return [part.strip() for part in str(text).split(",") if part.strip()]


def _lookup(model: Any, text: str, fields: tuple[str, ...], not_found: Any) -> int:
    """The id of the row one of `fields` names; else `not_found` (%(name)s: the text)."""
    for name in fields:
        found = model.objects.filter(**{f"{name}__iexact": text.strip()}).values_list(
            "pk", flat=True
        )
        if found:
            return int(found[0])
    raise ValidationError(str(not_found) % {"name": text.strip()})


def _display(kind: str, value: Any) -> str:
    """A stored value as the rule builder shows it again (ids back to names)."""
    values = value if isinstance(value, list) else [value]
    if kind == "mailbox":
        names = dict(Mailbox.objects.filter(pk__in=values).values_list("pk", "address"))
    elif kind == "organization":
        names = dict(Organization.objects.filter(pk__in=values).values_list("pk", "name"))
    elif kind == "team":
        names = dict(Team.objects.filter(pk__in=values).values_list("pk", "name"))
    elif kind == "agent":
        names = dict(User.objects.filter(pk__in=values).values_list("pk", "email"))
    elif kind == "canned":
        names = dict(CannedReply.objects.filter(pk__in=values).values_list("pk", "title"))
    else:
        return ", ".join(str(v) for v in values)
    return ", ".join(str(names.get(v, v)) for v in values)


def condition_choices() -> list[tuple[str, StrOrPromise]]:
    """What a condition can check: the built-in properties, then each ticket field."""
    built_in = [(k, c.label) for k, c in automation.CONDITIONS.items()]
    return [("", gettext("— choose —")), *built_in, *automation.fields.condition_choices()]


def action_choices() -> list[tuple[str, StrOrPromise]]:
    """What an action can do: the built-in ones, then setting each ticket field."""
    built_in = list(automation.ACTION_LABELS.items())
    return [("", gettext("— choose —")), *built_in, *automation.fields.action_choices()]


OP_CHOICES = [("", "—"), *automation.OPERATOR_LABELS.items()]

# What the value box of each action holds, for parsing and for the hint under the form.
ACTION_VALUES = {
    "set_team": "team",
    "set_assignee": "agent",
    "set_priority": "priority",
    "raise_priority": "priority",
    "set_kind": "kind",
    "set_status": "status",
    "add_tags": "tags",
    "remove_tags": "tags",
    "add_note": "text",
    "send_reply": "text",
    "send_canned_reply": "canned",
    "notify": "recipient",
    "apply_routing": "confidence",
}


class ConditionRow(forms.Form):
    field = forms.ChoiceField(choices=condition_choices, required=False, label=_("If"))
    op = forms.ChoiceField(choices=OP_CHOICES, required=False, label=_("Comparison"))
    value = forms.CharField(max_length=500, required=False, label=_("Value"))

    def to_condition(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        name, text = data.get("field"), (data.get("value") or "").strip()
        if not name:
            if text:
                raise ValidationError(
                    _("Choose what to check for the value “%(v)s”."), params={"v": text}
                )
            return None
        definition = automation.fields.definition_for(name, automation.fields.CONDITION_PREFIX)
        if definition is not None:
            op = data.get("op") or ""
            parsed = automation.fields.parse_value(definition, op, text)
            return {"field": name, "op": op, "value": parsed}
        kind = automation.CONDITIONS[name].value
        value: Any = text
        if kind == "mailbox":
            value = [
                _lookup(Mailbox, t, ("address", "name"), _("No mailbox called “%(name)s”."))
                for t in _split(text)
            ]
        elif kind == "organization":
            value = [
                _lookup(Organization, t, ("name",), _("No organization called “%(name)s”."))
                for t in _split(text)
            ]
        elif kind in _CHOICES:
            value = [_choice_value(kind, t) for t in _split(text)]
        elif name == "customer":
            value = [t.lower() for t in _split(text)]
        elif kind == "number":
            try:
                value = float(text)
            except ValueError:
                raise ValidationError(
                    gettext("“%(label)s” needs a number.")
                    % {"label": automation.CONDITIONS[name].label}
                ) from None
        return {"field": name, "op": data.get("op"), "value": value}


class ActionRow(forms.Form):
    type = forms.ChoiceField(choices=action_choices, required=False, label=_("Then"))
    value = forms.CharField(
        max_length=5000, required=False, label=_("Value"), widget=forms.Textarea(attrs={"rows": 1})
    )

    def to_action(self) -> dict[str, Any] | None:
        kind, text = self.cleaned_data.get("type"), (self.cleaned_data.get("value") or "").strip()
        if not kind:
            if text:
                raise ValidationError(
                    _("Choose what to do with the value “%(v)s”."), params={"v": text}
                )
            return None
        definition = automation.fields.definition_for(kind, automation.fields.ACTION_PREFIX)
        if definition is not None:
            return {"type": kind, "value": automation.fields.parse_value(definition, "is", text)}
        holds = ACTION_VALUES.get(kind)
        value: Any = text
        if holds == "team":
            value = _lookup(Team, text, ("name",), _("No team called “%(name)s”."))
        elif holds == "agent":
            value = _lookup(User, text, ("email", "username"), _("No agent called “%(name)s”."))
        elif holds in _CHOICES:
            value = _choice_value(holds, text)
        elif holds == "tags":
            value = normalize_tags(_split(text))
        elif holds == "canned":
            value = _lookup(
                CannedReply,
                text,
                ("title",),
                _("No shared canned reply called “%(name)s”."),
            )
        elif holds == "recipient":
            value = (
                text.lower()
                if text.lower() in ("assignee", "team")
                else _lookup(User, text, ("email", "username"), _("No agent called “%(name)s”."))
            )
        elif holds == "confidence":
            try:
                value = float(text)
            except ValueError:
                value = -1.0
            if not 0 < value <= 1:
                raise ValidationError(
                    _("The confidence is a number above 0 and at most 1, e.g. 0.9.")
                )
        elif holds is None:
            value = None
        return {"type": kind, "value": value}


ConditionFormSet = formset_factory(ConditionRow, extra=2, max_num=12)
ActionFormSet = formset_factory(ActionRow, extra=2, max_num=12)


class RuleForm(forms.ModelForm):
    class Meta:
        model = AutomationRule
        fields = ["name", "trigger", "match", "is_active", "position"]
        labels = {"is_active": _("Active"), "position": _("Order (lower runs first)")}

    trigger = forms.ChoiceField(choices=Trigger.choices, label=_("When"))
    match = forms.ChoiceField(choices=MatchMode.choices, label=_("Conditions"))


def rule_initial(rule: AutomationRule) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    conditions = [
        {
            "field": c.get("field"),
            "op": c.get("op"),
            "value": _display(automation.CONDITIONS[c["field"]].value, c.get("value"))
            if c.get("field") in automation.CONDITIONS
            else _display("field", c.get("value"))
            if c.get("value") is not None
            else "",
        }
        for c in rule.conditions
    ]
    actions = []
    for a in rule.actions:
        holds = ACTION_VALUES.get(a.get("type", ""), "")
        value = a.get("value")
        shown = (
            value
            if holds == "recipient" and value in ("assignee", "team")
            else _display(holds, value)
            if value is not None
            else ""
        )
        actions.append({"type": a.get("type"), "value": shown})
    return conditions, actions


def _parse_rows(
    rows: Any, label: StrOrPromise, parse: str
) -> tuple[list[dict[str, Any]], list[str]]:
    parsed: list[dict[str, Any]] = []
    errors: list[str] = []
    for n, row in enumerate(rows, 1):
        if not row.is_valid():
            errors.append(str(label) % {"n": n, "problem": gettext("check the row.")})
            continue
        try:
            item = getattr(row, parse)()
        except ValidationError as exc:
            errors.extend(str(label) % {"n": n, "problem": m} for m in exc.messages)
            continue
        if item:
            parsed.append(item)
    return parsed, errors


def rule_definition(
    form: RuleForm, conditions: Any, actions: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Conditions and actions from the builder rows, and every problem found."""
    parsed_conditions, errors = _parse_rows(
        conditions, _("Condition %(n)s: %(problem)s"), "to_condition"
    )
    parsed_actions, action_errors = _parse_rows(
        actions, _("Action %(n)s: %(problem)s"), "to_action"
    )
    errors += action_errors
    if not errors:
        trigger = form.cleaned_data.get("trigger", "") if form.is_valid() else ""
        errors = automation.validate_rule(trigger, parsed_conditions, parsed_actions)
    return parsed_conditions, parsed_actions, errors


class SlaPolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = [
            "name",
            "priority",
            "mailbox",
            "organization",
            "kind",
            "first_response_hours",
            "resolution_hours",
            "warn_before_minutes",
            "is_active",
        ]
        labels = {
            "first_response_hours": _("First response within (business hours)"),
            "resolution_hours": _("Resolution within (business hours)"),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("first_response_hours") is None and data.get("resolution_hours") is None:
            raise ValidationError(_("Set a first-response target, a resolution target, or both."))
        for name in ("first_response_hours", "resolution_hours"):
            value = data.get(name)
            if value is not None and value <= 0:
                self.add_error(name, _("Use a number of hours above zero."))
        return data


class CannedReplyForm(forms.ModelForm):
    shared = forms.BooleanField(
        required=False, label=_("Shared"), help_text=_("Visible to every agent.")
    )
    set_status = forms.ChoiceField(
        choices=[("", _("Leave as is")), *Status.choices], required=False, label=_("Set status")
    )
    set_priority = forms.ChoiceField(
        choices=[("", _("Leave as is")), *Priority.choices], required=False, label=_("Set priority")
    )
    add_tags = forms.CharField(
        max_length=500, required=False, label=_("Add tags"), help_text=_("Comma-separated")
    )
    assign_to_me = forms.BooleanField(required=False, label=_("Assign to the agent who uses it"))

    class Meta:
        model = CannedReply
        fields = ["title", "body"]
        labels = {"title": _("Title"), "body": _("Text")}
        help_texts = {
            "body": format_lazy(
                "{}{}",
                _("Placeholders: "),
                ", ".join("{{" + p + "}}" for p in collab.PLACEHOLDERS),
            )
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        changes = self.instance.changes or {}
        self.initial.setdefault(
            "shared", self.instance.pk is not None and self.instance.owner_id is None
        )
        self.initial.setdefault("set_status", changes.get("status", ""))
        self.initial.setdefault("set_priority", changes.get("priority", ""))
        self.initial.setdefault("add_tags", ", ".join(changes.get("add_tags", [])))
        self.initial.setdefault("assign_to_me", bool(changes.get("assign_to_me")))
        if not user.sees_everything:
            del self.fields["shared"]

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        unknown = collab.unknown_placeholders(body)
        if unknown:
            raise ValidationError(
                _("Unknown placeholder(s): %(names)s."), params={"names": ", ".join(unknown)}
            )
        return body

    def save(self, commit: bool = True) -> CannedReply:
        canned = super().save(commit=False)
        data = self.cleaned_data
        canned.owner = None if data.get("shared") else (canned.owner or self.user)
        changes: dict[str, Any] = {}
        if data.get("set_status"):
            changes["status"] = data["set_status"]
        if data.get("set_priority"):
            changes["priority"] = data["set_priority"]
        if data.get("add_tags"):
            changes["add_tags"] = normalize_tags(_split(data["add_tags"]))
        if data.get("assign_to_me"):
            changes["assign_to_me"] = True
        canned.changes = changes
        if commit:
            canned.save()
        return canned


class FutureTimeField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"})

    def clean(self, value: Any) -> datetime:
        result = super().clean(value)
        if result is not None and result <= timezone.now():
            raise ValidationError(_("Choose a time in the future."))
        return result


class SnoozeForm(forms.Form):
    until = FutureTimeField(
        label=_("Snooze until"), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )


class ReminderForm(forms.Form):
    remind_at = FutureTimeField(
        label=_("Remind me at"), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )
    note = forms.CharField(max_length=500, required=False, label=_("Note"))


class MacroForm(forms.Form):
    """The canned reply's text as the agent edited it; left out, the saved text is sent."""

    body = forms.CharField(max_length=BODY_MAX, required=False)

    def clean_body(self) -> str | None:
        return self.cleaned_data["body"].strip() or None


class MergeForm(forms.Form):
    into = forms.IntegerField(min_value=1, label=_("Merge into ticket #"))
    # Set by the confirmation page of a merge of two customers' tickets.
    confirm_different_customers = forms.BooleanField(required=False)


class OutreachForm(forms.Form):
    mailbox = forms.ModelChoiceField(
        queryset=Mailbox.objects.none(), empty_label=None, label=_("Mailbox")
    )
    recipients = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label=_("Recipients"),
        help_text=_("Email addresses separated by commas, semicolons or new lines."),
    )
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.all(),
        required=False,
        label=_("Organization"),
        help_text=_("Also write to every customer of this organization."),
    )
    subject = forms.CharField(max_length=200, label=_("Subject"))
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=100_000,
        label=_("Message"),
        help_text=format_lazy(
            "{}{}",
            _("Placeholders: "),
            "{{customer.first_name}}, {{ticket.number}}, {{agent.name}}…",
        ),
    )
    tags = forms.CharField(
        max_length=200, required=False, label=_("Tags"), help_text=_("Comma-separated")
    )

    MAX_RECIPIENTS = 500

    def __init__(self, *args: Any, mailboxes: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mailbox"].queryset = mailboxes  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        parsed = collab.parse_recipients(data.get("recipients", ""), data.get("organization"))
        if parsed.invalid:
            self.add_error(
                "recipients",
                gettext("Not an email address: %(addresses)s")
                % {"addresses": ", ".join(parsed.invalid[:10])},
            )
        elif not parsed.emails:
            self.add_error(
                "recipients", gettext("Add at least one address or choose an organization.")
            )
        elif len(parsed.emails) > self.MAX_RECIPIENTS:
            self.add_error(
                "recipients",
                gettext("At most %(count)s recipients at once.") % {"count": self.MAX_RECIPIENTS},
            )
        unknown = collab.unknown_placeholders(data.get("body", ""))
        if unknown:
            self.add_error(
                "body",
                gettext("Unknown placeholder(s): %(names)s.") % {"names": ", ".join(unknown)},
            )
        data["emails"] = parsed.emails
        try:
            data["tag_list"] = clean_tags(_split(data.get("tags", "")))
        except InvalidChange as refusal:
            self.add_error("tags", str(refusal))
        return data
