"""Audit rows for what Django and DRF do themselves: sign-ins, and API tokens.

Sign-ins are Django's auth signals (the sign-in form, the admin's, any other
`authenticate()`); a token is DRF's row, created and deleted by DRF's command, the
admin and the settings pages alike, so its rows are written when the row is saved or
deleted, in that transaction, whatever door did it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth import signals as auth_signals
from django.db.models import signals as model_signals
from django.http import HttpRequest
from rest_framework.authtoken.models import Token, TokenProxy

from audit import services
from audit.models import AuditKind

# A username tried is kept as typed, cut short: enough to see an attack on one account.
TRIED_MAX = 150


def signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    services.record(AuditKind.SIGN_IN, action="succeeded", actor=user, target=user)


def sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    tried = str(credentials.get("username") or credentials.get("email") or "")[:TRIED_MAX]
    known = get_user_model()._default_manager.filter(username=tried).first()
    if known is not None:
        tried = services.user_label(known)
    services.record(
        AuditKind.SIGN_IN_FAILED,
        action="failed",
        actor_label="anonymous",
        target_label=tried,
        data={"username": tried},
    )


def signed_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        services.record(AuditKind.SIGN_OUT, action="succeeded", actor=user, target=user)


def _token(kind: AuditKind, action: str, token: Token) -> None:
    # The key's first characters tell two tokens of a user apart; the key is never kept.
    services.record(
        kind,
        action=action,
        target=token.user,
        target_label=f"token of {services.user_label(token.user)}",
        data={"key_prefix": token.key[:4]},
    )


def token_saved(sender: Any, instance: Token, created: bool, **kwargs: Any) -> None:
    if created:
        _token(AuditKind.TOKEN_CREATED, "created", instance)


def token_deleted(sender: Any, instance: Token, **kwargs: Any) -> None:
    _token(AuditKind.TOKEN_REVOKED, "deleted", instance)


def connect() -> None:
    auth_signals.user_logged_in.connect(signed_in, dispatch_uid="audit-signed-in")
    auth_signals.user_login_failed.connect(sign_in_failed, dispatch_uid="audit-sign-in-failed")
    auth_signals.user_logged_out.connect(signed_out, dispatch_uid="audit-signed-out")
    # The admin saves tokens as DRF's proxy model (deletes go through Token itself).
    for model in (Token, TokenProxy):
        model_signals.post_save.connect(
            token_saved, sender=model, dispatch_uid=f"audit-{model.__name__}-saved"
        )
        model_signals.post_delete.connect(
            token_deleted, sender=model, dispatch_uid=f"audit-{model.__name__}-deleted"
        )
