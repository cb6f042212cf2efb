"""Invitation links: signed (django.core.signing.TimestampSigner), expiring after
INVITE_LIFETIME, and good once.

An invited user is inactive and has no usable password. The link carries a keyed digest
of that password hash, so accepting (which sets a password) ends it. Withdrawing an
invitation deletes the waiting account (console.agents.withdraw_invitation): a link that
is signed by us but names no account any more was withdrawn, and says so. Nothing of a
link is stored: a new mail gives a new link that works as well as the first.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets.models import User

INVITE_LIFETIME = timedelta(days=7)
_SALT = "console.invite"


# What a link says once it no longer opens the account.
WITHDRAWN = gettext_lazy(
    "This invitation was withdrawn by an admin. Ask them for a new one if you need access."
)
USED = gettext_lazy(
    "This invitation has already been used. Sign in with your email address and password."
)


class InviteError(ValueError):
    """An invitation link that is malformed, expired, or already used."""


def is_invited(user: User) -> bool:
    """Invited and not yet accepted: inactive, never given a password."""
    return not user.is_active and not user.has_usable_password()


def _fingerprint(user: User) -> str:
    return salted_hmac(_SALT, f"{user.pk}:{user.password}", algorithm="sha256").hexdigest()[:24]


def invite_token(user: User) -> str:
    return signing.TimestampSigner(salt=_SALT).sign_object(
        {"user": user.pk, "check": _fingerprint(user)}
    )


def invited_user(token: str) -> User:
    """The user an invitation link is for, while it is valid; InviteError otherwise."""
    try:
        value: Any = signing.TimestampSigner(salt=_SALT).unsign_object(
            token, max_age=INVITE_LIFETIME
        )
    except signing.SignatureExpired as exc:
        raise InviteError(_("This invitation has expired. Ask an admin for a new one.")) from exc
    except signing.BadSignature as exc:
        raise InviteError(_("This invitation link is not valid.")) from exc
    if not isinstance(value, dict):
        raise InviteError(_("This invitation link is not valid."))
    user = User.objects.filter(pk=value.get("user")).first()
    if user is None:
        raise InviteError(WITHDRAWN)
    if not is_invited(user) or not constant_time_compare(
        str(value.get("check")), _fingerprint(user)
    ):
        raise InviteError(USED)
    return user
