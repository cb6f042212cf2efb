"""Demo data for `make run`: mailboxes, teams, people and months of ticket history."""

import random
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from demo.kb import load_demo_articles
from demo.metrics import seed_surveys
from tickets import calendars, services
from tickets.models import (
    BusinessCalendar,
    Direction,
    Kind,
    Mailbox,
    Organization,
    Priority,
    Role,
    Status,
    Team,
    User,
)
from tickets.services import Actor

DEMO_DOMAIN = "demo.tandem.test"
PASSWORDS = {
    "agent": "demo-agent-pass",
    "manager": "demo-manager-pass",
    "admin": "demo-admin-pass",
    "customer": "demo-customer-pass",
}

SUBJECTS = [
    (
        "Third time I am asking about this",
        "This is ridiculous. Third time I write about the broken export and nobody answers. "
        "Terrible, useless service!",
    ),
    (
        "Cannot log in after password reset",
        "I reset my password but the sign-in page still says it is wrong.",
    ),
    (
        "Invoice shows the wrong VAT number",
        "Our invoice for last month lists an old VAT number. Can you fix it?",
    ),
    (
        "Export to CSV times out",
        "When I export more than a year of orders the download never finishes.",
    ),
    (
        "How do I add a second admin?",
        "We want a colleague to manage users too. Where is that setting?",
    ),
    (
        "Payment failed twice",
        "The card payment failed twice today although the card works elsewhere.",
    ),
    ("Webhook deliveries are delayed", "Webhooks arrive 20 minutes late since yesterday morning."),
    ("Feature request: dark mode", "Our night shift would love a dark theme."),
    (
        "Refund for duplicate charge",
        "We were charged twice for the annual plan. Please refund one.",
    ),
    (
        "API returns 429 too often",
        "Our integration hits rate limits at only a few requests per second.",
    ),
    ("Mobile app crashes on start", "The Android app closes immediately after the splash screen."),
    (
        "Change billing address",
        "We moved offices; please update the billing address on our account.",
    ),
    ("SSO setup with Okta", "We are setting up SAML with Okta and the assertion is rejected."),
]
REPLIES = [
    "Thanks for reaching out! I have looked into this and fixed the setting on our side.",
    "Could you send a screenshot of the error and the time it happened?",
    "I have escalated this to our engineers and will update you as soon as I hear back.",
    "Good news: this is resolved now. Let us know if anything else comes up.",
]
NOTES = [
    "Checked the logs, looks like the known cache issue.",
    "Customer is on the enterprise plan.",
]


class Command(BaseCommand):
    help = "Load demo data (two mailboxes, teams, agents, customers, a few hundred tickets)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if users exist.")
        parser.add_argument("--tickets", type=int, default=300)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and User.objects.exists():
            self.stdout.write("demo data already present")
            return
        rng = random.Random(options["seed"])
        with transaction.atomic():
            people = self._setup()
            self._tickets(rng, options["tickets"], *people)
            self._extras()
        self.stdout.write(self.style.SUCCESS(f"demo data loaded: {options['tickets']} tickets"))

    def _user(self, local: str, name: str, role: str, password: str) -> User:
        first, _, last = name.partition(" ")
        user = User.objects.create_user(
            username=f"{local}@{DEMO_DOMAIN}",
            email=f"{local}@{DEMO_DOMAIN}",
            password=password,
            first_name=first,
            last_name=last,
            role=role,
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        return user

    def _setup(self) -> tuple[list[Mailbox], list[User], list[Any]]:
        calendar = BusinessCalendar(
            name="Berlin office",
            timezone="Europe/Berlin",
            hours={day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
            holidays=[],
            is_default=True,
        )
        calendars.save_calendar(calendar)
        tier1 = Team.objects.create(name="Tier 1")
        success = Team.objects.create(name="Customer Success")
        support = Mailbox.objects.create(
            address=f"support@{DEMO_DOMAIN}",
            name="Demo Support",
            calendar=calendar,
            is_default=True,
            from_name="Demo Support",
        )
        sales = Mailbox.objects.create(
            address=f"success@{DEMO_DOMAIN}",
            name="Customer Success",
            calendar=calendar,
            from_name="Customer Success",
        )
        support.teams.add(tier1)
        sales.teams.add(success)
        agent = self._user("agent", "Ana Ruiz", Role.AGENT, PASSWORDS["agent"])
        agent2 = self._user("ben", "Ben Okafor", Role.AGENT, PASSWORDS["agent"])
        agent3 = self._user("chloe", "Chloe Martin", Role.AGENT, PASSWORDS["agent"])
        manager = self._user("manager", "Maria Keller", Role.MANAGER, PASSWORDS["manager"])
        self._user("admin", "Adam Admin", Role.ADMIN, PASSWORDS["admin"])
        tier1.members.add(agent, agent2)
        success.members.add(agent, agent3)
        acme = Organization.objects.create(
            name="Acme Corp", shares_tickets=True, success_contact=agent3
        )
        globex = Organization.objects.create(name="Globex", success_contact=agent3)
        customers = []
        portal_user = User.objects.create_user(
            username=f"customer@{DEMO_DOMAIN}",
            email=f"customer@{DEMO_DOMAIN}",
            password=PASSWORDS["customer"],
            first_name="Casey",
            last_name="Customer",
            role=Role.CUSTOMER,
        )
        first = services.get_or_create_customer(f"customer@{DEMO_DOMAIN}", "Casey Customer", acme)
        first.user = portal_user
        first.save(update_fields=["user"])
        customers.append(first)
        names = [
            "Li Wei",
            "Sam Patel",
            "Noor Haddad",
            "Jonas Berg",
            "Aiko Tanaka",
            "Olu Adeyemi",
            "Eva Novak",
            "Tom Becker",
            "Rosa Diaz",
            "Ivan Petrov",
            "Mia Rossi",
            "Kofi Mensah",
        ]
        for index, name in enumerate(names):
            org = (acme, globex, None)[index % 3]
            domain = "acme" if org is acme else "globex" if org else "mail"
            email = f"{name.split()[0].lower()}@{domain}.test"
            customers.append(services.get_or_create_customer(email, name, org))
        return [support, sales], [agent, agent2, agent3, manager], customers

    def _tickets(self, rng: random.Random, count: int, mailboxes, agents, customers) -> None:  # type: ignore[no-untyped-def]
        now = timezone.now()
        teams = {mailbox.pk: mailbox.teams.first() for mailbox in mailboxes}
        for index in range(count):
            fresh = index < 15  # the newest few stay new and unassigned: work for the demo
            created = now - (
                timedelta(hours=rng.uniform(0, 36))
                if fresh
                else timedelta(days=rng.uniform(2, 120), hours=rng.uniform(0, 8))
            )
            mailbox = mailboxes[0] if rng.random() < 0.75 else mailboxes[1]
            kind = Kind.SUPPORT if mailbox is mailboxes[0] else Kind.SERVICE
            subject, body = rng.choice(SUBJECTS)
            customer = rng.choice(customers)
            outreach = kind == Kind.SERVICE and rng.random() < 0.5
            agent = rng.choice(agents[:2] if mailbox is mailboxes[0] else [agents[0], agents[2]])
            ticket = services.create_ticket(
                mailbox=mailbox,
                customer=customer,
                subject=subject if not outreach else "Checking in on your onboarding",
                body_text=body
                if not outreach
                else "Hi! How is the rollout going? Anything we can help with?",
                direction=Direction.OUTBOUND if outreach else Direction.INBOUND,
                channel="outbound" if outreach else rng.choice(["email", "email", "portal"]),
                kind=kind,
                team=teams[mailbox.pk],
                priority=rng.choice(
                    [Priority.LOW, Priority.NORMAL, Priority.NORMAL, Priority.HIGH, Priority.URGENT]
                ),
                tags=rng.sample(
                    ["billing", "login", "api", "mobile", "vip", "bug", "howto"],
                    k=rng.randint(0, 2),
                ),
                actor=Actor.agent(agent) if outreach else services.MAIL,
                at=created,
                message_fields={"delivery_status": "sent"} if outreach else None,
            )
            if fresh and not outreach:
                continue
            at = created + timedelta(minutes=rng.uniform(5, 240))
            actor = Actor.agent(agent)
            services.update_ticket(ticket, actor=actor, at=at, assignee=agent, status=Status.OPEN)
            if rng.random() < 0.2:
                services.add_note(ticket, agent, rng.choice(NOTES), at=at + timedelta(minutes=1))
            at += timedelta(minutes=rng.uniform(5, 600))
            if at > now:
                continue
            services.add_message(
                ticket,
                direction=Direction.OUTBOUND,
                body_text=rng.choice(REPLIES),
                author=agent,
                actor=actor,
                at=at,
                from_address=mailbox.address,
                send=False,
                delivery_status="sent",
                sent_at=at,
            )
            roll = rng.random()
            if roll < 0.25:
                continue  # still open
            if roll < 0.4:
                services.update_ticket(ticket, actor=actor, at=at, status=Status.PENDING)
                continue
            if roll < 0.55:
                at += timedelta(hours=rng.uniform(1, 30))
                if at > now:
                    continue
                services.add_message(
                    ticket,
                    direction=Direction.INBOUND,
                    body_text="Thanks, but it still happens.",
                    actor=services.MAIL,
                    at=at,
                    from_address=customer.email,
                )
                at += timedelta(hours=rng.uniform(1, 10))
                if at > now:
                    continue
                services.add_message(
                    ticket,
                    direction=Direction.OUTBOUND,
                    body_text=REPLIES[3],
                    author=agent,
                    actor=actor,
                    at=at,
                    from_address=mailbox.address,
                    send=False,
                    delivery_status="sent",
                    sent_at=at,
                )
            at += timedelta(hours=rng.uniform(0.5, 48))
            if at > now:
                continue
            services.update_ticket(ticket, actor=actor, at=at, status=Status.SOLVED)
            if rng.random() < 0.3 and at + timedelta(days=4) < now:
                services.update_ticket(ticket, at=at + timedelta(days=4), status=Status.CLOSED)

    def _extras(self) -> None:
        """Demo data of the other apps (knowledge base, surveys), where they provide it."""
        load_demo_articles(User.objects.get(username=f"agent@{DEMO_DOMAIN}"), random.Random(11))

        # Survey answers for solved tickets and NPS for some customers, then every ticket's
        # figures, so the dashboards have something to show on first start.
        seed_surveys(random.Random(11))
