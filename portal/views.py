"""The customer portal: sign-in, requests, replies. Customers never reach agent screens."""

from __future__ import annotations

import math
import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.forms import SetPasswordForm
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk import signin
from helpdesk.ratelimit import RateLimited
from kb.access import get_article_for
from kb.search import search_articles
from portal import request_forms, selectors, services
from portal.forms import EmailLinkForm, NewRequestForm, PasswordSignInForm, ReplyForm
from tickets import services as ticket_services
from tickets.access import get_ticket_for
from tickets.history import merged_target
from tickets.models import Customer
from tickets.permissions import CustomerRequest, customer_required, is_customer
from tickets.services import FieldErrors

SUGGESTIONS = 5
BACKEND = "accounts.backends.PasswordBackend"


def _safe_next(request: HttpRequest, target: str | None) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("portal:requests")


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if is_customer(request.user):
        return redirect("portal:requests")
    return redirect("portal:sign_in")


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and request.GET.get("next"):
        request.session["portal_next"] = request.GET["next"]
    link_form = EmailLinkForm(request.POST if request.POST.get("method") == "link" else None)
    password_form = PasswordSignInForm(
        request.POST if request.POST.get("method") == "password" else None, prefix="pw"
    )
    status = 200
    refused_for = 0  # minutes, when too many attempts came from here
    try:
        if link_form.is_bound and link_form.is_valid():
            services.request_sign_in_link(
                link_form.cleaned_data["email"], client_ip=signin.client_ip(request) or ""
            )
            return redirect("portal:sign_in_sent")
        if password_form.is_bound and password_form.is_valid():
            email = password_form.cleaned_data["email"]
            user = services.authenticate_customer(
                request, email, password_form.cleaned_data["password"]
            )
            if user is not None:
                login(request, user, backend=BACKEND)
                return redirect(_safe_next(request, request.session.pop("portal_next", None)))
            if signin.is_refused(request):
                refused_for = signin.retry_in_minutes(request, {"username": email})
            else:
                password_form.add_error(None, _("That email address and password do not match."))
                status = 400
    except RateLimited as limited:
        refused_for = math.ceil(limited.retry_after / 60)
    except services.SignInMailUnavailable:
        messages.error(
            request,
            _("We could not send the sign-in email just now. Please try again in a few minutes."),
        )
        status = 503
    if refused_for:
        messages.error(request, signin.too_many_attempts(refused_for))
        return signin.refused(_sign_in_page(request, link_form, password_form), refused_for)
    if request.method == "POST" and status == 200:
        status = 400
    return _sign_in_page(request, link_form, password_form, status)


def _sign_in_page(
    request: HttpRequest,
    link_form: EmailLinkForm,
    password_form: PasswordSignInForm,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "portal/sign_in.html",
        {"link_form": link_form, "password_form": password_form, "nav": "sign_in"},
        status=status,
    )


@require_GET
def sign_in_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/sign_in_sent.html", {"nav": "sign_in"})


@require_http_methods(["GET", "POST"])
def redeem(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button, POST signs in: mail scanners that follow links spend nothing."""
    if request.method == "GET":
        valid = services.valid_sign_in_link(token) is not None
        return render(request, "portal/redeem.html", {"valid": valid}, status=200 if valid else 410)
    user = services.redeem_sign_in_link(token)
    if user is None:
        return render(request, "portal/redeem.html", {"valid": False}, status=410)
    login(request, user, backend=BACKEND)
    messages.success(request, _("You are signed in."))
    return redirect(_safe_next(request, request.session.pop("portal_next", None)))


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, _("You are signed out."))
    return redirect("kb:home")


@customer_required
@require_http_methods(["GET", "POST"])
def account(request: CustomerRequest) -> HttpResponse:
    form = SetPasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, form.user)
        messages.success(request, _("Your password is set. You can now sign in with it."))
        return redirect("portal:account")
    return render(
        request,
        "portal/account.html",
        {"form": form, "customer": request.customer, "nav": "account"},
        status=400 if form.errors else 200,
    )


@customer_required
@require_GET
def requests(request: CustomerRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    state = state if state in ("open", "solved") else ""
    page = selectors.my_requests(
        request.customer,
        state=state,
        cursor=request.GET.get("cursor", ""),
    )
    return render(
        request, "portal/requests.html", {"page": page, "state": state, "nav": "requests"}
    )


def _error_status(form: NewRequestForm | ReplyForm) -> int:
    """413 when the files were too large (the page still explains every error), else 400."""
    return 413 if form.has_error("attachments", "too_large") else 400


@customer_required
@require_http_methods(["GET", "POST"])
def new_request(request: CustomerRequest, form_id: int | None = None) -> HttpResponse:
    """The request form: first the admins' forms to pick from (when there are any), then
    the chosen one with its fields, or the general one (`?general=1`)."""
    customer = request.customer
    chosen = None
    if form_id is not None:
        chosen = get_object_or_404(request_forms.active_forms(), pk=form_id)
    elif request.method == "GET" and "general" not in request.GET:
        offered = list(request_forms.active_forms())
        if offered:
            return render(request, "portal/pick_form.html", {"forms": offered, "nav": "new"})
    form = NewRequestForm(request.POST or None, request.FILES or None, request_form=chosen)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.file_request(
                request.user,
                customer,
                subject=data["subject"],
                description=data["description"],
                files=data["attachments"],
                visit_id=str(data["visit"]) if data["visit"] else None,
                request_form=chosen,
                fields=form.custom_values(),
            )
        except services.NoMailbox:
            messages.error(request, _("Requests cannot be filed right now. Please e-mail us."))
        except FieldErrors as refusal:
            form.add_field_errors(refusal.errors)
        else:
            request.session.pop("request_visit", None)
            messages.success(
                request,
                _("Thanks! Your request #%(number)s is with our team.") % {"number": ticket.pk},
            )
            return redirect("portal:request", number=ticket.pk)
    visit = services.start_request_form(customer, request.session.get("request_visit"))
    request.session["request_visit"] = str(visit.pk)
    if not form.is_bound:
        form.initial["visit"] = visit.pk
    return render(
        request,
        "portal/new_request.html",
        {"form": form, "visit_id": visit.pk, "nav": "new", "request_form": chosen},
        status=_error_status(form) if form.errors else 200,
    )


def _visit_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return ""


@customer_required
@require_GET
def suggestions(request: CustomerRequest) -> HttpResponse:
    """Articles matching what the customer is typing into the request form (htmx)."""
    query = f"{request.GET.get('subject', '')} {request.GET.get('description', '')[:200]}"
    result = search_articles(query, user=request.user, limit=SUGGESTIONS)
    if not result.hits and request.GET.get("subject"):
        # The description adds words no article has; the subject alone may still match.
        result = search_articles(request.GET["subject"], user=request.user, limit=SUGGESTIONS)
    # The form's hidden visit id; a missing or forged one falls back to this session's
    # visit, and without either the links go straight to the articles.
    visit_id = _visit_id(request.GET.get("visit", "")) or request.session.get("request_visit", "")
    if result.hits:
        services.suggestions_shown(request.customer, visit_id, len(result.hits))
    return render(
        request, "portal/new_request.html#suggestions", {"result": result, "visit_id": visit_id}
    )


@customer_required
@require_GET
def open_suggestion(request: CustomerRequest, visit: str, article: int) -> HttpResponse:
    shown = get_article_for(request.user, article)
    services.suggestion_opened(request.customer, visit, shown)
    return redirect(shown)


@customer_required
@require_GET
def request_detail(request: CustomerRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for(request.user, number)
    if ticket.merged_into_id:
        # The conversation moved to the request it was merged into: follow it there when
        # it is this customer's too; otherwise say where the answer will come from.
        target = merged_target(ticket)
        try:
            get_ticket_for(request.user, target.pk)
        except Http404:
            messages.info(
                request, _("This request was merged with another; we answer you by email.")
            )
        else:
            messages.info(
                request,
                _("Request #%(number)s continues here, in #%(target)s.")
                % {"number": ticket.number, "target": target.number},
            )
            return redirect("portal:request", number=target.number)
    return _detail(request, ticket, ReplyForm())


def _detail(
    request: CustomerRequest, ticket: Any, form: ReplyForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "portal/request_detail.html",
        {
            "ticket": ticket,
            "conversation": selectors.public_conversation(ticket),
            "form": form,
            "nav": "requests",
        },
        status=status,
    )


@customer_required
@require_POST
def reply(request: CustomerRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for(request.user, number)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(request, ticket, form, status=_error_status(form))
    sent = services.reply_to_request(
        ticket,
        request.user,
        request.customer,
        body=form.cleaned_data["body"],
        files=form.cleaned_data["attachments"],
    )
    if sent.opened_follow_up:
        messages.success(
            request,
            _(
                "Request #%(number)s is closed, so your reply opened a new request, "
                "#%(follow_up)s. We will get back to you."
            )
            % {"number": ticket.pk, "follow_up": sent.ticket.pk},
        )
    else:
        messages.success(request, _("Your reply was added. We will get back to you."))
    # The request the reply went to: a follow-up, or the one a merged request continues
    # in (the page of a request merged into someone else's says where answers come from).
    shown = sent.ticket if _visible(request, sent.ticket.pk) else ticket
    return redirect(f"{reverse('portal:request', args=[shown.pk])}#latest")


def _visible(request: HttpRequest, number: int) -> bool:
    try:
        get_ticket_for(request.user, number)  # type: ignore[arg-type]
    except Http404:
        return False
    return True


@customer_required
@require_POST
def solve(request: CustomerRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for(request.user, number)
    if services.mark_solved(ticket, request.user):
        messages.success(request, _("Marked as solved. Reply any time if it comes back."))
    return redirect("portal:request", number=ticket.pk)


@customer_required
@require_GET
def attachment(request: CustomerRequest, number: int, attachment_id: int) -> FileResponse:
    ticket = get_ticket_for(request.user, number)
    found = selectors.public_attachment(ticket, attachment_id)
    if found is None:
        raise Http404("No such attachment")
    try:
        handle = found.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing") from None
    # Always a download, never rendered in our origin: an HTML or SVG file from a
    # stranger must not run as our page.
    response = FileResponse(
        handle, as_attachment=True, filename=found.filename, content_type=found.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@require_POST
def choose_language(request: HttpRequest) -> HttpResponse:
    """The language switcher of the help center and the portal: Django's set_language
    (the cookie the browser's language comes from), and, for a signed-in customer, the
    language of their profile, which their mails and surveys follow too."""
    response = i18n.set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        customer = Customer.objects.filter(user=request.user).first()
        if customer is not None:
            ticket_services.set_customer_language(customer, language)
    return response
