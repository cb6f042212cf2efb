"""Helpers of the sign-in tests: an authenticator app, as a phone would compute its codes
from the key the set-up page shows."""

from __future__ import annotations

import re
import time
from base64 import b32decode

from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP

LOGIN = reverse("login")
VERIFY = reverse("accounts:verify")
TWO_FACTOR = reverse("accounts:two-factor")
INBOX = reverse("tickets:inbox")
PASSWORD = "pass-word-123"


class App:
    """An authenticator app holding one key."""

    def __init__(self, key_text: str) -> None:
        key = key_text.replace(" ", "")
        self.key = b32decode(key + "=" * (-len(key) % 8))

    def code(self, steps_ahead: int = 0) -> str:
        totp = TOTP(self.key)
        totp.time = time.time() + 30 * steps_ahead
        return f"{totp.token():06d}"


def turn_on(client: Client) -> tuple[App, list[str]]:
    """Through the account page: scan (read the key), confirm one code, read the codes."""
    page = client.get(TWO_FACTOR).content.decode()
    app = App(re.search(r"<code data-secret>([A-Z2-7 ]+)</code>", page).group(1))
    shown = client.post(TWO_FACTOR, {"code": app.code()}).content.decode()
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", shown)
    return app, codes


def sign_in(client: Client, username: str, password: str = PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


def with_two_factor(client: Client, user) -> tuple[App, list[str]]:
    """The user turns two-factor on from their account page, then signs out."""
    client.force_login(user)
    app, codes = turn_on(client)
    client.post(reverse("logout"))
    return app, codes
