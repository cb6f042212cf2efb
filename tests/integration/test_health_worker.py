"""Account health through a real Celery worker and Redis: a change to a ticket reaches
the worker, which measures the customer and the organization once and keeps the day's
snapshot; a fall below a health rule's threshold opens the owner's follow-up."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from service.models import AccountHealth, HealthSnapshot
from tests.factories import make_customer, make_mailbox, make_user
from tests.integration.conftest import wait_for
from tickets import services
from tickets.models import Kind, Organization, Role, Team, Ticket
from tickets.workflow.automation import rules_changed
from tickets.workflow.follow_ups import HEALTH_TAG
from tickets.workflow.models import AutomationRule, Trigger

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_change_is_measured_by_the_worker_and_a_fall_acts(
    celery_worker: subprocess.Popen[bytes], settings
) -> None:
    # The hook's pending keys and the worker's must be the same keys.
    settings.CACHES = {name: {**c, "KEY_PREFIX": ""} for name, c in settings.CACHES.items()}
    # An earlier run's hand-over marks (same ids in a new test database) would hold the
    # new changes back until they expire.
    marks = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    for key in marks.scan_iter("*health-*"):
        marks.delete(key)
    team = Team.objects.create(name="Accounts")
    owner = make_user(Role.AGENT, teams=[team])
    mailbox = make_mailbox(teams=[team])
    org = Organization.objects.create(name="Acme", success_contact=owner)
    customer = make_customer("ops@acme.test", organization=org)
    AutomationRule.objects.create(
        name="Falling",
        trigger=Trigger.HEALTH_FELL,
        conditions=[{"field": "health", "op": "below", "value": 70}],
        actions=[{"type": "health_follow_up"}],
    )
    rules_changed()
    # Five support tickets this month (baseline 1): -20; the oldest open 9 days: -2.
    for days in (9, 8, 7, 6, 5):
        services.create_ticket(
            mailbox=mailbox,
            customer=customer,
            subject="Broken again",
            body_text="Invoice 12",
            at=timezone.now() - timedelta(days=days),
        )

    row = wait_for(
        lambda: AccountHealth.objects.filter(organization=org).first(), "the organization's health"
    )
    assert row.score == 58  # 80 - 20 - 2
    # The worker measures the customer and the organization one after the other.
    mine = wait_for(
        lambda: AccountHealth.objects.filter(customer=customer).first(), "the customer's health"
    )
    assert mine.score == 58
    assert HealthSnapshot.objects.filter(organization=org).count() == 1
    follow_up = wait_for(
        lambda: Ticket.objects.filter(kind=Kind.SERVICE, tags__contains=[HEALTH_TAG]).first(),
        "the health follow-up",
    )
    # The customer and the organization both fell; one follow-up for the account.
    assert follow_up.assignee == owner
    assert Ticket.objects.filter(kind=Kind.SERVICE, tags__contains=[HEALTH_TAG]).count() == 1
