"""python manage.py export_customer EMAIL PATH.zip (specs/api.md, "Privacy")."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from privacy.export import export_customer
from tickets.models import Customer


def customer_by_email(email: str) -> Customer:
    customer = Customer.objects.filter(email__iexact=email.strip()).first()
    if customer is None:
        raise CommandError(f"No customer has the address {email!r}.")
    return customer


class Command(BaseCommand):
    help = "Write everything about a customer to a zip, and record the export."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("path", help="Where to write the zip.")

    def handle(self, *args: Any, **options: Any) -> None:
        customer = customer_by_email(options["email"])
        try:
            with open(options["path"], "wb") as out:
                tickets = export_customer(customer, out, actor_label="manage.py export_customer")
        except OSError as exc:
            raise CommandError(f"Cannot write {options['path']}: {exc.strerror}") from exc
        self.stdout.write(
            f"Exported customer #{customer.pk} ({tickets} tickets) to {options['path']}."
        )
