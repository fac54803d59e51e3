"""``admit org invite ORG EMAIL``, ``admit org invitations ORG``, ``admit org withdraw-invitation
INVITATION`` and ``admit org merge-plan INVITATION``: invitations to join an organization's account
and what accepting one would do (rules in
``admin.organization_invitations`` and ``domain.merge``)."""

from __future__ import annotations

import typer

from admit.admin import organization_invitations as oi
from admit.entrypoints.cli.common import OPERATOR, console, context, friendly, show_record

FIELDS = ("id", "organization_id", "email", "state", "language", "expires_at", "enterprise")


def register(org: typer.Typer) -> None:
    org.command("invite")(friendly(invite))
    org.command("invitations")(friendly(list_invitations))
    org.command("withdraw-invitation")(friendly(withdraw))
    org.command("merge-plan")(friendly(merge_plan))


def invite(
    organization_id: str,
    email: str,
    language: str = typer.Option("en", help="The email's language: en, de or fr."),
) -> None:
    """Invite a person (an email address) to join the organization's account; the email carries the link."""
    made, _ = oi.invite(context(), OPERATOR, organization_id, email, language=language)
    show_record("Invitation sent", made, FIELDS)
    if made.enterprise:
        console.print("This person administers an enterprise account: it cannot be acquired by an invitation.")


def list_invitations(organization_id: str) -> None:
    """The organization's invitations to join its account, newest first."""
    for item in oi.list_invitations(context(), OPERATOR, organization_id):
        refusal = f"  refused: {item.refusal}" if item.refusal else ""
        console.print(
            f"{item.id}  {item.state:<9}  {item.email}  until {item.expires_at:%Y-%m-%d}{refusal}", markup=False
        )


def withdraw(invitation_id: str) -> None:
    """Withdraw a pending invitation: its link stops working and says it was withdrawn."""
    show_record("Invitation withdrawn", oi.withdraw(context(), OPERATOR, None, invitation_id), FIELDS)


def merge_plan(invitation_id: str) -> None:
    """What accepting the invitation would do, as of now."""
    plan = oi.merge_plan(context(), OPERATOR, None, invitation_id)
    console.print(f"[bold]{plan.kind.replace('_', ' ')}[/bold] joining {plan.inviting_name}")
    if not plan.allowed:
        console.print(f"[red]Refused[/red] ({plan.refusal}): {plan.reason}")
    if plan.workspace_name:
        console.print(f"Becomes a member of {plan.workspace_name} as a {plan.licence} user.")
    if plan.acquired_name:
        console.print(f"Acquires {plan.acquired_name}: it is closed (billing stops there).")
    for _, name in plan.workspaces:
        console.print(f"Workspace moves: {name}")
    console.print(f"People moving: {len(plan.people)}")
    available = "not enforced" if plan.licences_available is None else str(plan.licences_available)
    console.print(f"Licences needed: {plan.licences_needed}; available: {available}")
    for account_id in plan.roles_lost:
        console.print(f"Loses system administration: {account_id}")
    for account_id in plan.roles_kept:
        console.print(f"Keeps group administration: {account_id}")
    for change in plan.settings_changed:
        console.print(f"Setting {change.name}: {change.before} -> {change.after}")
    for access in plan.revoked:
        console.print(f"Will be revoked: {access.kind.replace('_', ' ')} {access.name}", markup=False)
    for group in plan.groups:
        note = f" (renamed: the name is taken) -> {group.new_name}" if group.renamed else ""
        console.print(f"Group moves: {group.name}{note}")
