"""Every change to a ticket goes through these functions.

Each one owns its transaction, writes the TicketEvent rows that describe the change, and
schedules side effects (mail, figures, rules) only after commit. Live changes, API calls,
email ingest and history import all call the same functions, so imported history yields
the same events, and therefore the same figures, as history lived through the UI. The
`at` argument lets import replay a change at its original time.
"""

from tickets.services.attachments import FilePart, attach_files, attachment_rows
from tickets.services.automatic import AutoReplies, automatic_reply_allowed
from tickets.services.changes import (
    EDITABLE_FIELDS,
    BulkChange,
    apply_changes,
    bulk_update,
    snooze_ticket,
    update_ticket,
    wake_ticket,
)
from tickets.services.creation import (
    create_inbound_ticket,
    create_ticket,
    created_event,
    linked_event,
    new_inbound_ticket,
    new_ticket,
    open_ticket_for_customer,
)
from tickets.services.customers import get_or_create_customer, upsert_customers
from tickets.services.events import (
    IMPORT,
    MAIL,
    SYSTEM,
    Actor,
    after_commit,
    changes_in_bulk,
    coalesced_changes,
    new_event,
    record_event,
    ticket_changed,
    tickets_changed,
)
from tickets.services.fields import (
    FieldErrors,
    check_solvable,
    check_ticket_fields,
    clean_fields,
    definitions,
    missing_to_solve,
)
from tickets.services.inbound import CustomerReply, customer_reply, opens_follow_up
from tickets.services.messages import (
    add_message,
    add_note,
    conversation_cc,
    message_event,
    message_updates,
    new_message,
    reply,
    status_after_message,
)
from tickets.services.moves import merge_conversation, move_messages
from tickets.services.policy import (
    MAX_TAGS,
    TAG_MAX_LENGTH,
    InvalidChange,
    StateConflict,
    check_assignee,
    check_changes,
    check_team,
    clean_tags,
    normalize_tags,
)

__all__ = [
    "EDITABLE_FIELDS",
    "IMPORT",
    "MAIL",
    "MAX_TAGS",
    "SYSTEM",
    "TAG_MAX_LENGTH",
    "Actor",
    "AutoReplies",
    "BulkChange",
    "CustomerReply",
    "FieldErrors",
    "FilePart",
    "InvalidChange",
    "StateConflict",
    "add_message",
    "add_note",
    "after_commit",
    "apply_changes",
    "attach_files",
    "attachment_rows",
    "automatic_reply_allowed",
    "bulk_update",
    "changes_in_bulk",
    "check_assignee",
    "check_changes",
    "check_solvable",
    "check_team",
    "check_ticket_fields",
    "clean_fields",
    "clean_tags",
    "coalesced_changes",
    "conversation_cc",
    "create_inbound_ticket",
    "create_ticket",
    "created_event",
    "customer_reply",
    "definitions",
    "get_or_create_customer",
    "linked_event",
    "merge_conversation",
    "message_event",
    "message_updates",
    "missing_to_solve",
    "move_messages",
    "new_event",
    "new_inbound_ticket",
    "new_message",
    "new_ticket",
    "normalize_tags",
    "open_ticket_for_customer",
    "opens_follow_up",
    "record_event",
    "reply",
    "snooze_ticket",
    "status_after_message",
    "ticket_changed",
    "tickets_changed",
    "update_ticket",
    "upsert_customers",
    "wake_ticket",
]
