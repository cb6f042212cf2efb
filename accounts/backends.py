"""Password sign-in, which an instance with single sign-on can turn off for agents
(AGENT_PASSWORD_SIGN_IN=0): staff then sign in through the provider, customers of the
portal keep their passwords, and superusers keep theirs as the way in when the provider is
down. Turning it off also ends agents' sessions that began with a password."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from helpdesk.signin import IdentityBackend

SSO_ONLY = "accounts.sso_only"


def password_allowed(user: Any) -> bool:
    if settings.AGENT_PASSWORD_SIGN_IN or user.is_superuser:
        return True
    return not getattr(user, "is_agent", False)


class PasswordBackend(IdentityBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        self.request = request
        return super().authenticate(request, username, password, **kwargs)

    def user_can_authenticate(self, user: Any) -> bool:
        if password_allowed(user):
            return super().user_can_authenticate(user)
        request = getattr(self, "request", None)
        if request is not None:
            # Said only to someone who gave the right password.
            setattr(request, SSO_ONLY, True)
        return False
