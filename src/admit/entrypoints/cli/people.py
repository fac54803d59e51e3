"""Commands for members and invitations."""

from __future__ import annotations

import typer

from admit.admin import invitations, members
from admit.admin.profiles import MemberInput
from admit.entrypoints.cli.common import OPERATOR, console, context, friendly, show_record, show_table
from admit.shared import endings

member = typer.Typer(help="Members of a workspace's directory.", no_args_is_help=True)
invitations_app = typer.Typer(help="Invitations of a workspace.", no_args_is_help=True)

MEMBER_FIELDS = ("id", "status", "role", "email", "username", "phone", "first_name", "last_name")
INVITATION_FIELDS = ("id", "state", "email", "phone", "role", "licence", "expires_at", "send_count")


def register(app: typer.Typer) -> None:
    app.add_typer(member, name="member")
    app.add_typer(invitations_app, name="invitations")
    app.command("invite")(invite)


@member.command("add")
@friendly
def member_add(
    workspace_id: str,
    email: str = typer.Option(None, help="Email address."),
    username: str = typer.Option(None, help="Username (with --phone, for people without email)."),
    phone: str = typer.Option(None, help="Phone number, international form (+49…)."),
    first_name: str = typer.Option(None),
    last_name: str = typer.Option(None),
    external_id: str = typer.Option(None, help="ID in your HR or identity system."),
    department: str = typer.Option(None),
    job_profile: str = typer.Option(None),
    language: str = typer.Option(None, help="en, de or fr (default: the workspace's)."),
    role: str = typer.Option("member", help="owner, admin, member or guest."),
    invite: bool = typer.Option(True, "--invite/--no-invite", help="Invite now, or leave awaiting invitation."),
    message: str = typer.Option(None, help="A personal message for the invitation."),
) -> None:
    """Add a member; invited at once unless --no-invite."""
    person = MemberInput(
        email=email,
        username=username,
        phone=phone,
        first_name=first_name,
        last_name=last_name,
        external_id=external_id,
        department=department,
        job_profile=job_profile,
        language=language,
        role=role,
    )
    added, invitation = members.provision(context(), OPERATOR, workspace_id, person, invite=invite, message=message)
    show_record("Member added", added, MEMBER_FIELDS)
    if invitation is not None:
        console.print(f"invitation_id: {invitation.id}")


@member.command("set-password")
@friendly
def member_set_password(
    member_id: str,
    password: str = typer.Option(
        ...,
        prompt="One-time password",
        hide_input=True,
        confirmation_prompt=True,
        envvar="ADMIT_ONE_TIME_PASSWORD",
        help="Asked for (not echoed) unless given in ADMIT_ONE_TIME_PASSWORD; never as an argument in shell history.",
    ),
) -> None:
    """Activate a member without an account with a one-time password you give them by hand; they
    choose their own at their first sign-in (a pending invitation ends)."""
    done = members.set_initial_password(context(), OPERATOR, member_id, password)
    show_record("Member activated with a one-time password", done, MEMBER_FIELDS)


@member.command("list")
@friendly
def member_list(
    workspace_id: str,
    status: str = typer.Option(None, help="provisioned, invited, active, suspended or removed."),
    limit: int = typer.Option(100),
) -> None:
    """List the members of a workspace."""
    rows = members.list_members(context(), OPERATOR, workspace_id, status=status, limit=limit)
    show_table(MEMBER_FIELDS, rows, empty="No members match.")


@friendly
def invite(
    workspace_id: str,
    email: str,
    role: str = typer.Option("member", help="owner, admin, member or guest."),
    first_name: str = typer.Option(None),
    last_name: str = typer.Option(None),
    message: str = typer.Option(None, help="A personal message for the invitation."),
    licence: str = typer.Option(None, help="licensed (the default: takes a seat) or viewer (a resource viewer: none)."),
) -> None:
    """Invite a person by email (a new member, or one awaiting invitation)."""
    person = MemberInput(email=email, role=role, first_name=first_name, last_name=last_name, licence=licence)
    invitation, _ = invitations.invite(context(), OPERATOR, workspace_id, person, message=message)
    show_record("Invitation sent", invitation, INVITATION_FIELDS)


@invitations_app.command("list")
@friendly
def invitations_list(
    workspace_id: str,
    state: str = typer.Option(None, help="pending, accepted, declined, expired or revoked."),
    limit: int = typer.Option(100),
) -> None:
    """List the invitations of a workspace."""
    rows = invitations.list_invitations(context(), OPERATOR, workspace_id, state=state, limit=limit)
    show_table(INVITATION_FIELDS, rows, empty="No invitations match.")


@invitations_app.command("expire")
@friendly
def invitations_expire() -> None:
    """Mark every lapsed pending invitation expired now (serve also does this every minute)."""
    console.print(f"Expired {endings.expire_due(context())} invitation(s).")


@invitations_app.command("remind")
@friendly
def invitations_remind() -> None:
    """Queue the reminders now due in workspaces that send them (serve also does this every minute)."""
    console.print(f"Queued {invitations.remind_due(context())} reminder(s).")
