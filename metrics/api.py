"""GET /api/v1/metrics/summary/ (specs/api.md): aggregates for managers and admins."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from metrics.aggregates import Window, summary
from tickets.models import STAFF_ROLES, Mailbox, Team, User
from tickets.permissions import IsManager

DEFAULT_WINDOW = timedelta(days=30)


class AwareDateTimeField(serializers.Field):
    """ISO 8601 with an explicit offset: a bare local time would be ambiguous."""

    default_error_messages = {
        "invalid": "Use ISO 8601 with an offset, e.g. 2026-03-01T00:00:00+01:00.",
        "naive": "Give the time with an offset (Z or +01:00): it is ambiguous without one.",
        "range": "Use a year from 1900 to 9000.",
    }

    def to_internal_value(self, data: Any) -> datetime:
        try:
            value = datetime.fromisoformat(str(data).strip().replace(" ", "+"))
        except ValueError:
            self.fail("invalid")
        if value.tzinfo is None:
            self.fail("naive")
        if not 1900 <= value.year <= 9000:
            self.fail("range")
        return value

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


class SummaryQuery(serializers.Serializer):
    start = AwareDateTimeField(required=False)
    end = AwareDateTimeField(required=False)
    kind = serializers.ChoiceField(choices=["support", "service", "all"], required=False)
    hours = serializers.ChoiceField(choices=["calendar", "business"], default="calendar")
    team = serializers.CharField(required=False, max_length=100)
    agent = serializers.EmailField(required=False)
    mailbox = serializers.EmailField(required=False)

    def validate_team(self, value: str) -> Team:
        team = Team.objects.filter(name=value).first()
        if team is None:
            raise serializers.ValidationError(f"No team is named {value!r}.")
        return team

    def validate_agent(self, value: str) -> User:
        agent = User.objects.filter(email__iexact=value, role__in=STAFF_ROLES).first()
        if agent is None:
            raise serializers.ValidationError(f"No agent has the email {value!r}.")
        return agent

    def validate_mailbox(self, value: str) -> Mailbox:
        mailbox = Mailbox.objects.filter(address=value.strip().lower()).first()
        if mailbox is None:
            raise serializers.ValidationError(f"No mailbox has the address {value!r}.")
        return mailbox

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown parameter."] for name in unknown})
        end = attrs.get("end") or timezone.now()
        start = attrs.get("start") or end - DEFAULT_WINDOW
        if start >= end:
            raise serializers.ValidationError({"end": ["The end must be after the start."]})
        attrs["start"], attrs["end"] = start, end
        return attrs

    def window(self) -> Window:
        data = self.validated_data
        return Window(
            start=data["start"],
            end=data["end"],
            kind=data.get("kind"),
            hours=data["hours"],
            team_id=data["team"].pk if "team" in data else None,
            agent_id=data["agent"].pk if "agent" in data else None,
            mailbox_id=data["mailbox"].pk if "mailbox" in data else None,
        )


@extend_schema(
    summary="Support and service aggregates over a window",
    description=(
        "Definitions: specs/metrics.md and the dashboards' definitions. The window is "
        "[start, end); without start and end it is the 30 days up to now. `kind` given "
        "applies to every ticket-based figure; left out (answered as null), each figure uses "
        "its default: support for FRT, resolution, FCR, reopen, escalation, backlog and CES, "
        "all for tickets created and CSAT. NPS takes no ticket filter. Seconds and rates are "
        "unrounded; a figure with nothing to count is null with a count of 0."
    ),
    parameters=[
        OpenApiParameter("start", OpenApiTypes.DATETIME, description="ISO 8601 with offset"),
        OpenApiParameter("end", OpenApiTypes.DATETIME, description="ISO 8601 with offset"),
        OpenApiParameter("kind", str, enum=["support", "service", "all"]),
        OpenApiParameter("hours", str, enum=["calendar", "business"]),
        OpenApiParameter("team", str, description="team name"),
        OpenApiParameter("agent", str, description="agent email"),
        OpenApiParameter("mailbox", str, description="mailbox address"),
    ],
    responses={200: OpenApiTypes.OBJECT},
)
@api_view(["GET"])
@permission_classes([IsManager])
def metrics_summary(request: Request) -> Response:
    query = SummaryQuery(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    window = query.window()
    return Response(
        {
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            "kind": window.kind,
            "hours": window.hours,
            **summary(window),
        }
    )
