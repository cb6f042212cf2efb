"""Tickets, messages and customers over REST (specs/api.md).

Viewsets stay thin: the permission rule comes from Ticket.objects.visible_to and
tickets.access.get_ticket_for (404 for what the caller may not see), validation from the
serializers, and every change from tickets.services, the same functions the UI uses.
"""

from __future__ import annotations

from typing import Any

from django.db.models import (
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api import BadCursorPagination
from helpdesk.api_schema import ErrorSerializer
from tickets import services
from tickets.access import get_ticket_for
from tickets.api.filters import CustomerFilter, TicketFilter
from tickets.api.serializers import (
    AGENT_ONLY_FILTERS,
    CustomerMessageSerializer,
    CustomerSerializer,
    CustomerTicketDetailSerializer,
    CustomerTicketSerializer,
    CustomerUpdateSerializer,
    MergeSerializer,
    MessageCreateSerializer,
    MessageKind,
    MessageSerializer,
    TicketCreateSerializer,
    TicketDetailSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
)
from tickets.models import (
    ActorKind,
    Channel,
    Customer,
    Direction,
    Message,
    Ticket,
    User,
)
from tickets.permissions import IsAgent, api_user, is_agent
from tickets.services import Actor, InvalidChange, NotPermitted, StateConflict
from tickets.workflow import collab

TICKET_RELATED = ("mailbox", "customer__organization", "assignee", "team")


class TicketCursor(BadCursorPagination):
    # Served by the ticket_updated index (and its per-status/mailbox siblings).
    ordering = ("-updated_at", "-number")


class MessageCursor(BadCursorPagination):
    # Served by the message_ticket index: the conversation, oldest first.
    ordering = ("created_at", "id")
    page_size = 100


class CustomerCursor(BadCursorPagination):
    ordering = ("email",)


CUSTOMER_SHAPE = (
    "Agents get the shape below. A customer gets their own tickets (and their "
    "organization's where it shares tickets) that are theirs to see, in a customer-facing "
    "shape: number, subject, status, channel, mailbox, customer and times, with public "
    "messages only (id, ticket, direction, from_name, subject, body, body_html, "
    "created_at); never assignee, team, tags, kind, priority or internal notes. The "
    "filters tag, assignee, team and kind are for agents (400 for a customer)."
)


def visible_messages(user: User) -> QuerySet[Message]:
    """The conversation as `user` may read it: customers never see internal notes."""
    messages = Message.objects.select_related("author").order_by("created_at", "id")
    if not user.is_agent:
        messages = messages.exclude(direction=Direction.NOTE)
    return messages


def actor_for(user: User) -> Actor:
    if user.is_agent:
        return Actor.agent(user)
    return Actor(ActorKind.CUSTOMER, user)


@extend_schema_view(
    list=extend_schema(
        summary="List tickets the caller may see, most recently updated first",
        description=CUSTOMER_SHAPE
        + " Agents filter by a custom field with `field.<key>=<value>` (for a multichoice "
        "field, the tickets whose list contains the value); an unknown key or a value the "
        "field cannot hold answers 400 with `errors.field.<key>`.",
    ),
    retrieve=extend_schema(summary="One ticket with its conversation", description=CUSTOMER_SHAPE),
    create=extend_schema(
        summary="Open a ticket on behalf of a customer",
        request=TicketCreateSerializer,
        responses={201: TicketDetailSerializer},
    ),
    partial_update=extend_schema(
        summary="Change status, priority, kind, assignee, team, tags or fields",
        request=TicketUpdateSerializer,
        responses={200: TicketSerializer, 409: ErrorSerializer},
    ),
)
class TicketViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    lookup_field = "number"
    lookup_value_regex = r"[0-9]+"
    filterset_class = TicketFilter
    pagination_class = TicketCursor
    serializer_class = TicketSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Ticket]:
        if getattr(self, "swagger_fake_view", False):
            return Ticket.objects.none()
        return Ticket.objects.visible_to(api_user(self.request)).select_related(*TICKET_RELATED)

    def get_serializer_class(self) -> type:
        # Customers get the customer-facing shapes (their own visible tickets, public
        # messages, no internal fields); agents the full ones.
        agent = getattr(self, "swagger_fake_view", False) or is_agent(self.request.user)
        if self.action == "retrieve":
            return TicketDetailSerializer if agent else CustomerTicketDetailSerializer
        return TicketSerializer if agent else CustomerTicketSerializer

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        params = self.request.query_params
        if self.action == "list" and not is_agent(self.request.user):
            named = [
                name
                for name in params
                if name in AGENT_ONLY_FILTERS or name.startswith(services.FILTER_PREFIX)
            ]
            if named:
                raise exceptions.ValidationError(
                    {name: ["Only agents can filter by this field."] for name in named}
                )
        if self.action == "list":
            try:
                queryset = queryset.filter(services.field_filters(params))
            except services.FieldErrors as refusal:
                raise exceptions.ValidationError(
                    {name: [text] for name, text in refusal.errors.items()}
                ) from None
        return super().filter_queryset(queryset)

    def get_object(self) -> Ticket:
        user = api_user(self.request)
        ticket = get_ticket_for(user, self.kwargs["number"])
        if self.action == "retrieve":
            # One query for the whole conversation with authors, not one per message.
            prefetch_related_objects(
                [ticket], Prefetch("messages", queryset=visible_messages(user))
            )
        return ticket

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not is_agent(request.user):
            raise exceptions.PermissionDenied("Customers open requests through the portal.")
        serializer = TicketCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = services.get_or_create_customer(data["customer"], data.get("customer_name", ""))
        ticket = services.create_ticket(
            mailbox=data["mailbox"],
            customer=customer,
            subject=data["subject"],
            body_text=data["body"],
            channel=Channel.API,
            kind=data["kind"],
            priority=data["priority"],
            tags=data.get("tags", ()),
            fields=data.get("fields"),
            actor=Actor.agent(api_user(request)),
        )
        self.kwargs["number"] = ticket.number
        self.action = "retrieve"
        body = TicketDetailSerializer(self.get_object(), context=self.get_serializer_context())
        return Response(body.data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = api_user(request)
        ticket = get_ticket_for(user, kwargs["number"])
        if not is_agent(user):
            raise exceptions.PermissionDenied("Customers cannot change tickets.")
        serializer = TicketUpdateSerializer(
            data=request.data, context={"request": request, "ticket": ticket}
        )
        serializer.is_valid(raise_exception=True)
        try:
            services.update_ticket(ticket, actor=Actor.agent(user), **serializer.validated_data)
        except InvalidChange as refusal:
            raise refused(refusal) from None
        ticket = get_ticket_for(user, ticket.number)
        return Response(TicketSerializer(ticket, context=self.get_serializer_context()).data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise exceptions.MethodNotAllowed(request.method or "PUT")

    @extend_schema(
        methods=["GET"],
        summary="The conversation, oldest first (internal notes only for agents)",
        responses=MessageSerializer(many=True),
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("page_size", int)],
    )
    @extend_schema(
        methods=["POST"],
        summary=(
            "Reply to the customer (sent by email) or add an internal note; a customer's "
            "reply to a closed ticket opens a follow-up ticket"
        ),
        request=MessageCreateSerializer,
        responses={201: MessageSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        pagination_class=MessageCursor,
        filterset_class=None,
        filter_backends=[],
    )
    def messages(self, request: Request, number: str, format: str | None = None) -> Response:
        user = api_user(request)
        ticket = get_ticket_for(user, number)
        if request.method == "POST":
            return self._add_message(request, ticket)
        page = self.paginate_queryset(visible_messages(user).filter(ticket=ticket))
        shape = MessageSerializer if is_agent(user) else CustomerMessageSerializer
        body = shape(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(body.data)

    @extend_schema(
        summary="Merge this ticket into another (agents)",
        description=(
            "The ticket's messages, files and reminders move into `into`, and it closes. "
            "Tickets of two different customers merge only with "
            "`confirm_different_customers: true`; without it the answer is 400 with "
            "`errors.confirm_different_customers` naming both customers."
        ),
        request=MergeSerializer,
        responses={200: TicketSerializer},
    )
    @action(detail=True, methods=["post"], filterset_class=None, filter_backends=[])
    def merge(self, request: Request, number: str, format: str | None = None) -> Response:
        user = api_user(request)
        if not is_agent(user):
            raise exceptions.PermissionDenied("Only agents can merge tickets.")
        ticket = get_ticket_for(user, number, write=True)
        serializer = MergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            target = get_ticket_for(user, data["into"], write=True)
        except Http404:
            raise exceptions.ValidationError(
                {"into": [f"There is no ticket #{data['into']} you can see."]}
            ) from None
        try:
            collab.merge_tickets(
                ticket,
                target,
                actor=Actor.agent(user),
                confirm_different_customers=data["confirm_different_customers"],
            )
        except InvalidChange as refusal:
            raise refused(refusal) from None
        merged = get_ticket_for(user, target.number)
        return Response(TicketSerializer(merged, context=self.get_serializer_context()).data)

    def _add_message(self, request: Request, ticket: Ticket) -> Response:
        serializer = MessageCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        body, kind = serializer.validated_data["body"], serializer.validated_data["kind"]
        user = api_user(request)
        headers: dict[str, str] = {}
        if not is_agent(user):
            # As by mail and in the portal: on a closed ticket, the reply opens a follow-up
            # (the message's `ticket` says which; Location points at it).
            sent = services.customer_reply(
                ticket,
                actor=actor_for(user),
                sender=user.email,
                body_text=body,
                channel=Channel.API,
                customer=Customer.objects.filter(user=user).first(),
                author=user,
            )
            message = sent.message
            if sent.ticket.pk != ticket.pk:
                headers["Location"] = reverse("api:ticket-detail", args=[sent.ticket.pk])
        elif kind == MessageKind.NOTE:
            message = services.add_note(ticket, user, body)
        else:
            message = services.reply(ticket, user, body)
        message = Message.objects.select_related("author").get(pk=message.pk)
        data = (MessageSerializer if is_agent(user) else CustomerMessageSerializer)(message).data
        return Response(data, status=status.HTTP_201_CREATED, headers=headers)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The ticket's state does not allow this change."
    default_code = "conflict"


def refused(refusal: InvalidChange) -> exceptions.APIException:
    """A change the rules refuse: 403 when the caller's role does not allow it, 409 when
    the ticket's state refuses it, else 400 with the error on the field at fault
    (errors.fields.<key> for custom fields)."""
    if isinstance(refusal, NotPermitted):
        return exceptions.PermissionDenied(str(refusal))
    if isinstance(refusal, StateConflict):
        return Conflict(str(refusal))
    if isinstance(refusal, services.FieldErrors):
        return exceptions.ValidationError(
            {"fields": {key: [text] for key, text in refusal.errors.items()}}
        )
    return exceptions.ValidationError({refusal.field or "non_field_errors": [str(refusal)]})


@extend_schema_view(
    list=extend_schema(summary="Customers with the number of tickets the caller may see"),
    retrieve=extend_schema(summary="One customer"),
    partial_update=extend_schema(
        summary="Change a customer's custom fields (agents)",
        request=CustomerUpdateSerializer,
        responses={200: CustomerSerializer},
    ),
)
class CustomerViewSet(viewsets.ReadOnlyModelViewSet, mixins.UpdateModelMixin):
    serializer_class = CustomerSerializer
    permission_classes = [permissions.IsAuthenticated, IsAgent]
    filterset_class = CustomerFilter
    pagination_class = CustomerCursor
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "patch", "head", "options"]

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        customer = self.get_object()
        serializer = CustomerUpdateSerializer(data=request.data, context={"customer": customer})
        serializer.is_valid(raise_exception=True)
        if "fields" in serializer.validated_data:
            try:
                services.set_fields(customer, serializer.validated_data["fields"])
            except InvalidChange as refusal:
                raise refused(refusal) from None
        return Response(CustomerSerializer(self.get_object()).data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise exceptions.MethodNotAllowed(request.method or "PUT")

    def get_queryset(self) -> QuerySet[Customer]:
        if getattr(self, "swagger_fake_view", False):
            return Customer.objects.none()
        user = api_user(self.request)
        visible = Ticket.objects.visible_to(user)
        # A correlated count is evaluated for the page's rows only; a JOIN + GROUP BY
        # would count every ticket before paginating.
        counts = (
            visible.filter(customer=OuterRef("pk"))
            .order_by()
            .values("customer")
            .annotate(n=Count("*"))
            .values("n")
        )
        customers = Customer.objects.select_related("organization").annotate(
            ticket_count=Coalesce(Subquery(counts, output_field=IntegerField()), 0)
        )
        if not user.sees_everything:
            customers = customers.filter(pk__in=visible.values("customer_id"))
        return customers
