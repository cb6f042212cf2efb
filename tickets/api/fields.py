"""Custom field definitions over REST (specs/api.md, "Custom fields"): agents read them,
admins create them. Values are checked by tickets.services.fields, whatever the door."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api import StrictSerializer
from tickets import services
from tickets.models import AppliesTo, FieldDefinition, FieldType
from tickets.permissions import IsAdmin, IsAgent


class FieldDefinitionSerializer(serializers.ModelSerializer):
    class Meta:
        model = FieldDefinition
        fields = list(FieldDefinition.ATTRIBUTES)
        read_only_fields = fields


class FieldDefinitionCreateSerializer(StrictSerializer):
    key = serializers.SlugField(max_length=50, help_text="Unique per `applies_to`.")
    label = serializers.CharField(max_length=100)  # type: ignore[assignment]  # drf-stubs: the metaclass takes a declared field out of the class
    type = serializers.ChoiceField(choices=FieldType.choices)
    applies_to = serializers.ChoiceField(choices=AppliesTo.choices)
    choices = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        default=list,
        max_length=500,
        help_text="For choice and multichoice fields.",
    )
    required_to_solve = serializers.BooleanField(
        required=False, default=False, help_text="Tickets only."
    )
    position = serializers.IntegerField(required=False, default=0, min_value=0, max_value=10_000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        errors = services.definition_errors(
            key=attrs["key"],
            type=attrs["type"],
            applies_to=attrs["applies_to"],
            choices=attrs["choices"],
            required_to_solve=attrs["required_to_solve"],
        )
        if errors:
            raise serializers.ValidationError({name: [text] for name, text in errors.items()})
        return attrs


class IsAgentReadsAdminWrites(permissions.BasePermission):
    message = "Only admins may define fields."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return IsAgent().has_permission(request, view)
        return IsAdmin().has_permission(request, view)


@extend_schema_view(
    list=extend_schema(
        summary="Custom field definitions (agents)",
        description="Active and inactive, by `applies_to` then `position`.",
    ),
    create=extend_schema(
        summary="Define a custom field (admins)",
        request=FieldDefinitionCreateSerializer,
        responses={201: FieldDefinitionSerializer},
    ),
)
class FieldDefinitionViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = FieldDefinitionSerializer
    permission_classes = [permissions.IsAuthenticated, IsAgentReadsAdminWrites]
    pagination_class = None
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[FieldDefinition]:
        return FieldDefinition.objects.order_by("applies_to", "position", "key")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = FieldDefinitionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                definition = services.save_definition(
                    FieldDefinition(**serializer.validated_data), actor=request.user
                )
        except services.FieldErrors as refusal:
            raise serializers.ValidationError(
                {name: [text] for name, text in refusal.errors.items()}
            ) from None
        except IntegrityError:  # the same key created at the same moment
            raise serializers.ValidationError(
                {"key": ["A field with this key and applies_to already exists."]}
            ) from None
        return Response(FieldDefinitionSerializer(definition).data, status=status.HTTP_201_CREATED)
