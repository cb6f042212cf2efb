"""WCAG 2.1 A and AA on every main page, for every role, on a desktop and a phone, in
light and dark mode: axe-core (vendored in tests/e2e/vendor/) finds no violation, and no
page scrolls sideways.

Each test signs one role in (a session cookie made by Django's test client), opens every
page that role reaches, runs axe on it and collects what fails, so one run names every
page's problems at once.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from feedback import services as feedback_services
from feedback.models import ProductUpdate
from metrics import surveys
from metrics.services import recompute_all
from tests.conftest import Personas
from tests.factories import (
    assign,
    make_article,
    make_section,
    make_ticket,
    open_ticket,
    reply,
    set_status,
)
from tickets import saved_views, services
from tickets.models import Notification, Ticket, User
from tickets.selectors import InboxQuery
from widget.models import WidgetSite

pytestmark = pytest.mark.django_db(transaction=True)

AXE = (Path(__file__).parent / "vendor" / "axe-4.14.1.min.js").read_text()
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def _seed(p: Personas) -> dict[str, Any]:
    """A help center, a customer's conversation with an agent's reply and a note, solved
    tickets with figures and survey answers for the dashboards."""
    section = make_section("Account", "Signing in")
    article = make_article(
        "Reset your password",
        "Press **Forgot password**.\n\n1. Check your mail\n2. Open the [link](https://example.test)"
        "\n\n| Step | What |\n|---|---|\n| 1 | Mail |\n\n`code` and\n\n```\nblock\n```",
        section=section,
        author=p.agent_a,
    )
    start = timezone.now() - timedelta(days=2)
    ticket = make_ticket(p.mailbox_a, p.customer, subject="Cannot sign in", at=start)
    assign(ticket, p.agent_a, start + timedelta(minutes=5))
    reply(ticket, p.agent_a, start + timedelta(hours=1))
    services.add_note(ticket, p.agent_a, "Checked the logs @ana", at=start + timedelta(hours=2))
    for n, (csat, ces) in enumerate([(1, 2), (3, 4), (5, 7)]):
        solved = open_ticket(p.mailbox_a, p.customer, at=start + timedelta(minutes=n))
        assign(solved, p.agent_a, start + timedelta(minutes=10 + n))
        reply(solved, p.agent_a, start + timedelta(hours=1 + n))
        set_status(solved, p.agent_a, "solved", start + timedelta(hours=3 + n))
        link = surveys.SurveyLink("csat", p.customer, solved, None)
        surveys.record_answers(link, {"csat": csat, "ces": ces}, f"Comment {n}")
    set_status(ticket, p.agent_a, "pending", start + timedelta(hours=3))
    recompute_all()
    token = surveys.make_token("csat", p.customer.pk, ticket_id=ticket.pk)
    # A shipped item on the roadmap, asked for by the ticket, with its product update.
    item = feedback_services.create_item(p.agent_a, title="Export to CSV", description="All views")
    feedback_services.link_ticket(item, ticket, p.agent_a)
    feedback_services.update_item(item, p.manager, status="shipped", public=True)
    ProductUpdate.objects.create(item=item, title="CSV export is here", body="Export any view.")
    # Another agent uses two-factor sign-in (its reset page), and someone is invited.
    TOTPDevice.objects.create(user=p.agent_b, name="Authenticator app", confirmed=True)
    invited = User(username="nia@staff.test", email="nia@staff.test", role="agent")
    invited.is_active = False
    invited.set_unusable_password()
    invited.save()
    view = saved_views.save_view(p.agent_a, "Pending ones", InboxQuery(view="pending"))
    Notification.objects.create(
        recipient=p.agent_a, kind="mention", ticket=ticket, headline="Mo mentioned you"
    )
    site = WidgetSite.objects.create(
        name="Shop", allowed_origins=["https://shop.example.com"], mailbox=p.mailbox_a
    )
    return {
        "ticket": ticket,
        "article": article,
        "survey": f"/survey/{token}/?score=4",
        "item": item,
        "two_factor_agent": p.agent_b.pk,
        "view": view,
        "widget": site,
    }


def _pages(role: str, seed: dict[str, Any]) -> list[str]:
    ticket: Ticket = seed["ticket"]
    item = seed["item"].pk
    public = [
        "/help/",
        seed["article"].get_absolute_url(),
        "/portal/sign-in/",
        seed["survey"],
        "/help/roadmap/",
        f"/help/roadmap/{item}/",
        "/help/updates/",
        f"/widget/v1/frame/?site={seed['widget'].key}",
    ]
    customer = [
        "/portal/feedback/",
        f"/help/roadmap/{item}/",
        "/portal/requests/",
        f"/portal/requests/{ticket.pk}/",
        "/portal/requests/new/",
        "/portal/account/",
    ]
    agent = [
        "/",
        "/?view=pending",
        f"/tickets/{ticket.pk}/",
        "/search/?q=sign",
        "/search/?q=nothing-matches-this",
        "/tickets/new/",
        "/kb/",
        f"/kb/{seed['article'].pk}/edit/",
        f"/kb/{seed['article'].pk}/translations/de/",
        "/kb/new/",
        "/kb/gaps/",
        "/workflow/canned/",
        f"/customers/{ticket.customer_id}/",
        "/accounts/at-risk/",
        "/accounts/mine/",
        "/settings/",
        "/settings/tokens/",
        "/me/two-factor/",
        "/me/signature/",
        "/feedback/",
        "/feedback/new/",
        f"/feedback/{item}/",
        f"/feedback/{item}/notes/",
        f"/feedback/{item}/update/",
        f"/?saved={seed['view'].pk}",
        "/notifications/",
        "/me/notifications/",
    ]
    manager = [
        f"/feedback/{item}/",
        "/dashboards/support/",
        "/dashboards/service/",
        "/dashboards/tickets/?dashboard=support&figure=resolution",
    ]
    admin = [
        "/workflow/rules/",
        "/workflow/rules/new/",
        "/workflow/sla/",
        "/workflow/sla/new/",
        "/style/",
        "/settings/agents/",
        f"/settings/agents/{seed['two_factor_agent']}/",
        f"/settings/agents/{seed['two_factor_agent']}/two-factor/",
        "/settings/teams/",
        "/settings/teams/new/",
        "/settings/mailboxes/",
        "/settings/mailboxes/new/",
        "/settings/calendars/",
        "/settings/calendars/new/",
        "/settings/branding/",
        "/settings/fields/",
        "/settings/fields/new/",
        "/settings/request-forms/",
        "/settings/request-forms/new/",
        "/settings/two-factor/",
        "/settings/audit/",
        "/settings/assist/",
        f"/settings/assist/?ticket={ticket.pk}",
        "/settings/webhooks/",
        "/settings/widget/",
        f"/settings/widget/{seed['widget'].pk}/",
    ]
    return {
        "public": public,
        "customer": customer,
        "agent": agent,
        "manager": agent[:3] + manager,
        "admin": agent[2:3] + manager + admin,
    }[role]


def _user(role: str, p: Personas) -> User | None:
    return {
        "public": None,
        "customer": p.customer.user,
        "agent": p.agent_a,
        "manager": p.manager,
        "admin": p.admin,
    }[role]


def _sign_in(context: Any, user: User | None, base_url: str) -> None:
    if user is None:
        return
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])


def _check(page: Any, path: str) -> list[str]:
    response = page.goto(path)
    assert response is not None and response.status == 200, (path, response and response.status)
    page.wait_for_load_state("networkidle")
    problems: list[str] = []
    result = page.evaluate(
        "async (tags) => { const r = await axe.run(document, "
        "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, help: v.help,"
        " nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' :: '"
        " + (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 220))})); }",
        TAGS,
    )
    for violation in result:
        problems.append(f"{path}: {violation['id']} ({violation['help']})")
        problems.extend(f"    {node}" for node in violation["nodes"])
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1]:
        problems.append(f"{path}: scrolls sideways ({width[0]} px of content in {width[1]} px)")
    return problems


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("role", ["public", "customer", "agent", "manager", "admin"])
def test_every_page_passes_axe_and_fits_the_screen(
    browser: Any, live_server: Any, personas: Personas, role: str, width: str, scheme: str
) -> None:
    seed = _seed(personas)
    w, h = WIDTHS[width]
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": w, "height": h},
        color_scheme=scheme,
        is_mobile=width == "phone",
        has_touch=width == "phone",
        # axe is injected as a script of the test, which our CSP (nonce only) would refuse.
        bypass_csp=True,
    )
    context.set_default_timeout(30_000)
    context.add_init_script(AXE)
    _sign_in(context, _user(role, personas), live_server.url)
    page = context.new_page()
    problems: list[str] = []
    try:
        for path in _pages(role, seed):
            problems.extend(_check(page, path))
    finally:
        context.close()
    assert not problems, f"{len(problems)} problem lines:\n" + "\n".join(problems)


def test_the_axe_check_sees_a_violation(browser: Any, live_server: Any) -> None:
    """The check itself works: a page with an unlabelled field and low contrast fails."""
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    context.add_init_script(AXE)
    page = context.new_page()
    page.goto("/help/")
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend',"
        " '<input type=text><p style=\"color:#bbb;background:#fff\">faint</p>')"
    )
    ids = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => v.id)",
        TAGS,
    )
    context.close()
    assert {"label", "color-contrast"} <= set(ids), json.dumps(ids)
