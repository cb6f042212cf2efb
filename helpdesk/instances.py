"""New, unsaved model instances without `Model.__init__`'s per-field work.

`Model(**values)` walks every field for each instance: it pops the keyword, computes the
default, and sets related objects through their descriptors (type and router checks).
That is ~10-20 us an instance, and history import builds ~16 instances per ticket
(importer/batch.py). `unsaved(Model)` gives a constructor with the same result for
the plain case, with the defaults sorted out once per model: constant ones copied, only
callable ones (`dict`, `timezone.now`) called per instance.
tests/test_instances.py holds it to `Model(**values)` field by field.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.db import router
from django.db.models import ForeignKey, Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init


@cache
def unsaved[M: Model](model: type[M]) -> Callable[..., M]:
    """A constructor of `model` taking what `model(**values)` takes: field attnames, and
    many-to-one relations by name with an instance or None, set as their descriptor sets
    them (the id, the cached object, the database of both). A model with `pre_init` /
    `post_init` receivers, which `Model.__init__` would call, is built the usual way."""
    constants: dict[str, Any] = {}
    factories: list[tuple[str, Callable[[], Any]]] = []
    relations: dict[str, tuple[str, str, type[Model]]] = {}
    for field in model._meta.concrete_fields:
        if field.generated:
            continue
        if field.has_default() and callable(field.default):
            factories.append((field.attname, field.default))
        else:
            constants[field.attname] = field.get_default()
        if field.is_relation:
            if not isinstance(field, ForeignKey) or field.one_to_one:
                raise TypeError(f"{model.__name__}.{field.name}: only many-to-one relations")
            ((_, target),) = field.related_fields
            related = field.remote_field.model._meta.concrete_model
            assert related is not None
            relations[field.name] = (field.attname, target.attname, related)
    attnames = {*constants, *(attname for attname, _ in factories)}

    def build(**values: Any) -> M:
        if (pre_init.receivers or post_init.receivers) and (
            pre_init.has_listeners(model) or post_init.has_listeners(model)
        ):
            return model(**values)
        instance = model.__new__(model)
        state = instance._state = ModelState()
        attributes = instance.__dict__
        attributes.update(constants)
        for attname, factory in factories:
            if attname not in values:
                attributes[attname] = factory()
        for name, value in values.items():
            if name in relations:
                attname, target, related = relations[name]
                if value is not None:
                    _relate(instance, name, value, related)
                    attributes[attname] = getattr(value, target)
                else:
                    attributes[attname] = None
                state.fields_cache[name] = value
            elif name in attnames:
                attributes[name] = value
            else:
                raise TypeError(f"{model.__name__}() got unexpected keyword arguments: {name!r}")
        return instance

    return build


def _relate(instance: Model, name: str, value: Any, related: type[Model]) -> None:
    """What `ForwardManyToOneDescriptor.__set__` checks and sets on both objects."""
    if not isinstance(value, related):
        raise ValueError(
            f"Cannot assign {value!r}: {type(instance).__name__}.{name} must be a "
            f"{related.__name__} instance."
        )
    if instance._state.db is None:
        instance._state.db = router.db_for_write(type(instance), instance=value)
    if value._state.db is None:
        value._state.db = router.db_for_write(type(value), instance=instance)
    if not router.allow_relation(value, instance):
        raise ValueError(f"Cannot assign {value!r}: the database router prevents this relation.")
