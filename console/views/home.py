from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tickets.permissions import AuthedRequest, agent_required


@require_GET
@agent_required
def home(request: AuthedRequest) -> HttpResponse:
    """The settings this user may change: agents their API tokens, managers the workflow's
    too, admins everything."""
    return render(request, "console/home.html")
