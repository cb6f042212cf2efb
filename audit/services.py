"""Writing the audit log, and keeping it no longer than its retention.

`record` writes one row in the caller's transaction, so a change and its record commit
or roll back together. The callers: the sign-in signals and API-token rows
(audit.receivers), the settings services (tickets/calendars.py, the workflow's setup.py,
the Django admin through `audit.admin`), privacy exports and erasures, retention.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils import timezone
from django.utils.crypto import salted_hmac

from audit.context import client_ip, current_request
from audit.models import MIN_RETENTION_DAYS, AuditEntry, AuditKind

SYSTEM = "system"
# Who did it: a user, or None for the request's user (nobody outside a request).
Actor = AbstractBaseUser | AnonymousUser | None
# Settings fields whose values are secrets: the log says they changed, never what to.
SECRET_MARKERS = ("password", "secret", "token")


def _jsonable(value: Any) -> Any:
    """A value as JSON holds it (dates as ISO text, Decimals as text...)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _digest(secret: str) -> str:
    return salted_hmac("audit.secret", secret, algorithm="sha256").hexdigest()[:8]


def snapshot(instance: models.Model, *, many: Iterable[str] = ()) -> dict[str, Any]:
    """The stored values of a row's own fields (foreign keys as ids) and of the named
    many-to-many fields (sorted ids), as JSON; secrets hidden."""
    values: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        name = field.attname
        value = getattr(instance, name)
        if any(marker in name for marker in SECRET_MARKERS):
            # A keyed digest: a change shows, the secret does not (nor can it be guessed
            # from the log without SECRET_KEY).
            value = f"(hidden {_digest(value)})" if value else ""
        values[field.name] = _jsonable(value)
    for name in many:
        values[name] = sorted(getattr(instance, name).values_list("pk", flat=True))
    return values


def stored_snapshot(model: type[models.Model], pk: Any, **kwargs: Any) -> dict[str, Any] | None:
    """The snapshot of the row as the database holds it now (None for a new row)."""
    if pk is None:
        return None
    row = model._default_manager.filter(pk=pk).first()
    return snapshot(row, **kwargs) if row is not None else None


def changed(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Only the fields that differ, on both sides; a creation or deletion whole."""
    if before is None or after is None:
        return (dict(before) if before else None, dict(after) if after else None)
    keys = [key for key in after if before.get(key) != after.get(key)]
    keys += [key for key in before if key not in after]
    return ({k: before.get(k) for k in keys}, {k: after.get(k) for k in keys})


def user_label(user: Any) -> str:
    """How the log names a user: staff by user name; a customer's portal account by id
    only, so that erasing the customer leaves no trace of them here."""
    if getattr(user, "role", None) == "customer":
        return f"customer user #{user.pk}"
    return user.get_username()


def _actor(actor: Actor) -> AbstractBaseUser | None:
    if actor is None:
        request = current_request()
        actor = getattr(request, "user", None) if request is not None else None
    return actor if actor is not None and actor.is_authenticated else None  # type: ignore[return-value]


def record(
    kind: AuditKind,
    *,
    action: str = "",
    actor: Actor = None,
    actor_label: str = "",
    target: models.Model | None = None,
    target_label: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit row in the caller's transaction.

    The actor defaults to the signed-in user of the request being served (nobody: the
    system, a worker, a command); `actor_label` names a caller without a user row.
    """
    user = _actor(actor)
    label = actor_label or (user_label(user) if user is not None else SYSTEM)
    entry = AuditEntry(
        kind=kind,
        action=action,
        actor=user,  # type: ignore[misc]  # AUTH_USER_MODEL, typed as the base class here
        actor_label=label[:254],
        ip=client_ip(current_request()),
        before=_jsonable(dict(before)) if before is not None else None,
        after=_jsonable(dict(after)) if after is not None else None,
        data=dict(data or {}),
    )
    if target is not None:
        entry.target_type = target._meta.label_lower
        entry.target_id = str(target.pk)
        if target_label is None:
            is_user = isinstance(target, AbstractBaseUser)
            target_label = user_label(target) if is_user else str(target)
        entry.target_label = target_label[:200]
    elif target_label:
        entry.target_label = target_label[:200]
    entry.save()
    return entry


def record_about_customer(
    kind: AuditKind,
    action: str,
    customer: models.Model,
    *,
    actor: Actor = None,
    actor_label: str = "",
    data: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """A row about a customer (an export, an erasure), naming them by id only: their
    address or name here would outlive their erasure in a log nobody may change."""
    return record(
        kind,
        action=action,
        actor=actor,
        actor_label=actor_label,
        target=customer,
        target_label=f"customer #{customer.pk}",
        data=data,
    )


def record_change(
    kind: AuditKind,
    target: models.Model,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    *,
    actor: Actor = None,
    target_label: str | None = None,
) -> AuditEntry | None:
    """A row created, changed or deleted, with the fields that changed; nothing when a
    save changed nothing."""
    old, new = changed(before, after)
    if before is not None and after is not None and not new:
        return None
    action = "created" if before is None else "deleted" if after is None else "updated"
    return record(
        kind,
        action=action,
        actor=actor,
        target=target,
        target_label=target_label,
        before=old,
        after=new,
    )


def record_saved(
    kind: AuditKind,
    instance: models.Model,
    before: Mapping[str, Any] | None,
    *,
    many: Iterable[str] = (),
) -> AuditEntry | None:
    """After a save: the row as now stored against `before` (its `stored_snapshot` taken
    before the save, with the same `many` fields), as `record_change` records it."""
    after = stored_snapshot(type(instance), instance.pk, many=many)
    return record_change(kind, instance, before, after)


def retention_days() -> int:
    """How long rows are kept (AUDIT_RETENTION_DAYS); never less than a year."""
    days = int(settings.AUDIT_RETENTION_DAYS)
    if days < MIN_RETENTION_DAYS:
        raise ValueError(f"the audit log is kept at least {MIN_RETENTION_DAYS} days, not {days}")
    return days


def purge_expired() -> int:
    """Delete the rows older than the retention; returns how many. The only delete of
    audit rows, and the database refuses it for rows younger than a year."""
    cutoff = timezone.now() - timedelta(days=retention_days())
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE at < %s", [cutoff])  # noqa: S608
        return cursor.rowcount
