"""python manage.py erase_customer EMAIL --yes (specs/api.md, "Privacy")."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from privacy.erase import erase_customer
from privacy.management.commands.export_customer import customer_by_email


class Command(BaseCommand):
    help = "Erase a customer: the person goes; their tickets, events and figures stay."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument(
            "--yes", action="store_true", help="Erase without asking: it cannot be undone."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["yes"]:
            raise CommandError("Erasing cannot be undone: pass --yes to erase this customer.")
        customer = customer_by_email(options["email"])
        erased = erase_customer(customer, actor_label="manage.py erase_customer")
        self.stdout.write(
            f"Erased customer #{customer.pk}: {erased.messages} messages, "
            f"{erased.attachments} attachments, {erased.raw_mail} raw mails; "
            f"{erased.tickets} tickets kept, anonymous."
        )
