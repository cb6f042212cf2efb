"""Mailboxes, teams, people, tickets, messages and the ticket event log.

Ticket rows carry the current state; TicketEvent rows are the append-only history every
figure is derived from. The services (tickets/services) are the only writers: they keep
the two in step inside one transaction. Callers import from `tickets.models`; the
modules beside this file are how it is laid out, not separate APIs.
"""

from tickets.models.events import ActorKind, EventKind, TicketEvent
from tickets.models.fields import (
    CHOICE_TYPES,
    AppliesTo,
    FieldDefinition,
    FieldDefinitionQuerySet,
    FieldType,
)
from tickets.models.mailboxes import BusinessCalendar, Mailbox, MailSecurity, _webhook_secret
from tickets.models.messages import (
    BODY_MAX,
    Attachment,
    DeliveryStatus,
    Direction,
    Message,
    attachment_path,
)
from tickets.models.people import (
    ACTING_ROLES,
    MANAGER_ROLES,
    STAFF_ROLES,
    Customer,
    CustomerEmail,
    Organization,
    OrganizationDomain,
    PastEmail,
    Role,
    TandemUserManager,
    Team,
    User,
)
from tickets.models.tickets import (
    DONE_STATUSES,
    EMAIL_MAX_LENGTH,
    NEXT_DUE,
    NO_DUE,
    OPEN_STATUSES,
    PRIORITY_RANK,
    SEARCH_MONTH_SECONDS,
    SLA_COMPLIANCE_COLUMNS,
    Channel,
    EqualsAny,
    Kind,
    MessageSearchDoc,
    Priority,
    Status,
    Ticket,
    TicketQuerySet,
    message_search_doc,
)

__all__ = [
    "ACTING_ROLES",
    "BODY_MAX",
    "CHOICE_TYPES",
    "DONE_STATUSES",
    "EMAIL_MAX_LENGTH",
    "MANAGER_ROLES",
    "NEXT_DUE",
    "NO_DUE",
    "OPEN_STATUSES",
    "PRIORITY_RANK",
    "SEARCH_MONTH_SECONDS",
    "SLA_COMPLIANCE_COLUMNS",
    "STAFF_ROLES",
    "ActorKind",
    "AppliesTo",
    "Attachment",
    "BusinessCalendar",
    "Channel",
    "Customer",
    "CustomerEmail",
    "DeliveryStatus",
    "Direction",
    "EqualsAny",
    "EventKind",
    "FieldDefinition",
    "FieldDefinitionQuerySet",
    "FieldType",
    "Kind",
    "MailSecurity",
    "Mailbox",
    "Message",
    "MessageSearchDoc",
    "Organization",
    "OrganizationDomain",
    "PastEmail",
    "Priority",
    "Role",
    "Status",
    "TandemUserManager",
    "Team",
    "Ticket",
    "TicketEvent",
    "TicketQuerySet",
    "User",
    "_webhook_secret",
    "attachment_path",
    "message_search_doc",
]
