"""Moments of the metrics app that the apps above it plug into (their `ready()`):
sections added to the service dashboard, and the end of `manage.py recompute_metrics`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tickets.hooks import Collect, Hook

if TYPE_CHECKING:
    from django.utils.safestring import SafeString

    from metrics.dashboards import DashboardFilters
    from tickets.models import User

# When the service dashboard is drawn: each receiver returns HTML sections, in order.
service_sections: Collect[[User, DashboardFilters, str], SafeString] = Collect("service_sections")
# After `manage.py recompute_metrics` recomputed every ticket's figures: the service app
# brings account health and topics up to date.
recomputed: Hook[[]] = Hook("recomputed")
