"""``admit org customers ORG [list|create NAME]`` and ``admit org seller-invite``: a seller's
customer organizations and invitations into them (rules in ``admin.sellers``)."""

from __future__ import annotations

import typer

from admit.admin import sellers
from admit.entrypoints.cli.common import OPERATOR, context, friendly, show_record, show_table

CUSTOMERS = ("id", "name", "plan", "seats", "created_at")
INVITATION = ("id", "organization_id", "workspace_id", "email", "role", "state", "expires_at")


def register(org: typer.Typer) -> None:
    org.command("customers")(friendly(customers))
    org.command("seller-invite")(friendly(seller_invite))


def customers(
    organization_id: str = typer.Argument(..., help="The seller."),
    action: str = typer.Argument("list", help="list or create."),
    name: str = typer.Argument(None, help="The new customer's name (create)."),
    search: str = typer.Option(None, "--search", "-q", help="Only customers whose name contains this."),
) -> None:
    """List a seller's customer organizations, or create one (the first makes the organization a seller)."""
    if action == "create":
        if not name:
            raise typer.BadParameter("create needs the customer's NAME")
        made = sellers.create_customer(context(), OPERATOR, organization_id, name)
        show_record("Customer organization created", made, CUSTOMERS)
    elif action == "list":
        rows = sellers.list_customers(context(), OPERATOR, organization_id, q=search)
        show_table(CUSTOMERS, rows, empty="No customer organizations.")
    else:
        raise typer.BadParameter("the action is list or create")


def seller_invite(
    seller_id: str,
    target_id: str = typer.Argument(..., help="The seller itself or one of its customers."),
    workspace_id: str = typer.Argument(...),
    email: str = typer.Argument(...),
    role: str = typer.Option("member", help="owner, admin, member or guest."),
    identity_provider: str = typer.Option("password", help="password or an SSO provider's id."),
) -> None:
    """Invite a person into a workspace of the seller or of a customer, valid 7 days."""
    made = sellers.invite(
        context(), OPERATOR, seller_id, organization_id=target_id, workspace_id=workspace_id, email=email,
        role=role, identity_provider=identity_provider,
    )  # fmt: skip
    show_record("Invitation sent", made, INVITATION)
