"""History import, many tickets at once (issue #2: at least 400 tickets/s).

`import_plans` takes ticket records already checked by `tickets.importer.plan_ticket`
and replays each history in memory with the same functions the per-change services use
(`services.new_ticket`, `new_message`, `message_updates`, `apply_changes`,
`metrics.surveys.answer_values`...), so it computes the same tickets, messages, events
and answers. Then it writes the whole batch in one transaction with one COPY per table,
and does in set-based form what the services' after-commit hook does per ticket: the
figures (`metrics.services.refresh_figures_of`, the code of the full recompute), the SLA
due times, and the rule engine's cursor past the imported events (imported history runs
no rules).

A batch this path cannot replay exactly raises `NotCovered` before anything is kept,
and the importer takes that batch line by line through the services instead: a batch
with a ticket that round-robin assignment would pick up (the rotation and the agents'
open counts depend on each earlier ticket being committed alone).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction

from helpdesk.instances import unsaved
from metrics.hooks import figures_written
from metrics.models import SurveyResponse
from metrics.services import refresh_figures_of
from metrics.surveys import SurveyLink, answer_values, answers_event
from tickets import services
from tickets.models import (
    ActorKind,
    Customer,
    EventKind,
    Message,
    Organization,
    Team,
    Ticket,
    TicketEvent,
    User,
)
from tickets.rows import NotCovered, copy_rows, reserve_ids
from tickets.services import IMPORT, Actor
from tickets.workflow import automation, sla
from tickets.workflow.models import AssignmentPolicy

if TYPE_CHECKING:
    from importer.lines import Lookups, TicketPlan


@dataclass
class _Replayed:
    ticket: Ticket
    messages: list[Message]
    events: list[TicketEvent]
    answers: list[SurveyResponse]


def import_plans(plans: list[TicketPlan], lookups: Lookups) -> list[Ticket]:
    """Write the tickets of `plans` (external ids new and distinct) in one transaction.

    About twenty queries however many plans; raises NotCovered (nothing kept) for a batch
    that needs the per-line path, and lets a DatabaseError through the same way.
    """
    with transaction.atomic():
        teams = {
            (p.team_name, p.mailbox.pk): lookups.ticket_team(p.team_name, p.mailbox)
            for p in plans
            if p.team_name
        }
        customers = _customers(plans)
        # Numbers and ids drawn up front, so messages and events can point at them.
        ticket_numbers = iter(reserve_ids(Ticket, len(plans)))
        ids = iter(reserve_ids(Message, sum(s.message is not None for p in plans for s in p.steps)))
        replays = [
            _replay(
                plan,
                customer,
                teams.get((plan.team_name, plan.mailbox.pk)) if plan.team_name else None,
                lookups,
                ticket_numbers,
                ids,
            )
            for plan, customer in zip(plans, customers, strict=True)
        ]
        tickets = [replay.ticket for replay in replays]
        _check_no_assignment(tickets)
        calendar_of = sla.calendar_per_mailbox()
        for ticket in tickets:
            sla.apply_due_times(ticket, calendar_of)
        copy_rows(tickets)
        copy_rows([m for replay in replays for m in replay.messages])
        copy_rows([e for replay in replays for e in replay.events], with_pk=False)
        copy_rows([a for replay in replays for a in replay.answers], with_pk=False)
        numbers = [ticket.pk for ticket in tickets]
        automation.mark_events_seen(numbers)
        refresh_figures_of(numbers)
        solved = {ticket.pk: ticket.solved_at for ticket in tickets}
        transaction.on_commit(lambda: figures_written(solved))
    return tickets


def _customers(plans: list[TicketPlan]) -> list[Customer]:
    """Each plan's customer, as `services.get_or_create_customer` would leave it after the
    plans one by one: created on first mention, a missing name or organization filled by
    the first plan that has one."""
    emails = {plan.customer_email for plan in plans}
    known = services.customers_by_address(emails)
    domain_organization = services.organizations_by_domain(emails - known.keys())
    created: dict[str, Customer] = {}
    changed: dict[str, Customer] = {}
    organization_of: dict[str, str] = {}
    result = []
    for plan in plans:
        email = plan.customer_email
        customer = known.get(email) or created.get(email)
        if customer is None:
            customer = created[email] = Customer(
                email=email,
                name=plan.customer_name[:200],
                organization_id=domain_organization.get(email),
            )
        elif plan.customer_name and not customer.name:
            customer.name = plan.customer_name[:200]
            changed[email] = customer
        if plan.organization and customer.organization_id is None and email not in organization_of:
            organization_of[email] = plan.organization[:200]
            changed[email] = customer
        result.append(customer)
    if organization_of:
        names = set(organization_of.values())
        organizations = {o.name: o for o in Organization.objects.filter(name__in=names)}
        missing = [Organization(name=name) for name in sorted(names - set(organizations))]
        organizations.update((o.name, o) for o in Organization.objects.bulk_create(missing))
        for email, name in organization_of.items():
            (known.get(email) or created[email]).organization = organizations[name]
    Customer.objects.bulk_create(created.values())
    existing = [customer for email, customer in changed.items() if email in known]
    if existing:
        Customer.objects.bulk_update(existing, ["name", "organization"])
    return result


def _replay(
    plan: TicketPlan,
    customer: Customer,
    team: Team | None,
    lookups: Lookups,
    numbers: Iterator[int],
    message_ids: Iterator[int],
) -> _Replayed:
    """One ticket's history in memory, change by change as `import_ticket` replays it."""
    ticket = services.new_ticket(**plan.ticket_fields(team), customer=customer)
    ticket.number = next(numbers)
    events = [services.created_event(ticket, actor=IMPORT)]
    messages = []
    for step in plan.steps:
        if step.message is None:
            changed, _ = services.apply_changes(
                ticket, dict(step.changes), actor=IMPORT, at=step.at
            )
            events.extend(changed)
            continue
        source = step.message
        message = services.new_message(ticket, **source.message_fields(step.at))
        message.pk = next(message_ids)
        messages.append(message)
        events.append(services.message_event(message, actor=Actor(ActorKind.IMPORT, source.author)))
        for key, value in services.message_updates(ticket, message).items():
            setattr(ticket, key, value)
    answers = []
    for survey in plan.surveys:
        assignee = _assignee_at(events, survey.at, lookups)
        link = answer_link(ticket, customer, survey.kind, assignee.pk if assignee else None)
        values = answer_values(link, survey.kind, survey.score, survey.comment, survey.at)
        answers.append(unsaved(SurveyResponse)(ticket=ticket, kind=survey.kind, **values))
        scores = {survey.kind: survey.score}
        link = SurveyLink(survey.kind, customer, ticket)
        events.append(answers_event(link, scores, survey.comment, survey.at))
    return _Replayed(ticket, messages, events, answers)


def answer_link(
    ticket: Ticket, customer: Customer, kind: str, assignee_id: int | None
) -> SurveyLink:
    """The survey as the customer answered it. CSAT and CES are filed under whoever was
    assigned when the customer answered, not at the end of the history."""
    at_answer = copy.copy(ticket)
    at_answer.assignee_id = assignee_id
    return SurveyLink(kind, customer, at_answer)


def _assignee_at(events: list[TicketEvent], at: datetime, lookups: Lookups) -> User | None:
    """The agent of the last assignee event at or before `at` (events in the order saved)."""
    latest = None
    for event in events:
        is_assignment = event.kind == EventKind.ASSIGNEE and event.at <= at
        if is_assignment and (latest is None or event.at >= latest.at):
            latest = event
    if latest is None or not latest.after:
        return None
    return lookups.agent(latest.after)


def _check_no_assignment(tickets: list[Ticket]) -> None:
    teams = {ticket.team_id for ticket in tickets if ticket.team_id is not None}
    if not teams:
        return
    rotating = set(
        AssignmentPolicy.objects.filter(team_id__in=teams, enabled=True).values_list(
            "team_id", flat=True
        )
    )
    for ticket in tickets:
        if ticket.team_id in rotating and ticket.assignee_id is None and ticket.is_open:
            raise NotCovered(f"round-robin would assign {ticket.external_id}")
