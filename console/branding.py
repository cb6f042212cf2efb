"""The product's look: name, logo, accent colour, help-center title (one row, `Branding`).

Every page reads it (the `branding` context processor, /branding.css) and so does
outgoing mail (helpdesk.branding, registered in console.apps): it is held per process
(helpdesk.local_cache.VersionedCache) and reloaded after a save (the receivers connected
in console.apps). The rules of what may be saved live here, whichever door saves it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from audit import services as audit
from audit.models import AuditKind
from console.models import Branding
from helpdesk.local_cache import VersionedCache

logger = logging.getLogger(__name__)

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# WCAG 2 AA for normal text: the accent carries white text (buttons) and is text on white.
MIN_CONTRAST = 4.5
MAX_LOGO_BYTES = 512 * 1024
# The first bytes of each accepted image type. SVG is refused: it can carry script.
_SIGNATURES: tuple[tuple[str, bytes, int, bytes], ...] = (
    # (type, prefix, offset of a second marker, that marker)
    ("image/png", b"\x89PNG\r\n\x1a\n", 0, b""),
    ("image/jpeg", b"\xff\xd8\xff", 0, b""),
    ("image/webp", b"RIFF", 8, b"WEBP"),
)
LOGO_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


@dataclass(frozen=True)
class Brand:
    product_name: str
    help_center_title: str
    accent: str
    logo_version: str  # "" without a logo; changes with each logo, for the URL


DEFAULT = Brand("Tandem", "Help center", "", "")


def _load() -> Brand:
    row = Branding.objects.first()
    if row is None:
        return DEFAULT
    version = f"{int(row.updated_at.timestamp())}" if row.logo else ""
    return Brand(row.product_name, row.help_center_title, row.accent, version)


# Five minutes at most, should a change's bump be lost (Redis down at that moment).
_brand = VersionedCache("branding", _load, max_age=300)


def current() -> Brand:
    """The look as saved; Tandem's own when the database cannot be read (an error page
    rendered while it is down)."""
    try:
        return _brand.get()
    except DatabaseError:
        logger.warning("Branding unreadable, the default look is shown", exc_info=True)
        return DEFAULT


def product_name() -> str:
    return current().product_name


def changed(*args: Any, **kwargs: Any) -> None:
    """Receiver of the row's saves and deletes (console.apps): every process reloads."""
    _brand.bump()
    transaction.on_commit(_brand.bump)


def branding(request: HttpRequest) -> dict[str, Brand]:
    """Context processor: `branding` for the layouts (name, title, logo)."""
    return {"branding": current()}


def _channel(hex_pair: str) -> float:
    value = int(hex_pair, 16) / 255
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def contrast_with_white(colour: str) -> float:
    """The WCAG 2 contrast ratio of white against a "#rrggbb" colour (1 to 21)."""
    r, g, b = (_channel(colour[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


def check_accent(colour: str) -> str:
    """The colour as stored ("#rrggbb", lower case), or a ValidationError saying why not."""
    colour = colour.strip()
    if not colour:
        return ""
    if not COLOUR.match(colour):
        raise ValidationError(_("Enter the colour as #rrggbb, for example #4f46e5."))
    ratio = contrast_with_white(colour)
    if ratio < MIN_CONTRAST:
        raise ValidationError(
            _(
                "White text on %(colour)s has a contrast of %(ratio)s:1; at least "
                "%(minimum)s:1 is needed to be readable (WCAG AA). Choose a darker colour."
            )
            % {"colour": colour, "ratio": f"{ratio:.2f}", "minimum": MIN_CONTRAST}
        )
    return colour.lower()


def logo_type(upload: UploadedFile) -> str:
    """The image type of an uploaded logo by its first bytes, or a ValidationError."""
    if upload.size is not None and upload.size > MAX_LOGO_BYTES:
        raise ValidationError(
            _("The logo is %(size)s KB; at most %(limit)s KB.")
            % {"size": upload.size // 1024, "limit": MAX_LOGO_BYTES // 1024}
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for kind, prefix, offset, marker in _SIGNATURES:
        if head.startswith(prefix) and head[offset : offset + len(marker)] == marker:
            return kind
    raise ValidationError(
        _("The logo must be a PNG, JPEG or WebP image (SVG and other files are refused).")
    )


def the_row() -> Branding:
    return Branding.objects.first() or Branding()


def _snapshot(row: Branding) -> dict[str, str]:
    """The row as the audit log shows it (the logo by its stored name)."""
    return {
        "product_name": row.product_name,
        "help_center_title": row.help_center_title,
        "accent": row.accent,
        "logo": row.logo.name or "",
    }


@transaction.atomic
def save_branding(
    *,
    product_name: str,
    help_center_title: str,
    accent: str,
    logo: UploadedFile | None = None,
    remove_logo: bool = False,
    actor: Any = None,
) -> Branding:
    """Save the look, checked, and record the change in the audit log."""
    row = Branding.objects.select_for_update().first() or Branding()
    before = _snapshot(row) if row.pk else None
    row.product_name = product_name.strip()
    row.help_center_title = help_center_title.strip()
    row.accent = check_accent(accent)
    old_logo = row.logo.name if row.logo else ""
    if logo is not None:
        kind = logo_type(logo)
        row.logo.save(f"logo.{LOGO_EXTENSIONS[kind]}", logo, save=False)
        row.logo_type = kind
    elif remove_logo:
        row.logo = ""  # type: ignore[assignment]
        row.logo_type = ""
    row.save()
    if old_logo and old_logo != (row.logo.name if row.logo else ""):
        storage = row.logo.storage
        transaction.on_commit(lambda: storage.delete(old_logo))
    before, after = audit.changed(before, _snapshot(row))
    if after:
        audit.record(
            AuditKind.SETTINGS,
            action="branding",
            actor=actor,
            target=row,
            before=before,
            after=after,
        )
    return row
