"""Outgoing webhooks over REST (specs/api.md, "Outgoing webhooks"), admins only: the
endpoints, their delivery attempts, and sending a delivery again."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api import BadCursorPagination, StrictSerializer
from helpdesk.api_schema import ErrorSerializer
from tickets.permissions import IsAdmin, api_user
from webhooks import selectors, services
from webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The delivery is still pending: it will be sent."


class EndpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "active",
            "created_at",
            "failing_since",
            "disabled_at",
            "disabled_reason",
        ]
        read_only_fields = fields


class EndpointWithSecretSerializer(EndpointSerializer):
    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class EndpointWriteSerializer(StrictSerializer):
    url = serializers.URLField(max_length=2000)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), allow_empty=False
    )
    active = serializers.BooleanField(required=False, default=True)
    description = serializers.CharField(max_length=200, required=False, default="")


class AttemptSerializer(serializers.ModelSerializer):
    delivery_id = serializers.UUIDField(source="delivery.delivery_id", read_only=True)
    event = serializers.CharField(source="delivery.event", read_only=True)
    delivery_status = serializers.CharField(source="delivery.status", read_only=True)
    attempt = serializers.IntegerField(source="number", read_only=True)

    class Meta:
        model = WebhookAttempt
        fields = [
            "delivery_id",
            "event",
            "attempt",
            "at",
            "status_code",
            "duration_ms",
            "error",
            "delivery_status",
        ]
        read_only_fields = fields


class RedeliverySerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The delivery's id, the same as before.")
    status = serializers.CharField(help_text="pending: queued to be sent again.")


class AttemptCursor(BadCursorPagination):
    ordering = ("-at", "-id")


def _refused(refusal: services.InvalidEndpoint) -> serializers.ValidationError:
    return serializers.ValidationError({name: [text] for name, text in refusal.errors.items()})


@extend_schema_view(
    list=extend_schema(summary="Webhook endpoints (admins)"),
    create=extend_schema(
        summary="Register a webhook endpoint (admins); the answer holds the secret, once",
        request=EndpointWriteSerializer,
        responses={201: EndpointWithSecretSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a webhook endpoint (admins)",
        request=EndpointWriteSerializer,
        responses={200: EndpointSerializer},
    ),
)
class WebhookViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = EndpointSerializer
    permission_classes = [permissions.IsAuthenticated, IsAdmin]
    pagination_class = None
    filter_backends: list[Any] = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return WebhookEndpoint.objects.order_by("pk")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = EndpointWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            endpoint = services.create_endpoint(
                **serializer.validated_data, actor=api_user(request)
            )
        except services.InvalidEndpoint as refusal:
            raise _refused(refusal) from None
        body = EndpointWithSecretSerializer(endpoint).data
        return Response(body, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        current = {
            "url": endpoint.url,
            "events": endpoint.events,
            "active": endpoint.active,
            "description": endpoint.description,
        }
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
        serializer = EndpointWriteSerializer(data={**current, **request.data})
        serializer.is_valid(raise_exception=True)
        try:
            services.update_endpoint(endpoint, **serializer.validated_data, actor=api_user(request))
        except services.InvalidEndpoint as refusal:
            raise _refused(refusal) from None
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(
        summary="Delivery attempts of an endpoint, newest first (admins)",
        responses={200: AttemptSerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        paginator = AttemptCursor()
        page = paginator.paginate_queryset(selectors.attempts(endpoint), request, view=self)
        return paginator.get_paginated_response(AttemptSerializer(page, many=True).data)

    @extend_schema(
        summary="Send a delivery again, with the same id (admins)",
        description="409 while the delivery is still pending or sending.",
        request=None,
        responses={200: RedeliverySerializer, 409: ErrorSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_id>[0-9a-fA-F-]{36})/redeliver",
    )
    def redeliver(self, request: Request, delivery_id: str, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        delivery = get_object_or_404(WebhookDelivery, endpoint=endpoint, delivery_id=delivery_id)
        if not services.redeliver(delivery):
            raise Conflict()
        return Response({"id": str(delivery.delivery_id), "status": DeliveryStatus.PENDING})
