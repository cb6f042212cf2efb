"""Shapes of the ticket API (specs/api.md). Input serializers only validate; views call
tickets.services with the validated data."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from helpdesk.api import StrictSerializer
from tickets import services
from tickets.models import (
    EMAIL_MAX_LENGTH,
    STAFF_ROLES,
    AppliesTo,
    Customer,
    Kind,
    Mailbox,
    Message,
    Priority,
    Status,
    Team,
    Ticket,
    User,
)
from tickets.permissions import is_agent
from tickets.services import MAX_TAGS, TAG_MAX_LENGTH, InvalidChange, check_team, clean_tags

MAX_BODY_CHARS = 200_000


def _organization_field() -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="name", read_only=True, allow_null=True, help_text="null without one."
    )


FIELDS_HELP = (
    "Custom field values by key (GET /api/v1/fields/): text and choice as strings, "
    "number as a number, date as YYYY-MM-DD, multichoice as a list, checkbox as a boolean."
)


def _fields_field() -> serializers.JSONField:
    return serializers.JSONField(read_only=True, help_text=FIELDS_HELP)


def fields_change_field() -> serializers.DictField:
    return serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        required=False,
        help_text="Changes only the keys it names; null clears one. " + FIELDS_HELP,
    )


def valid_fields(applies_to: str, current: dict[str, Any], value: dict[str, Any]) -> None:
    """The rule every change obeys (services.clean_fields), as errors.fields.<key>."""
    try:
        services.clean_fields(applies_to, current, value)
    except services.FieldErrors as refusal:
        raise serializers.ValidationError(
            {key: [text] for key, text in refusal.errors.items()}
        ) from None


class CustomerSerializer(serializers.ModelSerializer):
    organization = _organization_field()
    ticket_count = serializers.IntegerField(read_only=True)
    fields = _fields_field()  # type: ignore[assignment]  # drf-stubs: the metaclass takes a declared field out of the class

    class Meta:
        model = Customer
        fields = ["id", "email", "name", "organization", "created_at", "ticket_count", "fields"]
        read_only_fields = fields


class CustomerUpdateSerializer(StrictSerializer):
    fields = fields_change_field()  # type: ignore[assignment]  # drf-stubs: the metaclass takes a declared field out of the class

    def validate_fields(self, value: dict[str, Any]) -> dict[str, Any]:
        valid_fields(AppliesTo.CUSTOMER, self.context["customer"].fields, value)
        return value


class CustomerRefSerializer(serializers.ModelSerializer):
    organization = _organization_field()

    class Meta:
        model = Customer
        fields = ["id", "email", "name", "organization"]
        read_only_fields = fields


class MessageSerializer(serializers.ModelSerializer):
    author: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="email",
        read_only=True,
        allow_null=True,
        help_text="The agent who wrote it; null for the customer's messages and automatic ones.",
    )
    # Not an email field: a message of the API or the portal, or a note, has no sender
    # address (""), and mail may come from an address no validator would pass.
    from_address = serializers.CharField(read_only=True)
    body = serializers.CharField(source="body_text", read_only=True)
    ticket = serializers.IntegerField(
        source="ticket_id",
        read_only=True,
        help_text=(
            "The number of the ticket the message is on. A customer's reply to a closed "
            "ticket opens a follow-up ticket: this is its number."
        ),
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "ticket",
            "direction",
            "automatic",
            "author",
            "from_address",
            "from_name",
            "subject",
            "body",
            "body_html",
            "created_at",
            "delivery_status",
        ]
        read_only_fields = fields


class TicketSerializer(serializers.ModelSerializer):
    mailbox: serializers.SlugRelatedField[Mailbox] = serializers.SlugRelatedField(
        slug_field="address", read_only=True
    )
    customer = CustomerRefSerializer(read_only=True)
    assignee: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="email", read_only=True, allow_null=True, help_text="null when unassigned."
    )
    team: serializers.SlugRelatedField[Team] = serializers.SlugRelatedField(
        slug_field="name", read_only=True, allow_null=True, help_text="null without a team."
    )
    fields = _fields_field()  # type: ignore[assignment]  # drf-stubs: the metaclass takes a declared field out of the class

    class Meta:
        model = Ticket
        fields = [
            "number",
            "subject",
            "status",
            "priority",
            "kind",
            "channel",
            "mailbox",
            "customer",
            "assignee",
            "team",
            "tags",
            "message_count",
            "created_at",
            "updated_at",
            "last_message_at",
            "first_response_at",
            "solved_at",
            "external_id",
            "fields",
        ]
        read_only_fields = fields


class TicketDetailSerializer(TicketSerializer):
    messages = MessageSerializer(many=True, read_only=True)

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "messages"]
        read_only_fields = fields


class CustomerMessageSerializer(serializers.ModelSerializer):
    """A message as a customer sees it (only public ones reach it, see
    api.views.visible_messages): no agent's address, no delivery internals."""

    body = serializers.CharField(source="body_text", read_only=True)
    ticket = serializers.IntegerField(source="ticket_id", read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "ticket",
            "direction",
            "from_name",
            "subject",
            "body",
            "body_html",
            "created_at",
        ]
        read_only_fields = fields


class CustomerTicketSerializer(serializers.ModelSerializer):
    """A ticket as its customer (or a colleague where the organization shares tickets)
    sees it over the API: what the portal shows, never the internal fields (assignee,
    team, tags, kind, priority, counts that include internal notes, import ids)."""

    mailbox: serializers.SlugRelatedField[Mailbox] = serializers.SlugRelatedField(
        slug_field="address", read_only=True
    )
    customer = CustomerRefSerializer(read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "number",
            "subject",
            "status",
            "channel",
            "mailbox",
            "customer",
            "created_at",
            "updated_at",
            "last_message_at",
            "solved_at",
        ]
        read_only_fields = fields


class CustomerTicketDetailSerializer(CustomerTicketSerializer):
    messages = CustomerMessageSerializer(many=True, read_only=True)

    class Meta(CustomerTicketSerializer.Meta):
        fields = [*CustomerTicketSerializer.Meta.fields, "messages"]
        read_only_fields = fields


# Query-string filters of the ticket list that name internal fields: agents only.
AGENT_ONLY_FILTERS = ("tag", "assignee", "team", "kind")


def _tags_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=TAG_MAX_LENGTH, allow_blank=False),
        required=False,
        help_text=f"At most {MAX_TAGS} tags once normalized (lower case, hyphens for spaces).",
    )


def _valid_tags(value: list[str]) -> list[str]:
    """The rule every change obeys (services.clean_tags), as this field's error."""
    try:
        return clean_tags(value)
    except InvalidChange as refusal:
        raise serializers.ValidationError(str(refusal)) from None


class TicketCreateSerializer(StrictSerializer):
    subject = serializers.CharField(max_length=998)
    body = serializers.CharField(max_length=MAX_BODY_CHARS)
    customer = serializers.EmailField(
        max_length=EMAIL_MAX_LENGTH, help_text="The customer's email; created if new."
    )
    customer_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    mailbox = serializers.SlugRelatedField(
        slug_field="address",
        queryset=Mailbox.objects.none(),
        help_text="Address of a mailbox the caller works in.",
    )
    kind = serializers.ChoiceField(choices=Kind.choices, default=Kind.SUPPORT)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    tags = _tags_field()
    fields = fields_change_field()  # type: ignore[assignment]  # drf-stubs: the metaclass takes a declared field out of the class

    def validate_tags(self, value: list[str]) -> list[str]:
        return _valid_tags(value)

    def validate_fields(self, value: dict[str, Any]) -> dict[str, Any]:
        valid_fields(AppliesTo.TICKET, {}, value)
        return value

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:  # schema generation
            return
        user = request.user
        mailboxes = Mailbox.objects.filter(is_active=True)
        if not user.sees_everything:
            mailboxes = mailboxes.filter(teams__members=user).distinct()
        # mypy takes `fields` for the declared field above, not the bound fields.
        self.fields["mailbox"].queryset = mailboxes  # type: ignore[index]  # drf-stubs: as said

    def validate_customer(self, value: str) -> str:
        email = value.strip().lower()
        if Mailbox.objects.filter(address=email).exists():
            # Its replies would come back to us, and ingest refuses them as a mail loop.
            raise serializers.ValidationError("That is one of our own mailboxes, not a customer.")
        return email


class TicketUpdateSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    assignee = serializers.SlugRelatedField(
        slug_field="email",
        queryset=User.objects.filter(role__in=STAFF_ROLES, is_active=True),
        allow_null=True,
        required=False,
        help_text="The email of an agent who works in the ticket's mailbox, or null to unassign.",
    )
    team = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Team.objects.all(),
        allow_null=True,
        required=False,
        help_text="The name of a team that works in the ticket's mailbox, or null.",
    )
    tags = _tags_field()
    fields = fields_change_field()  # type: ignore[assignment]  # drf-stubs: the metaclass takes a declared field out of the class

    def validate_tags(self, value: list[str]) -> list[str]:
        return _valid_tags(value)

    def validate_fields(self, value: dict[str, Any]) -> dict[str, Any]:
        ticket = self.context.get("ticket")
        valid_fields(AppliesTo.TICKET, ticket.fields if ticket else {}, value)
        return value

    def validate_team(self, value: Team | None) -> Team | None:
        """The rule every change obeys (services.check_team), as this field's error."""
        ticket = self.context.get("ticket")
        if value is not None and ticket is not None and value.pk != ticket.team_id:
            try:
                check_team(ticket, value)
            except InvalidChange as refusal:
                raise serializers.ValidationError(str(refusal)) from None
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if not attrs:
            raise serializers.ValidationError(
                {"non_field_errors": ["Nothing to change: send at least one field."]}
            )
        return attrs


class MessageKind:
    REPLY = "reply"
    NOTE = "note"
    choices = [(REPLY, "Reply (sent to the customer by email)"), (NOTE, "Internal note")]


class MessageCreateSerializer(StrictSerializer):
    body = serializers.CharField(max_length=MAX_BODY_CHARS)
    kind = serializers.ChoiceField(choices=MessageKind.choices, default=MessageKind.REPLY)

    def validate_kind(self, value: str) -> str:
        if value == MessageKind.NOTE and not is_agent(self.context["request"].user):
            raise serializers.ValidationError("Only agents can add internal notes.")
        return value


class MergeSerializer(StrictSerializer):
    into = serializers.IntegerField(
        min_value=1, help_text="The number of the ticket this one's conversation moves into."
    )
    confirm_different_customers = serializers.BooleanField(
        default=False,
        help_text=(
            "Needed when the two tickets are different customers': the target's customer "
            "then reads the other's messages and files. Without it, such a merge answers "
            "400 naming both customers."
        ),
    )
