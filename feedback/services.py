"""Every change to feedback items, in one place for every door (the agent's pages, the
ticket page's panel, the help center's vote and follow).

Who may do what: any agent who may act (not a light agent) creates items, edits their
words and links tickets; only managers and admins change an item's status or put it on
the public roadmap. Customers vote for and follow public items only.

Telling the people who asked (`tell_askers`) is one path for the note on shipping and for
a product update: one outreach service ticket per customer, from the text the agent
edited, and one `Notice` row per item and customer, written in the same transaction under
a unique constraint, so a customer is told once however often (or concurrently) it runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from feedback.models import (
    Ask,
    AskVia,
    FeedbackItem,
    ItemKind,
    ItemStatus,
    Notice,
    NoticeReason,
    ProductUpdate,
)
from feedback.selectors import askers_to_tell, on_roadmap
from tickets.models import Customer, Mailbox, Ticket, User
from tickets.permissions import is_manager
from tickets.services import InvalidChange, NotPermitted, check_actor
from tickets.workflow.collab import start_outreach, unknown_placeholders

STATUS_REFUSAL = gettext_lazy(
    "Only managers and admins can change an item's status or put it on the roadmap."
)
OUTREACH_TAG = "feedback"

# The canned note is offered in the agent's language (they edit it before sending).
SHIPPED_NOTE = gettext_lazy(
    "Hi {{customer.first_name}},\n\n"
    "You asked us for “%(title)s”. It has shipped, and you can use it today.\n\n"
    "Thank you for telling us: requests like yours decide what we build next. "
    "Just reply to this message if anything about it is not what you hoped.\n\n"
    "{{agent.first_name}}"
)


def shipped_note(item: FeedbackItem) -> str:
    """The canned note on shipping, which the agent edits before sending."""
    return str(SHIPPED_NOTE) % {"title": item.title}


def shipped_subject(item: FeedbackItem) -> str:
    return gettext("Shipped: %(title)s") % {"title": item.title}


def _clean_words(title: str, kind: str) -> tuple[str, str]:
    title = (title or "").strip()
    if not title:
        raise InvalidChange(gettext("Give the item a title."), field="title")
    if len(title) > 200:
        raise InvalidChange(gettext("Keep the title under 200 characters."), field="title")
    if kind not in ItemKind.values:
        raise InvalidChange(gettext("Choose a feature request or a bug."), field="kind")
    return title, kind


def create_item(
    agent: User, *, title: str, description: str = "", kind: str = ItemKind.FEATURE
) -> FeedbackItem:
    check_actor(agent)
    title, kind = _clean_words(title, kind)
    return FeedbackItem.objects.create(
        title=title, description=(description or "").strip(), kind=kind, created_by=agent
    )


@transaction.atomic
def update_item(
    item: FeedbackItem,
    user: User,
    *,
    title: str | None = None,
    description: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    public: bool | None = None,
) -> FeedbackItem:
    """Change an item's words (agents), or its status and place on the roadmap (managers
    and admins: NotPermitted otherwise)."""
    check_actor(user)
    item = FeedbackItem.objects.select_for_update().get(pk=item.pk)
    moves = (status is not None and status != item.status) or (
        public is not None and public != item.public
    )
    if moves and not is_manager(user):
        raise NotPermitted(str(STATUS_REFUSAL), field="status")
    item.title, item.kind = _clean_words(
        item.title if title is None else title, item.kind if kind is None else kind
    )
    if description is not None:
        item.description = description.strip()
    if status is not None:
        if status not in ItemStatus.values:
            raise InvalidChange(gettext("Choose a status from the list."), field="status")
        if status == ItemStatus.SHIPPED and item.status != ItemStatus.SHIPPED:
            item.shipped_at = timezone.now()
        elif status != ItemStatus.SHIPPED:
            item.shipped_at = None
        item.status = status
    if public is not None:
        item.public = public
    item.updated_at = timezone.now()
    item.save()
    return item


def link_ticket(item: FeedbackItem, ticket: Ticket, agent: User) -> Ask:
    """The ticket's customer asks for the item (once per ticket: linking again is a no-op).
    The caller has checked the agent may see the ticket (tickets.access.get_ticket_for)."""
    check_actor(agent)
    ask, _ = Ask.objects.get_or_create(
        item=item,
        ticket=ticket,
        via=AskVia.TICKET,
        defaults={"customer_id": ticket.customer_id, "linked_by": agent},
    )
    FeedbackItem.objects.filter(pk=item.pk).update(updated_at=timezone.now())
    return ask


@transaction.atomic
def create_and_link(ticket: Ticket, agent: User, *, title: str, kind: str) -> FeedbackItem:
    """A new item, created from the ticket page with the ticket linked to it."""
    item = create_item(agent, title=title, kind=kind)
    link_ticket(item, ticket, agent)
    return item


def unlink_ticket(item: FeedbackItem, ticket: Ticket, agent: User) -> None:
    check_actor(agent)
    Ask.objects.filter(item=item, ticket=ticket, via=AskVia.TICKET).delete()


def set_customer_ask(item: FeedbackItem, customer: Customer, via: str, *, on: bool) -> bool:
    """A customer's vote or follow of a public item, on or off; whether it is on now."""
    if via not in (AskVia.VOTE, AskVia.FOLLOW):
        raise InvalidChange(gettext("Vote or follow."), field="via")
    if not on_roadmap(item.pk):
        raise InvalidChange(gettext("This item is not on the roadmap."), field="item")
    if on:
        Ask.objects.get_or_create(item=item, customer=customer, via=via)
    else:
        Ask.objects.filter(item=item, customer=customer, via=via).delete()
    return on


@dataclass(frozen=True)
class Told:
    told: int  # customers told now
    already: int  # customers who had been told before


def _shipped(item: FeedbackItem) -> bool:
    """Read now, not from the caller's copy: a manager may have changed it meanwhile."""
    return FeedbackItem.objects.filter(pk=item.pk, status=ItemStatus.SHIPPED).exists()


def tell_askers(
    item: FeedbackItem,
    agent: User,
    *,
    mailbox: Mailbox,
    subject: str,
    body: str,
    reason: str = NoticeReason.SHIPPED,
) -> Told:
    """A personal note to everyone who asked for a shipped item and was not told yet: one
    outreach service ticket each (its placeholders filled for that customer)."""
    check_actor(agent)
    if not _shipped(item):
        raise InvalidChange(gettext("Mark the item shipped before telling the people who asked."))
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject:
        raise InvalidChange(gettext("Write a subject."), field="subject")
    if not body:
        raise InvalidChange(gettext("Write the note."), field="body")
    unknown = unknown_placeholders(body)
    if unknown:
        raise InvalidChange(
            gettext("Unknown placeholder: %(names)s") % {"names": ", ".join(unknown)}, field="body"
        )
    pending, already = askers_to_tell(item)
    told = 0
    for customer in pending:
        try:
            with transaction.atomic():
                notice = Notice.objects.create(
                    item=item, customer=customer, reason=reason, sent_by=agent
                )
                (ticket,) = start_outreach(
                    agent, mailbox, [customer.email], subject, body, tags=[OUTREACH_TAG]
                )
                notice.ticket = ticket
                notice.save(update_fields=["ticket"])
        except IntegrityError:
            # Told meanwhile by another send: the unique row says so.
            already += 1
            continue
        told += 1
    return Told(told=told, already=already)


@transaction.atomic
def publish_update(
    item: FeedbackItem,
    agent: User,
    *,
    title: str,
    body: str,
    mailbox: Mailbox,
    subject: str,
    note: str,
) -> tuple[ProductUpdate, Told]:
    """A shipped item becomes an entry of the changelog, and the people who follow it and
    were not told yet get the note (the same path as `tell_askers`)."""
    check_actor(agent)
    if not _shipped(item):
        raise InvalidChange(gettext("Only a shipped item becomes a product update."))
    if ProductUpdate.objects.filter(item=item).exists():
        raise InvalidChange(gettext("This item is already a product update."))
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        raise InvalidChange(gettext("Give the update a title."), field="title")
    if not body:
        raise InvalidChange(gettext("Write what changed."), field="update_body")
    update = ProductUpdate.objects.create(item=item, title=title, body=body, created_by=agent)
    told = tell_askers(
        item, agent, mailbox=mailbox, subject=subject, body=note, reason=NoticeReason.UPDATE
    )
    return update, told
