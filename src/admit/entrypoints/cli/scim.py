"""Commands for SCIM provisioning: the bearer tokens identity providers present at /scim/v2."""

from __future__ import annotations

import typer

from admit.admin import scim_brake, scim_tokens
from admit.entrypoints.cli.common import OPERATOR, console, context, friendly, show_record, show_table

scim = typer.Typer(help="SCIM 2.0 provisioning (/scim/v2) for identity providers.", no_args_is_help=True)
tokens = typer.Typer(help="SCIM bearer tokens (adm_scm_…).", no_args_is_help=True)
FIELDS = ("id", "name", "workspace_id", "role", "created_at", "created_by_name", "last_used_at", "revoked_at")


def register(app: typer.Typer) -> None:
    scim.add_typer(tokens, name="token")
    scim.add_typer(holds, name="holds")
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


# The deprovisioning brake's held changes (admit.admin.scim_brake).
holds = typer.Typer(help="Deactivations and removals held by the deprovisioning brake.", no_args_is_help=True)
HOLD_FIELDS = ("id", "action", "name", "address", "member_status", "token_name", "created_at")


@holds.command("list")
@friendly
def holds_list(workspace_id: str) -> None:
    """The workspace's held deactivations and removals, the oldest first."""
    rows = scim_brake.list_holds(context(), OPERATOR, workspace_id)
    show_table(HOLD_FIELDS, rows, empty="No held changes.")


def _chosen(ids: list[str] | None, every: bool) -> list[str] | None:
    if bool(ids) == every:
        raise typer.BadParameter("give hold ids or --all (not both)")
    return None if every else list(ids or [])


@holds.command("release")
@friendly
def holds_release(
    workspace_id: str,
    ids: list[str] = typer.Argument(None, help="The holds to release."),
    every: bool = typer.Option(False, "--all", help="Every held change of the workspace."),
) -> None:
    """Apply held changes: the members are suspended or removed."""
    outcome = scim_brake.release(context(), OPERATOR, workspace_id, _chosen(ids, every))
    _report("released", outcome)


@holds.command("dismiss")
@friendly
def holds_dismiss(
    workspace_id: str,
    ids: list[str] = typer.Argument(None, help="The holds to dismiss."),
    every: bool = typer.Option(False, "--all", help="Every held change of the workspace."),
) -> None:
    """Drop held changes: the members stay as they are."""
    outcome = scim_brake.dismiss(context(), OPERATOR, workspace_id, _chosen(ids, every))
    _report("dismissed", outcome)


def _report(verb: str, outcome: scim_brake.Decided) -> None:
    console.print(f"{len(outcome.done)} held change(s) {verb}.")
    for hold_id, why in outcome.refused:
        console.print(f"{hold_id}: left held: {why}")
