"""System checks of a deployment that Django's own do not make."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from helpdesk import encryption


@register("tandem")  # not "staticfiles": collectstatic itself runs those
def static_files_collected(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """With DEBUG off every page names its files through collectstatic's manifest: without
    it each page is a server error. Said at start-up (runserver, migrate, check), with
    the command that fixes it."""
    if settings.DEBUG or not hasattr(staticfiles_storage, "manifest_name"):
        return []
    if staticfiles_storage.exists(staticfiles_storage.manifest_name):
        return []
    return [
        Error(
            f"Static files are not collected in {settings.STATIC_ROOT}, so with DEBUG off "
            "every page would fail.",
            hint="Run `python manage.py collectstatic --no-input` (the Docker image does "
            "it when it is built), or set DEBUG=1 for development.",
            id="tandem.E001",
        )
    ]


@register("tandem")
def encryption_key_set(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """The key of the secrets in the database (helpdesk/encryption.py): without it, with
    DEBUG off, no mailbox could sign in to its servers and no webhook secret be checked."""
    try:
        encryption.fernet()
    except ImproperlyConfigured as exc:
        return [
            Error(
                str(exc),
                hint=f"Set {encryption.KEY_SETTING} in the environment (several keys, "
                "comma-separated, during a rotation), or set DEBUG=1 for development.",
                id="tandem.E002",
            )
        ]
    return []
