"""The demo data carries survey answers and computed figures."""

import pytest
from django.core.management import call_command

from metrics.models import SurveyInvitation, SurveyResponse, TicketFigures
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_surveys_and_figures() -> None:
    call_command("seed_demo", tickets=40, verbosity=0)
    assert TicketFigures.objects.count() == Ticket.objects.count() == 40
    kinds = set(SurveyResponse.objects.values_list("kind", flat=True))
    assert kinds == {"csat", "ces", "nps"}
    solved = Ticket.objects.filter(status__in=["solved", "closed"]).count()
    assert SurveyInvitation.objects.filter(kind="csat").count() == solved
