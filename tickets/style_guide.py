"""The style guide (/style/): every component of docs/design.md, live, for admins."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tickets.models import Priority, Status
from tickets.permissions import AuthedRequest, admin_required

SURFACES = ["bg", "surface", "surface-2", "surface-hover", "border", "border-strong"]
FEEDBACK = ["success", "success-soft", "warning", "warning-soft", "danger", "danger-soft"]
COLOURS = [
    ("Surfaces", [*SURFACES, "field-border"]),
    ("Text", ["text", "text-soft", "muted", "accent", "accent-strong"]),
    ("Fills", ["accent-fill", "accent-soft", "success-fill", "danger-fill", "note"]),
    ("Feedback", [*FEEDBACK, "info", "info-soft"]),
]
TYPE_SCALE = ["xs", "sm", "md", "lg", "xl", "2xl", "3xl"]
SPACING = [1, 2, 3, 4, 5, 6]


@admin_required
@require_GET
def style_guide(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "style/guide.html",
        {
            "colours": COLOURS,
            "type_scale": TYPE_SCALE,
            "spacing": SPACING,
            "statuses": Status.choices,
            "priorities": Priority.choices,
            "scores": [("csat", 1, "bad"), ("csat", 3, "mid"), ("csat", 5, "good"),
                       ("nps", 6, "bad"), ("nps", 8, "mid"), ("nps", 10, "good")],
        },
    )  # fmt: skip
