"""Two-factor sign-in: one TOTP device (an authenticator app) and ten recovery codes per
person, kept by django-otp (its totp and static plugins).

Turning it on: `setup_device` makes an unconfirmed device whose QR code (`qr_svg`) the
person scans; `enable` confirms it with one code from the app and returns the recovery
codes, shown once. Signing in: `check_code` takes a code from the app or a recovery code
(which then stops working) and counts wrong ones per person: `WRONG_CODES` of them and
the second step is refused until the window ends. Turning it on and off (or an admin's
reset), new recovery codes and each recovery code used are written to the audit log.

django-otp's own throttling is off (OTP_*_THROTTLE_FACTOR = 0): the one limit is ours,
so that its message and its wait are the same on every page that asks for a code.
"""

from __future__ import annotations

import re
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.db import transaction
from django_otp import match_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SignInPolicy
from audit.models import AuditKind
from audit.services import record
from helpdesk.ratelimit import Rate, RateLimited
from tickets.models import User

RECOVERY_CODES = 10
APP_DEVICE = "Authenticator app"
RECOVERY_DEVICE = "Recovery codes"
# Wrong codes at the second step, per person: five in fifteen minutes, then wait.
WRONG_CODES = Rate("two-factor", limit=5, window=15 * 60)


def is_enabled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def required_roles() -> list[str]:
    policy = SignInPolicy.objects.filter(pk=1).first()
    return list(policy.two_factor_roles) if policy is not None else []


def is_required(user: User) -> bool:
    """Whether this person's role must use two-factor sign-in (an admin's setting)."""
    return user.is_agent and user.role in required_roles()


def setup_device(user: User) -> TOTPDevice:
    """The unconfirmed device this person is setting up (one at a time)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE, confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// address as an inline SVG QR code."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    return str(image.to_string(encoding="unicode"))


def secret_text(device: TOTPDevice) -> str:
    """The key in base32, grouped by four, for typing into an app by hand."""
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _clean(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()[:32]


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def enable(user: User, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the device with a code from the app: two-factor sign-in is on, and the new
    recovery codes are returned (to be shown once). None if the code is wrong."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
        if not device.verify_token(_clean(code)):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = _new_recovery_codes(user)
        record(AuditKind.TWO_FACTOR, action="enabled", actor=user, target=user)
    return codes


def renew_recovery_codes(user: User) -> list[str]:
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        record(AuditKind.TWO_FACTOR, action="recovery codes renewed", actor=user, target=user)
    return codes


def disable(user: User, *, actor: User | None = None) -> None:
    """Two-factor sign-in off: the app's device and the recovery codes are gone. By the
    person (with a code), or reset by an admin (`actor`) for someone who lost their
    phone: they sign in with their password alone, or set it up again if their role must
    use it."""
    by = actor or user
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        action = "disabled" if by.pk == user.pk else "reset by an admin"
        record(AuditKind.TWO_FACTOR, action=action, actor=by, target=user)


def check_code(user: User, code: str) -> Device | None:
    """The device that accepts this code (a recovery code is used up), or None.

    Raises RateLimited once `WRONG_CODES` wrong codes were given in its window."""
    who = str(user.pk)
    if WRONG_CODES.reached(who):
        raise RateLimited(WRONG_CODES.scope, WRONG_CODES.retry_after(who) or WRONG_CODES.window)
    cleaned = _clean(code)
    with transaction.atomic():
        device = match_token(user, cleaned) if cleaned else None
        if isinstance(device, StaticDevice):
            left = StaticToken.objects.filter(device=device).count()
            record(
                AuditKind.TWO_FACTOR,
                action="recovery code used",
                actor=user,
                target=user,
                data={"recovery_codes_left": left},
            )
    if device is None:
        WRONG_CODES.hit(who)
    return device


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user).count()
