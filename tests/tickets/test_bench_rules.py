"""The workflow bench section runs end to end on small data and leaves nothing behind."""

from __future__ import annotations

import io

import pytest

from bench import workflow as bench_workflow
from bench.core import Bench
from tests.conftest import Personas
from tests.factories import make_customer, make_ticket
from tickets.models import Ticket, TicketEvent
from tickets.workflow.models import AutomationRule, SlaAlert, SlaPolicy


class SmallBench(Bench):
    def __init__(self, agent: object) -> None:
        super().__init__(out=io.StringIO(), tickets=5)
        self._agent = agent

    @property
    def agent(self):  # type: ignore[override]
        return self._agent


@pytest.mark.django_db
def test_workflow_bench_section_measures_and_cleans_up(personas: Personas) -> None:
    for _ in range(5):
        make_ticket(personas.mailbox_a, make_customer())
    rules_before = AutomationRule.objects.count()
    bench = SmallBench(personas.agent_a)
    bench.section = "tickets"
    bench_workflow.run(bench)
    names = [r.name for r in bench.results]
    assert any(n.startswith("rules per change") for n in names)
    assert any(n.startswith("SLA beat, first run") for n in names)
    assert all(r.samples_ms for r in bench.results if r.rate is None)
    assert AutomationRule.objects.count() == rules_before
    assert not SlaPolicy.objects.exists() and not SlaAlert.objects.exists()
    assert not Ticket.objects.filter(resolution_due_at__isnull=False).exists()
    assert not TicketEvent.objects.filter(kind="sla").exists()
