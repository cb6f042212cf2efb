"""Who may open which page or API endpoint: the one place that answers it.

A user row knows its role (`User.is_agent`, `User.sees_everything`, `User.is_admin`);
this module asks it of the caller of a request, who may be anonymous. The predicates
(`is_agent`, `is_light_agent`, `may_act`, `is_manager`, `is_admin`, `is_customer`), the
view decorators and the DRF permission classes below are all built on the same checks,
so a page and its API endpoint cannot drift apart. Which tickets or articles someone may
see is the business of the access helpers (tickets.access, kb.access), not of this module.

Views behind a decorator take a typed request (`AuthedRequest`, `CustomerRequest`): its
`user` is our User, not `User | AnonymousUser`, because the decorator has checked it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, Concatenate, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from rest_framework import exceptions, permissions
from rest_framework.request import Request

from helpdesk.http import HtmxRequest
from tickets.languages import customer_language
from tickets.models import Customer, User
from tickets.services.policy import LIGHT_AGENT_REFUSAL

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser
    from django_stubs_ext import StrOrPromise

    Caller = User | AbstractBaseUser | AnonymousUser | None


def _signed_in(user: Caller) -> User | None:
    """The caller as our User if signed in and active, else None."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return cast(User, user)


def is_agent(user: Caller) -> bool:
    """Staff: a light agent, an agent, a manager or an admin (the agent workspace, to read
    tickets and write internal notes; internal articles)."""
    signed_in = _signed_in(user)
    return signed_in is not None and signed_in.is_agent


def is_light_agent(user: Caller) -> bool:
    """A light agent: reads the tickets of their teams' mailboxes and writes internal
    notes; never replies, changes a ticket or holds one (services.check_actor)."""
    signed_in = _signed_in(user)
    return signed_in is not None and signed_in.is_light_agent


def may_act(user: Caller) -> bool:
    """Staff who may reply to customers, open and change tickets: not a light agent."""
    signed_in = _signed_in(user)
    return signed_in is not None and signed_in.may_act


def is_manager(user: Caller) -> bool:
    """A manager or an admin (dashboards, metrics, every mailbox, automation rules and SLA
    policies)."""
    signed_in = _signed_in(user)
    return signed_in is not None and signed_in.sees_everything


def is_admin(user: Caller) -> bool:
    """An admin (settings, the audit log, privacy, history import)."""
    signed_in = _signed_in(user)
    return signed_in is not None and signed_in.is_admin


def is_customer(user: Caller) -> bool:
    """Signed in, and not staff: the portal's people."""
    signed_in = _signed_in(user)
    return signed_in is not None and not signed_in.is_agent


class AuthedRequest(HtmxRequest):
    """The request a view behind one of the decorators below receives (for the type
    checker: at run time it is the same request, whose user the decorator checked)."""

    user: User


class CustomerRequest(AuthedRequest):
    """The request of a portal view behind `customer_required`: the customer record too."""

    customer: Customer


type View[**P] = Callable[Concatenate[HtmxRequest, P], HttpResponseBase]


def agent_required[**P](
    view: Callable[Concatenate[AuthedRequest, P], HttpResponseBase],
) -> View[P]:
    """Staff only. Anonymous people go to the sign-in page; customers are sent to the
    portal (a GET of a page) or get a 404 (anything else)."""

    @login_required
    @wraps(view)
    def wrapped(request: HtmxRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        if not is_agent(request.user):
            if request.method == "GET" and not request.htmx:
                return redirect("/portal/")
            raise Http404("Not found")
        return view(cast(AuthedRequest, request), *args, **kwargs)

    return wrapped


def _staff_required[**P](
    check: Callable[[Caller], bool], refusal: StrOrPromise
) -> Callable[[Callable[Concatenate[AuthedRequest, P], HttpResponseBase]], View[P]]:
    """A decorator for staff pages that only some staff may open: other staff get a 403
    saying `refusal`; anyone else is answered as by `agent_required`."""

    def decorator(view: Callable[Concatenate[AuthedRequest, P], HttpResponseBase]) -> View[P]:
        @agent_required
        @wraps(view)
        def wrapped(request: AuthedRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
            if not check(request.user):
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def admin_required[**P](
    view: Callable[Concatenate[AuthedRequest, P], HttpResponseBase],
) -> View[P]:
    """Settings pages: admins only. Other staff get a 403 that says so; anyone else is
    answered as by `agent_required`."""
    return _staff_required(is_admin, "Only admins can change these settings.")(view)


def setup_required[**P](
    view: Callable[Concatenate[AuthedRequest, P], HttpResponseBase],
) -> View[P]:
    """Automation rules and SLA policies: managers and admins. Other staff get a 403 that
    says so; anyone else is answered as by `agent_required`."""
    return _staff_required(
        is_manager, "Only managers and admins can change automation and SLA settings."
    )(view)


def acting_agent_required[**P](
    view: Callable[Concatenate[AuthedRequest, P], HttpResponseBase],
) -> View[P]:
    """Pages only for staff who may reply and open tickets (a new ticket, outreach): a light
    agent gets a 403 that says why (the services refuse them anyway: this spares them a
    form they could not send)."""
    return _staff_required(may_act, LIGHT_AGENT_REFUSAL)(view)


def manager_required[**P](
    view: Callable[Concatenate[AuthedRequest, P], HttpResponseBase],
) -> View[P]:
    """Dashboards: managers and admins only. Anyone else signed in gets a 403, anonymous
    people the sign-in page."""

    @login_required
    @wraps(view)
    def wrapped(request: HtmxRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        if not is_manager(request.user):
            raise PermissionDenied("Dashboards are for managers and admins.")
        return view(cast(AuthedRequest, request), *args, **kwargs)

    return wrapped


def customer_required[**P](
    view: Callable[Concatenate[CustomerRequest, P], HttpResponseBase],
) -> View[P]:
    """The portal: signed-in customers with a customer record (`request.customer`).
    Anonymous people go to the portal's sign-in; staff are sent to their workspace (a
    GET) or get a 404 (anything else); a user without a customer record gets a 404."""

    @wraps(view)
    def wrapped(request: HtmxRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        if not request.user.is_authenticated:
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('portal:sign_in')}?{query}")
        if not is_customer(request.user):
            if request.method == "GET":
                return redirect("tickets:inbox")
            raise Http404("Not found")
        customer = Customer.objects.select_related("organization").filter(user=request.user).first()
        if customer is None:
            raise Http404("No customer record")
        typed = cast(CustomerRequest, request)
        typed.customer = customer
        # The portal speaks the customer's language (profile, mail, then browser).
        with translation.override(customer_language(customer, request)):
            typed.LANGUAGE_CODE = translation.get_language()
            return view(typed, *args, **kwargs)

    return wrapped


# --- the API: the same checks as DRF permission classes ------------------------------------


class IsAgent(permissions.BasePermission):
    message = "Only agents, managers and admins may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_agent(request.user)


class IsManager(permissions.BasePermission):
    message = "Only managers and admins may read metrics."

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_manager(request.user)


class IsAdmin(permissions.BasePermission):
    message = "Only admins may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_admin(request.user)


def api_user(request: Request) -> User:
    """The caller of an API view whose permission classes let only signed-in users in
    (the default, IsAuthenticated): our User, typed as such."""
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user
