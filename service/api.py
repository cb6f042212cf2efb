"""The service additions to the REST API (specs/api.md, "Additions: service"): health on
customers and organizations, the organizations list (`?ordering=health`: lowest first),
and GET /api/v1/metrics/topics/."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api import BadCursorPagination
from metrics.api import SummaryQuery
from service import selectors, topics
from service.models import AccountHealth
from service.panels import topics_query
from tickets.api.organizations import OrganizationUpdateSerializer
from tickets.api.organizations import OrganizationViewSet as FieldsOrganizationViewSet
from tickets.api.views import CustomerViewSet
from tickets.models import Organization, OrganizationDomain, Ticket, User
from tickets.permissions import IsManager, api_user


class HealthCustomerViewSet(CustomerViewSet):
    """The customers endpoint, whose detail also carries the customer's health."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().retrieve(request, *args, **kwargs)
        response.data["health"] = selectors.health_json(
            selectors.health_of(customer_id=int(kwargs["pk"]))
        )
        return response


class OrganizationSerializer(serializers.ModelSerializer):
    owner: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        source="success_contact", slug_field="email", read_only=True, allow_null=True
    )
    domains: serializers.SlugRelatedField[OrganizationDomain] = serializers.SlugRelatedField(
        slug_field="domain", many=True, read_only=True
    )
    health = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = ["id", "name", "notes", "shares_tickets", "owner", "domains", "fields", "health"]
        read_only_fields = fields

    def get_health(self, org: Organization) -> dict[str, Any] | None:
        if org.health_score is None:  # type: ignore[attr-defined]
            return None
        row = AccountHealth(
            score=org.health_score,  # type: ignore[attr-defined]
            factors=org.health_factors,  # type: ignore[attr-defined]
            computed_at=org.health_computed_at,  # type: ignore[attr-defined]
        )
        return selectors.health_json(row)


class OrganizationCursor(BadCursorPagination):
    ordering = ("name", "id")


class OrderingQuery(serializers.Serializer):
    ordering = serializers.ChoiceField(choices=["name", "health"], required=False)


@extend_schema_view(
    list=extend_schema(
        summary="Organizations; ?ordering=health lists the lowest health first",
        parameters=[OpenApiParameter("ordering", str, enum=["name", "health"])],
    ),
    retrieve=extend_schema(summary="One organization, with its health"),
    partial_update=extend_schema(
        summary="Change an organization's custom fields (agents)",
        request=OrganizationUpdateSerializer,
        responses={200: OrganizationSerializer},
    ),
)
class OrganizationViewSet(FieldsOrganizationViewSet):
    """tickets.api's organizations (list with `q`, retrieve, PATCH of `fields`), each with
    its health, and listed by health on `?ordering=health`."""

    serializer_class = OrganizationSerializer
    pagination_class = OrganizationCursor

    def get_queryset(self) -> QuerySet[Organization]:
        if getattr(self, "swagger_fake_view", False):
            return Organization.objects.none()
        user = api_user(self.request)
        health = AccountHealth.objects.filter(organization_id=OuterRef("pk"))
        rows = (
            Organization.objects.prefetch_related("domains")
            .select_related("success_contact")
            .annotate(
                health_score=Subquery(health.values("score")[:1]),
                health_factors=Subquery(health.values("factors")[:1]),
                health_computed_at=Subquery(health.values("computed_at")[:1]),
            )
        )
        if not user.sees_everything:
            visible = Ticket.objects.visible_to(user).filter(
                customer__organization_id=OuterRef("pk")
            )
            rows = rows.filter(Exists(visible))
        return rows

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = OrderingQuery(data=request.query_params.dict())
        if not query.is_valid():
            raise exceptions.ValidationError(query.errors)
        rows = self.filter_queryset(self.get_queryset())
        if query.validated_data.get("ordering") == "health":
            # Unmeasured organizations last: a cursor cannot page over nulls.
            rows = rows.annotate(health_order=Coalesce("health_score", Value(101)))
            page = self.paginate_queryset_by(rows, ("health_order", "id"))
        else:
            page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        super().partial_update(request, *args, **kwargs)
        return Response(self.get_serializer(self.get_object()).data)

    def paginate_queryset_by(self, rows: QuerySet[Organization], ordering: tuple[str, ...]) -> Any:
        self.paginator.ordering = ordering  # type: ignore[union-attr]
        return self.paginator.paginate_queryset(rows, self.request, view=self)  # type: ignore[union-attr]


class TopicsQuery(SummaryQuery):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("hours", "agent"):
            self.fields.pop(name)


@extend_schema(
    summary="What customers wrote about in the window (managers and admins)",
    description=(
        "Topics mined from subjects and first customer messages (docs/metrics.md), largest "
        "first; previous_count is the same-length window before start."
    ),
    parameters=[
        OpenApiParameter("start", OpenApiTypes.DATETIME),
        OpenApiParameter("end", OpenApiTypes.DATETIME),
        OpenApiParameter("kind", str, enum=["support", "service", "all"]),
        OpenApiParameter("team", str, description="team name"),
        OpenApiParameter("mailbox", str, description="mailbox address"),
    ],
    responses={200: OpenApiTypes.OBJECT},
)
@api_view(["GET"])
@permission_classes([IsManager])
def metrics_topics(request: Request) -> Response:
    query = TopicsQuery(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    data = query.validated_data
    filters = topics.TopicFilters(
        start=data["start"],
        end=data["end"],
        team_id=data["team"].pk if "team" in data else None,
        mailbox_id=data["mailbox"].pk if "mailbox" in data else None,
        kind=data.get("kind"),
    )
    drill = topics_query(filters)
    return Response(
        {
            "topics": [
                {
                    "phrase": t.phrase,
                    "count": t.count,
                    "previous_count": t.previous_count,
                    "tickets": request.build_absolute_uri(
                        f"{reverse('service:topic', args=[t.id])}?{drill}"
                    ),
                }
                for t in topics.window_topics(filters)
            ]
        }
    )
