"""Custom fields: what a team records on tickets, customers and organizations beyond the
built-in properties (an order number, a plan, a product area). A definition names the
key and type; the values live in each row's `fields` map (tickets/services/fields.py
checks them)."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    MULTICHOICE = "multichoice", _("Multiple choice")
    CHECKBOX = "checkbox", _("Checkbox")


CHOICE_TYPES = (FieldType.CHOICE, FieldType.MULTICHOICE)


class AppliesTo(models.TextChoices):
    TICKET = "ticket", _("Tickets")
    CUSTOMER = "customer", _("Customers")
    ORGANIZATION = "organization", _("Organizations")


class FieldDefinitionQuerySet(models.QuerySet["FieldDefinition"]):
    def active_for(self, applies_to: str) -> FieldDefinitionQuerySet:
        return self.filter(applies_to=applies_to, active=True).order_by("position", "key")


class FieldDefinition(models.Model):
    # What the API and the admin show and set of a definition.
    ATTRIBUTES = (
        "key",
        "label",
        "type",
        "applies_to",
        "choices",
        "required_to_solve",
        "position",
        "active",
    )

    key = models.SlugField(max_length=50, help_text="Unique per kind of record, e.g. order_number.")
    label = models.CharField(max_length=100)
    type = models.CharField(max_length=16, choices=FieldType.choices)
    applies_to = models.CharField(max_length=16, choices=AppliesTo.choices)
    choices = ArrayField(
        models.CharField(max_length=100),
        default=list,
        blank=True,
        help_text="The values of a choice or multichoice field.",
    )
    required_to_solve = models.BooleanField(
        default=False, help_text="Tickets only: an agent cannot solve the ticket while it is empty."
    )
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    objects = FieldDefinitionQuerySet.as_manager()

    class Meta:
        ordering = ["applies_to", "position", "key"]
        constraints = [
            models.UniqueConstraint(fields=["applies_to", "key"], name="field_key_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.applies_to}.{self.key})"
