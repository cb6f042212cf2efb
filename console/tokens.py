"""API tokens: made, revoked (both written to the audit log), and checked on each API
request by `ApiTokenAuthentication`.

A key is "tdm_" and 40 random characters, shown once; the database keeps its SHA-256.
Keys without that prefix are left to DRF's TokenAuthentication (one token per user,
made by the admin or `drf_create_token`), which runs after this class.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from audit import services as audit
from audit.models import AuditKind
from console.models import ApiToken, TokenScope
from tickets.models import User

PREFIX = "tdm_"
# last_used_at is written at most this often per token: not a write per API request.
USE_RESOLUTION = timedelta(minutes=1)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _label(token: ApiToken) -> str:
    return f"token “{token.name}” of {audit.user_label(token.user)}"


@transaction.atomic
def create_token(user: User, *, name: str, scope: str, actor: Any = None) -> tuple[ApiToken, str]:
    """A new token and its key (the only time the key exists outside the client)."""
    key = PREFIX + secrets.token_urlsafe(30)
    token = ApiToken.objects.create(
        user=user, name=name, scope=TokenScope(scope), prefix=key[:10], key_hash=_hash(key)
    )
    audit.record(
        AuditKind.TOKEN_CREATED,
        action="created",
        actor=actor,
        target=user,
        target_label=_label(token),
        data={"key_prefix": token.prefix, "scope": token.scope, "name": token.name},
    )
    return token, key


@transaction.atomic
def revoke_token(token: ApiToken, *, actor: Any = None) -> bool:
    """Revoked from now on (the row stays, for the list and the log); False if it was."""
    if not ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    ):
        return False
    audit.record(
        AuditKind.TOKEN_REVOKED,
        action="revoked",
        actor=actor,
        target=token.user,
        target_label=_label(token),
        data={"key_prefix": token.prefix, "scope": token.scope, "name": token.name},
    )
    return True


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token tdm_...`: the settings area's tokens. A read-only token is
    refused (403) on any method but GET, HEAD and OPTIONS, whatever the endpoint."""

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        auth = get_authorization_header(request).split()
        if len(auth) != 2 or auth[0].lower() != b"token" or not auth[1].startswith(b"tdm_"):
            return None
        key = auth[1].decode("ascii", "replace")
        token = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=_hash(key), revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        if token.scope == TokenScope.READ and request.method not in SAFE_METHODS:
            raise exceptions.PermissionDenied("This token is read-only.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > USE_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token
