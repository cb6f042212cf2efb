"""Single sign-on for agents with OpenID Connect (mozilla-django-oidc).

Configured from the environment (helpdesk/settings.py: OIDC_*): the sign-in page shows a
button when the provider's endpoints and this client's id are set (`enabled`). The code
flow uses PKCE, a nonce and the provider's signing keys (JWKS); the ID token must be for
this client and, when OIDC_OP_ISSUER is set, from that issuer.

Who may come in: a verified address at one of OIDC_ALLOWED_DOMAINS. Someone new gets an
agent account on the spot (just in time, no password); a known agent is matched by
address; a customer's account or a deactivated one is refused. The `groups` claim sets
the person's teams through OIDC_GROUP_TEAMS (group -> team name): teams named there
follow the claim at every sign-in, other teams are left alone. Account creation and team
changes are written to the audit log. A refusal says why on the sign-in page.

Two-factor sign-in is the provider's business after single sign-on (accounts.gate).
"""

from __future__ import annotations

from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from audit.models import AuditKind
from audit.services import record
from helpdesk.signin import identity
from tickets.models import Role, Team, User

ACTOR = "single sign-on"
REFUSED = "accounts.sso_refused"


def enabled() -> bool:
    return all(
        getattr(settings, name, "")
        for name in (
            "OIDC_RP_CLIENT_ID",
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
        )
    )


def _refuse(request: HttpRequest | None, message: str) -> None:
    if request is not None and not getattr(request, REFUSED, False):
        setattr(request, REFUSED, True)
        messages.error(request, message)


def domain_allowed(email: str) -> bool:
    domain = identity(email).rpartition("@")[2]
    return bool(domain) and domain in {identity(d) for d in settings.OIDC_ALLOWED_DOMAINS}


def teams_for(groups: Any) -> tuple[set[str], set[str]]:
    """The team names the groups map to, and every team name the mapping manages."""
    mapping: dict[str, str] = settings.OIDC_GROUP_TEAMS
    if isinstance(groups, str):
        groups = [groups]
    claimed = {str(g) for g in groups} if isinstance(groups, list) else set()
    return {team for group, team in mapping.items() if group in claimed}, set(mapping.values())


def sync_teams(user: User, groups: Any) -> None:
    """The user's teams named in OIDC_GROUP_TEAMS follow the groups claim."""
    wanted, managed = teams_for(groups)
    before = sorted(user.teams.values_list("name", flat=True))
    current = set(before)
    add = Team.objects.filter(name__in=wanted - current)
    remove = Team.objects.filter(name__in=(managed - wanted) & current)
    if not add and not remove:
        return
    user.teams.add(*add)
    user.teams.remove(*remove)
    after = sorted(user.teams.values_list("name", flat=True))
    record(
        AuditKind.TEAMS,
        action="updated by single sign-on",
        actor_label=ACTOR,
        target=user,
        before={"teams": before},
        after={"teams": after},
    )


class AgentOIDCBackend(OIDCAuthenticationBackend):
    """Signs agents in from the provider's claims (see the module's docstring)."""

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        if request is None or not enabled() or "code" not in request.GET:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except (requests.RequestException, jwt.PyJWTError, SuspiciousOperation, ValueError):
            _refuse(request, _("Single sign-on failed: the sign-in service's answer was refused."))
            return None

    def verify_token(self, token: str, **kwargs: Any) -> Any:
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token for another client")
        issuer = settings.OIDC_OP_ISSUER
        if issuer and payload.get("iss") != issuer:
            raise SuspiciousOperation("ID token from another issuer")
        return payload

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        email = str(claims.get("email") or "")
        if not email or claims.get("email_verified") is False:
            _refuse(self.request, _("Single sign-on gave no verified email address."))
            return False
        if not domain_allowed(email):
            domain = email.rpartition("@")[2]
            _refuse(
                self.request,
                _("Single sign-on is not open to addresses at %(domain)s.") % {"domain": domain},
            )
            return False
        return True

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        return User.objects.filter(email__iexact=identity(str(claims.get("email") or "")))

    def create_user(self, claims: dict[str, Any]) -> User:
        email = identity(str(claims["email"]))
        username = email if not User.objects.filter(username__iexact=email).exists() else ""
        with transaction.atomic():
            user = User.objects.create_user(
                username=username or self.get_username(claims),
                email=email,
                role=Role.AGENT,
                first_name=str(claims.get("given_name") or "")[:150],
                last_name=str(claims.get("family_name") or "")[:150],
            )
            record(
                AuditKind.ROLE,
                action="created by single sign-on",
                actor_label=ACTOR,
                target=user,
                after={"role": user.role, "email": email},
            )
            sync_teams(user, claims.get("groups"))
        return user

    def update_user(self, user: User, claims: dict[str, Any]) -> User:
        if not user.is_agent:
            _refuse(self.request, _("This address has a customer account: use the portal."))
            raise SuspiciousOperation("single sign-on for a customer account")
        if not user.is_active:
            _refuse(self.request, _("Your account is deactivated. Ask an admin."))
            raise SuspiciousOperation("single sign-on for a deactivated account")
        with transaction.atomic():
            sync_teams(user, claims.get("groups"))
        return user

    def get_user(self, user_id: int) -> User | None:
        user = User.objects.filter(pk=user_id).first()
        return user if user is not None and user.is_active and user.is_agent else None


class SignInStart(OIDCAuthenticationRequestView):
    """To the provider's sign-in page (404 when single sign-on is not configured)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not enabled():
            raise Http404("Single sign-on is not configured.")
        return super().get(request)


class SignInCallback(OIDCAuthenticationCallbackView):
    """Back from the provider: signed in, or the sign-in page saying why not."""

    @property
    def failure_url(self) -> str:
        return resolve_url(settings.LOGIN_REDIRECT_URL_FAILURE)

    def login_failure(self) -> HttpResponse:
        _refuse(self.request, _("Single sign-on did not sign you in."))
        return super().login_failure()
