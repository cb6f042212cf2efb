"""Secrets kept in the database encrypted: mailbox passwords, webhook secrets.

Fernet (AES-128-CBC with an HMAC-SHA256 tag, from `cryptography`) under the keys of
settings.ENCRYPTION_KEYS (TANDEM_ENCRYPTION_KEY, comma-separated). The first key
encrypts; every key decrypts, so a key is rotated by putting a new one first, running
`manage.py rotate_encryption_key`, then dropping the old one. A column of an
`EncryptedTextField` holds the token, never the plain value: a database dump, a replica
or a backup shows no password, and reading one needs the key from the environment too.

A field of `django-fernet-encrypted-fields` would do the same, but it derives its keys
from SECRET_KEY (rotating the session key would lose every password), hands back the
token itself when no key fits (the app would sign in with the ciphertext), and stores an
empty value as NULL.
"""

from __future__ import annotations

import binascii
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction

KEY_SETTING = "TANDEM_ENCRYPTION_KEY"


def new_key() -> str:
    """A fresh key, in the form TANDEM_ENCRYPTION_KEY takes."""
    return Fernet.generate_key().decode()


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(
            f"{KEY_SETTING} is not set: it encrypts the mailbox passwords and webhook "
            'secrets kept in the database. Set it to the output of `python -c "from '
            'cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.'
        )
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, binascii.Error) as exc:
            raise ImproperlyConfigured(
                f"Key {position} of {KEY_SETTING} is not a Fernet key (32 bytes in url-safe "
                "base64, 44 characters)."
            ) from exc
    return MultiFernet(fernets)


def fernet() -> MultiFernet:
    """The keys in force; ImproperlyConfigured, saying what to set, if none is usable."""
    return _fernet(tuple(settings.ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise ImproperlyConfigured(
            f"A secret in the database cannot be decrypted with the keys of {KEY_SETTING}: "
            "after a rotation, keep the previous key after the new one until "
            "`manage.py rotate_encryption_key` has run."
        ) from exc


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token; the model attribute holds the plain value.

    The empty string stays empty (there is nothing to hide, and "no password set" stays
    a plain `= ''` test). A token is random each time, so the only lookups that mean
    anything are against the empty string.
    """

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    """Every installed model with encrypted columns, and the names of those columns."""
    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found


def rotate() -> int:
    """Encrypt every stored secret again under the first key; the number of rows."""
    rows = 0
    for model, names in encrypted_fields():
        with transaction.atomic():
            # Read decrypts with any key, the update encrypts with the first one.
            queryset = model._base_manager.select_for_update().values_list("pk", *names)
            for pk, *values in queryset:
                model._base_manager.filter(pk=pk).update(**dict(zip(names, values, strict=True)))
                rows += 1
    return rows
