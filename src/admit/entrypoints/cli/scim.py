"""Commands for SCIM provisioning: the bearer tokens identity providers present at /scim/v2."""

from __future__ import annotations

import typer

from admit.admin import scim_tokens
from admit.entrypoints.cli.common import OPERATOR, console, context, friendly, show_record, show_table

scim = typer.Typer(help="SCIM 2.0 provisioning (/scim/v2) for identity providers.", no_args_is_help=True)
tokens = typer.Typer(help="SCIM bearer tokens (adm_scm_…).", no_args_is_help=True)
FIELDS = ("id", "name", "workspace_id", "role", "created_at", "created_by_name", "last_used_at", "revoked_at")


def register(app: typer.Typer) -> None:
    scim.add_typer(tokens, name="token")
    app.add_typer(scim, name="scim")


@tokens.command("create")
@friendly
def token_create(
    organization_id: str,
    workspace: str = typer.Option(None, help="The workspace it provisions into; default every workspace."),
    name: str = typer.Option("SCIM", help="What the token is for, e.g. 'Entra ID'."),
    role: str = typer.Option("member", help="The highest role it may grant: guest, member or admin."),
) -> None:
    """Create a SCIM token; it is printed this once."""
    created, secret = scim_tokens.create(
        context(), OPERATOR, organization_id, name=name, role=role, workspace_id=workspace
    )
    show_record("SCIM token created", created, FIELDS)
    console.print(f"token: {secret}  (shown once: paste it into the identity provider now)")
    console.print(f"Tenant URL: {context().link('/scim/v2')}")


@tokens.command("list")
@friendly
def token_list(organization_id: str) -> None:
    """The organization's SCIM tokens (never their secrets)."""
    rows = scim_tokens.list_tokens(context(), OPERATOR, organization_id)
    show_table(FIELDS, rows, empty="No SCIM tokens.")


@tokens.command("revoke")
@friendly
def token_revoke(organization_id: str, token_id: str) -> None:
    """Revoke a SCIM token: the provider's next request with it is refused."""
    revoked = scim_tokens.revoke(context(), OPERATOR, organization_id, token_id)
    console.print(f"SCIM token {revoked['id']} ({revoked['name']}) is revoked.")
