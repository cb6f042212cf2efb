"""API tokens: each person's own (named, read-only or read-write, last used, revoke);
admins see and may revoke everyone's."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from console import tokens
from console.models import ApiToken, TokenScope
from tickets.permissions import AuthedRequest, agent_required


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What uses it, e.g. “CRM sync”."),
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("Access"),
        choices=TokenScope.choices,
        initial=TokenScope.READ,
        widget=forms.RadioSelect,
    )


def _visible(request: AuthedRequest) -> QuerySet[ApiToken]:
    found = ApiToken.objects.select_related("user").order_by("revoked_at", "-created_at")
    return found if request.user.is_admin else found.filter(user=request.user)


@never_cache
@require_http_methods(["GET", "POST"])
@agent_required
def token_list(request: AuthedRequest) -> HttpResponse:
    """The list and the form; after a POST the new key is shown once, on this answer."""
    form = TokenForm(request.POST or None)
    new_key = ""
    if request.method == "POST" and form.is_valid():
        _token, new_key = tokens.create_token(
            request.user,
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            actor=request.user,
        )
        form = TokenForm()
    status = 422 if form.is_bound and not new_key else 200
    context = {"form": form, "tokens": _visible(request), "new_key": new_key}
    return render(request, "console/tokens.html", context, status=status)


@require_POST
@agent_required
def token_revoke(request: AuthedRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(_visible(request), pk=pk)
    if tokens.revoke_token(token, actor=request.user):
        messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("console:tokens")
