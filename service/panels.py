"""What the service app adds to pages of the apps below it: the health panel of the
customer and organization pages (tickets.hooks.account_panels) and the at-risk and
topics sections of the service dashboard (metrics.extensions.service_sections)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from metrics.charts import chart
from service import health, selectors, topics
from tickets.models import Customer, Organization, User
from tickets.workflow.automation.health import Account

if TYPE_CHECKING:
    from metrics.dashboards import DashboardFilters

DASHBOARD_ROWS = 10


def account_of(record: Customer | Organization) -> Account:
    return Account("customer" if isinstance(record, Customer) else "organization", record.pk)


def health_panel(user: User, record: Customer | Organization) -> list[SafeString]:
    account = account_of(record)
    row = (
        selectors.health_of(customer_id=record.pk)
        if account.kind == "customer"
        else selectors.health_of(organization_id=record.pk)
    )
    days = health.trend(account)
    trend = chart(
        [(d.day, float(d.score)) for d in days],
        title=gettext("Health, one point per day"),
        kind="line",
        scale=(0, 100),
    )
    if row is not None:
        row.factors = [health.explain(factor) for factor in row.factors or []]
    html = render_to_string(
        "service/_health_panel.html", {"health": row, "trend": trend, "account": account}
    )
    return [mark_safe(html)]


def dashboard_sections(user: User, form: DashboardFilters, query: str) -> list[SafeString]:
    data = form.cleaned_data
    window = form.window(data.get("kind") or "all")
    filters = topics.TopicFilters(
        start=window.start,
        end=window.end,
        team_id=window.team_id,
        mailbox_id=window.mailbox_id,
    )
    at_risk = selectors.at_risk(user, selectors.AccountFilters(team_id=window.team_id))
    html = render_to_string(
        "service/_dashboard_sections.html",
        {
            "at_risk": list(at_risk[:DASHBOARD_ROWS]),
            "below": selectors.AT_RISK_BELOW,
            "topics": topics.window_topics(filters),
            "drill_query": topics_query(filters),
            "team_id": window.team_id or "",
        },
    )
    return [mark_safe(html)]


def topics_query(filters: topics.TopicFilters) -> str:
    params = {"start": filters.start.isoformat(), "end": filters.end.isoformat()}
    for name in ("team_id", "mailbox_id", "kind"):
        value = getattr(filters, name)
        if value:
            params[name.removesuffix("_id")] = str(value)
    return urlencode(params)
