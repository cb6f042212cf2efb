"""The read paths of account health: the at-risk list, an agent's own accounts, and one
account's health. Agents who do not see everything see the accounts with a ticket they
may open (Ticket.objects.visible_to), as on every other list of the workspace."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from service.models import AccountHealth
from tickets.models import AppliesTo, FieldDefinition, Ticket, User

# Below this score an account is "at risk" (docs/metrics.md).
AT_RISK_BELOW = 50


@dataclass(frozen=True)
class AccountFilters:
    team_id: int | None = None
    organization_id: int | None = None
    field_key: str = ""
    field_value: str = ""
    kind: str = ""  # "", "customer" or "organization"
    below: int = AT_RISK_BELOW


def _tickets_of_account() -> tuple[QuerySet[Ticket], QuerySet[Ticket]]:
    return (
        Ticket.objects.filter(customer_id=OuterRef("customer_id")),
        Ticket.objects.filter(customer__organization_id=OuterRef("organization_id")),
    )


def visible_accounts(user: User) -> QuerySet[AccountHealth]:
    """Every scored account the agent may see, with its customer or organization."""
    rows = AccountHealth.objects.select_related("customer__organization", "organization")
    if user.sees_everything:
        return rows
    visible = Ticket.objects.visible_to(user)
    of_customer = visible.filter(customer_id=OuterRef("customer_id"))
    of_organization = visible.filter(customer__organization_id=OuterRef("organization_id"))
    return rows.filter(Exists(of_customer) | Exists(of_organization))


def field_keys() -> list[str]:
    """The custom fields the list can filter by: customers' and organizations'."""
    return list(
        FieldDefinition.objects.filter(
            applies_to__in=[AppliesTo.CUSTOMER, AppliesTo.ORGANIZATION], active=True
        )
        .order_by("key")
        .values_list("key", flat=True)
        .distinct()
    )


def at_risk(user: User, filters: AccountFilters) -> QuerySet[AccountHealth]:
    """Accounts below the threshold, lowest score first."""
    rows = visible_accounts(user).filter(score__lt=filters.below)
    if filters.kind == "customer":
        rows = rows.filter(customer__isnull=False)
    elif filters.kind == "organization":
        rows = rows.filter(organization__isnull=False)
    if filters.team_id is not None:
        # A team's accounts: those with a ticket it holds, or in a mailbox it works.
        of_team = Q(team_id=filters.team_id) | Q(mailbox__teams=filters.team_id)
        of_customer, of_organization = _tickets_of_account()
        rows = rows.filter(
            Exists(of_customer.filter(of_team)) | Exists(of_organization.filter(of_team))
        )
    if filters.organization_id is not None:
        rows = rows.filter(
            Q(organization_id=filters.organization_id)
            | Q(customer__organization_id=filters.organization_id)
        )
    if filters.field_key and filters.field_value and filters.field_key in field_keys():
        key, value = filters.field_key, filters.field_value
        rows = rows.filter(
            Q(**{f"customer__fields__{key}__iexact": value})
            | Q(**{f"organization__fields__{key}__iexact": value})
            | Q(**{f"customer__fields__{key}__contains": value})
            | Q(**{f"organization__fields__{key}__contains": value})
        )
    return rows.order_by("score", "id")


def owned_accounts(user: User) -> QuerySet[AccountHealth]:
    """The organizations the agent owns, lowest health first (My accounts)."""
    return (
        AccountHealth.objects.select_related("organization")
        .filter(organization__success_contact=user)
        .order_by("score", "id")
    )


def health_of(
    customer_id: int | None = None, organization_id: int | None = None
) -> AccountHealth | None:
    if customer_id is not None:
        return AccountHealth.objects.filter(customer_id=customer_id).first()
    if organization_id is not None:
        return AccountHealth.objects.filter(organization_id=organization_id).first()
    return None


def health_json(row: AccountHealth | None) -> dict | None:
    """The API's shape (specs/api.md, "Additions: service")."""
    if row is None:
        return None
    return {
        "score": row.score,
        "factors": [{"name": f["name"], "points": f["points"]} for f in row.factors],
        "computed_at": row.computed_at.isoformat(),
    }
