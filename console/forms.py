"""The settings area's forms: they validate shapes and say what is wrong; the services
(console.agents, console.tokens, tickets.calendars) save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpdesk.signin import identity
from tickets.models import STAFF_ROLES, Role, Team, User

STAFF_CHOICES = [(role.value, role.label) for role in STAFF_ROLES]


def staff_only_teams() -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        queryset=Team.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Teams"),
        help_text=gettext_lazy("Agents see the tickets of their teams' mailboxes."),
    )


class InviteForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Email address"), max_length=254)
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=150, required=False)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=STAFF_CHOICES, initial=Role.AGENT)
    teams = staff_only_teams()
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the invitation"),
        choices=settings.LANGUAGES,
        required=False,
        help_text=gettext_lazy("The invitation mail is written in it."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The inviter's own language, unless they choose another.
        self.fields["language"].initial = translation.get_language() or settings.LANGUAGE_CODE

    def clean_language(self) -> str:
        return self.cleaned_data.get("language") or translation.get_language()

    def clean_email(self) -> str:
        email = identity(self.cleaned_data["email"])
        taken = (
            User.objects.filter(email__iexact=email).first()
            or User.objects.filter(username__iexact=email).first()
        )
        if taken is not None:
            if taken.role == Role.CUSTOMER:
                raise forms.ValidationError(
                    _("This address signs in to the customer portal; invite a staff address.")
                )
            raise forms.ValidationError(_("Someone on the team already has this address."))
        return email


class AgentForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=STAFF_CHOICES)
    teams = staff_only_teams()
    is_away = forms.BooleanField(
        label=gettext_lazy("Away"),
        required=False,
        help_text=gettext_lazy("Skipped by automatic assignment."),
    )

    def __init__(self, *args: Any, editor: User, agent: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editor, self.agent = editor, agent

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        if self.agent.pk == self.editor.pk and role != Role.ADMIN and self.agent.is_admin:
            raise forms.ValidationError(
                _("You cannot take the admin role from yourself; ask another admin.")
            )
        return role


class AcceptInviteForm(forms.Form):
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=150)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=150, required=False)
    password1 = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=gettext_lazy("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            self.user.first_name = data.get("first_name", "")
            self.user.last_name = data.get("last_name", "")
            try:
                password_validation.validate_password(first, self.user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class TeamForm(forms.ModelForm):
    tier = forms.IntegerField(
        min_value=1,
        max_value=9,
        required=False,
        initial=1,
        label=gettext_lazy("Tier"),
        help_text=gettext_lazy("1 = first line. A move to a higher tier counts as an escalation."),
    )
    members = forms.ModelMultipleChoiceField(
        # Staff only: a customer in a team would see that team's tickets.
        queryset=User.objects.filter(role__in=STAFF_ROLES).order_by("first_name", "email"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Members"),
    )

    class Meta:
        model = Team
        fields = ("name", "tier", "members")
        labels = {"name": gettext_lazy("Name")}
        error_messages = {"name": {"unique": gettext_lazy("A team with this name already exists.")}}

    def clean_tier(self) -> int:
        return self.cleaned_data.get("tier") or 1
