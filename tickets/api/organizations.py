"""Organizations over REST: list, retrieve, and change their custom fields (specs/api.md,
"Custom fields": an organization carries `fields` as a ticket and a customer do). Agents
see the organizations of the customers whose tickets they may see; managers and admins
see all. Values are checked by services.set_fields, the one check of every door."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api import BadCursorPagination, StrictSerializer
from tickets import services
from tickets.api.serializers import FIELDS_HELP, fields_change_field, valid_fields
from tickets.api.views import refused
from tickets.models import AppliesTo, Organization, OrganizationDomain, Ticket
from tickets.permissions import IsAgent, api_user
from tickets.services import InvalidChange


class OrganizationSerializer(serializers.ModelSerializer):
    domains: serializers.SlugRelatedField[OrganizationDomain] = serializers.SlugRelatedField(
        slug_field="domain", many=True, read_only=True, help_text="Its e-mail domains."
    )
    fields = serializers.JSONField(read_only=True, help_text=FIELDS_HELP)  # type: ignore[assignment]  # drf-stubs: the metaclass takes a declared field out of the class

    class Meta:
        model = Organization
        fields = ["id", "name", "notes", "domains", "fields"]
        read_only_fields = fields


class OrganizationUpdateSerializer(StrictSerializer):
    fields = fields_change_field()  # type: ignore[assignment]  # drf-stubs: the metaclass takes a declared field out of the class

    def validate_fields(self, value: dict[str, Any]) -> dict[str, Any]:
        valid_fields(AppliesTo.ORGANIZATION, self.context["organization"].fields, value)
        return value


class OrganizationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_text", max_length=200, help_text="Part of the name or a domain."
    )

    class Meta:
        model = Organization
        fields: list[str] = []

    def filter_text(
        self, queryset: QuerySet[Organization], name: str, value: str
    ) -> QuerySet[Organization]:
        by_domain = Organization.objects.filter(domains__domain__icontains=value).values("pk")
        return queryset.filter(Q(name__icontains=value) | Q(pk__in=by_domain))


class OrganizationCursor(BadCursorPagination):
    ordering = ("name",)


@extend_schema_view(
    list=extend_schema(summary="Organizations the caller may see, by name"),
    retrieve=extend_schema(summary="One organization"),
    partial_update=extend_schema(
        summary="Change an organization's custom fields (agents)",
        request=OrganizationUpdateSerializer,
        responses={200: OrganizationSerializer},
    ),
)
class OrganizationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    # service.api's subclass answers with its own serializer and cursor.
    serializer_class: type[serializers.BaseSerializer] = OrganizationSerializer
    permission_classes = [permissions.IsAuthenticated, IsAgent]
    filterset_class = OrganizationFilter
    pagination_class: type[BadCursorPagination] = OrganizationCursor
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Organization]:
        if getattr(self, "swagger_fake_view", False):
            return Organization.objects.none()
        user = api_user(self.request)
        organizations = Organization.objects.prefetch_related("domains")
        if not user.sees_everything:
            visible = Ticket.objects.visible_to(user).values("customer__organization_id")
            organizations = organizations.filter(pk__in=visible)
        return organizations

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        organization = self.get_object()
        serializer = OrganizationUpdateSerializer(
            data=request.data, context={"organization": organization}
        )
        serializer.is_valid(raise_exception=True)
        if "fields" in serializer.validated_data:
            try:
                services.set_fields(organization, serializer.validated_data["fields"])
            except InvalidChange as refusal:
                raise refused(refusal) from None
        return Response(OrganizationSerializer(self.get_object()).data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise exceptions.MethodNotAllowed(request.method or "PUT")
