"""``admit org admin|licences|seats|licence|security …``: an organization's administrators,
licences and security controls (rules in ``admin.organization_roles``, ``admin.licences`` and
``admin.security_controls``)."""

from __future__ import annotations

import typer

from admit.admin import licences, organization_roles, security_controls
from admit.entrypoints.cli.common import OPERATOR, console, context, friendly, show_record, show_table

admin = typer.Typer(help="An organization's system and group administrators.", no_args_is_help=True)
ADMINS = ("account_id", "role", "name", "email", "since")


def register(org: typer.Typer) -> None:
    org.add_typer(admin, name="admin")
    org.command("licences")(friendly(licence_report))
    org.command("seats")(friendly(seats))
    org.command("licence")(friendly(licence))
    org.command("security")(friendly(security))


@admin.command("list")
@friendly
def admin_list(organization_id: str) -> None:
    """The organization's system and group administrators."""
    show_table(ADMINS, organization_roles.list_admins(context(), OPERATOR, organization_id), empty="No administrators.")


@admin.command("add")
@friendly
def admin_add(
    organization_id: str,
    email: str,
    role: str = typer.Option("system_admin", help="system_admin or group_admin."),
) -> None:
    """Make a member with an account (by their email) a system or group administrator."""
    made = organization_roles.grant(context(), OPERATOR, organization_id, role, email=email)
    show_record("Administrator added", made, ADMINS)


@admin.command("remove")
@friendly
def admin_remove(organization_id: str, who: str = typer.Argument(..., help="Account id or email.")) -> None:
    """Take the organization role away (not from the last system administrator)."""
    account_id = who
    if "@" in who:
        found = [
            a for a in organization_roles.list_admins(context(), OPERATOR, organization_id) if a.email == who.lower()
        ]
        account_id = found[0].account_id if found else ""
    organization_roles.revoke(context(), OPERATOR, organization_id, account_id)
    console.print(f"Removed {who} from the organization's administrators.")


def licence_report(
    organization_id: str,
    reserve: bool | None = typer.Option(None, "--reserve/--no-reserve", help="Pending invitations reserve seats."),
) -> None:
    """Seats used, reserved and free, by workspace."""
    if reserve is None:
        report = licences.report(context(), OPERATOR, organization_id)
    else:
        report = licences.set_reservation(context(), OPERATOR, organization_id, reserve)
    show_record("Licences", report, ("seats", "enforced", "reserve_seats_for_invitations", "used", "reserved", "free"))
    show_table(("workspace_id", "name", "used", "reserved"), report.workspaces, empty="No workspaces.")


def seats(
    organization_id: str,
    count: int | None = typer.Option(None, "--seats", min=0, max=licences.MAX_SEATS, help="Licences bought."),
    enforce: bool | None = typer.Option(None, "--enforce/--no-enforce", help="Refuse licensed users past the seats."),
) -> None:
    """The number of licences and whether they are enforced (the operator's call)."""
    report = licences.set_seats(context(), OPERATOR, organization_id, seats=count, enforced=enforce)
    show_record("Licences", report, ("seats", "enforced", "used", "reserved", "free"))


def licence(member_id: str, kind: str = typer.Argument(..., help="licensed or viewer.")) -> None:
    """Make a member a licensed user (takes a seat) or a resource viewer (free)."""
    member = licences.set_licence(context(), OPERATOR, member_id, kind)
    show_record("Licence", member, ("id", "email", "status", "licence"))


def security(
    organization_id: str,
    allowed_domains: str | None = typer.Option(None, help='Comma-separated, e.g. "a.com,b.com"; "" allows any.'),
    who_may_invite: str | None = typer.Option(None, help="system-admins or workspace-admins."),
) -> None:
    """Show or change the security controls (enterprise plan)."""
    if allowed_domains is None and who_may_invite is None:
        found = security_controls.get(context(), OPERATOR, organization_id)
    else:
        found = security_controls.update(
            context(), OPERATOR, organization_id, allowed_email_domains=allowed_domains, who_may_invite=who_may_invite
        )
    shown = {**vars(found), "allowed_email_domains": ", ".join(found.allowed_email_domains) or "(any)"}
    show_record("Security controls", shown, ("plan", "available", "allowed_email_domains", "who_may_invite"))
