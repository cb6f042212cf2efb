"""The migrations that moved models between apps keep every row.

Mail and workflow became apps of their own (tickets/migrations/0015, mail/0001,
workflow/0001) and the request-form visits moved from portal to kb (kb/0004,
portal/0002). They change Django's state only: a database that holds data from the
schema before them must come out with the same rows, readable through today's models,
and its content types (admin permissions, log entries) must follow.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from kb.models import RequestFormVisit
from tickets.mail.models import QuarantinedEmail
from tickets.models import Ticket
from tickets.workflow.models import AutomationRule, CannedReply, SlaPolicy

BEFORE = [
    ("tickets", "0014_ticket_unassigned_mailbox"),
    ("mail", None),
    ("workflow", None),
    ("kb", "0003_title_vector"),
    ("portal", "0001_initial"),
]


def _migrate(targets: list[tuple[str, str | None]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor.migrate(targets).apps


def _latest() -> list[tuple[str, str | None]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_moving_models_between_apps_keeps_every_row() -> None:
    latest = _latest()
    try:
        old = _migrate(BEFORE)
        # Rows written through the models as they were before the move.
        mailbox = old.get_model("tickets", "Mailbox").objects.create(
            address="moves@tandem.test", name="Moves"
        )
        customer = old.get_model("tickets", "Customer").objects.create(
            email="mover@example.test", created_at=timezone.now()
        )
        policy = old.get_model("tickets", "SlaPolicy").objects.create(
            name="Urgent", priority="urgent", first_response_hours=1, resolution_hours=4
        )
        ticket = old.get_model("tickets", "Ticket").objects.create(
            subject="Moved",
            mailbox=mailbox,
            customer=customer,
            sla_policy=policy,
            created_at=timezone.now(),
            updated_at=timezone.now(),
        )
        old.get_model("tickets", "AutomationRule").objects.create(
            name="Moved rule", trigger="created", conditions=[], actions=[]
        )
        old.get_model("tickets", "CannedReply").objects.create(title="Moved reply", body="Hi")
        old.get_model("tickets", "QuarantinedEmail").objects.create(
            raw="quarantine/moved.eml", sha256="f" * 64, reason="kept", mailbox=mailbox
        )
        old.get_model("portal", "RequestFormVisit").objects.create(customer=customer)
        content_types = old.get_model("contenttypes", "ContentType").objects
        content_types.get_or_create(app_label="tickets", model="automationrule")
        content_types.get_or_create(app_label="portal", model="requestformvisit")

        _migrate(latest)

        assert Ticket.objects.get(pk=ticket.pk).sla_policy == SlaPolicy.objects.get(name="Urgent")
        assert AutomationRule.objects.filter(name="Moved rule").exists()
        assert CannedReply.objects.get(title="Moved reply").body == "Hi"
        assert QuarantinedEmail.objects.get(sha256="f" * 64).mailbox_id == mailbox.pk
        assert RequestFormVisit.objects.get(customer_id=customer.pk).ticket_id is None
        moved = ContentType.objects.filter(model__in=["automationrule", "requestformvisit"])
        assert {(c.app_label, c.model) for c in moved} == {
            ("workflow", "automationrule"),
            ("kb", "requestformvisit"),
        }
    finally:
        _migrate(latest)
