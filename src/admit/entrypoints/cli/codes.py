"""``admit code …``: access codes for members without email (rules in ``admin.access_codes``)."""

from __future__ import annotations

from pathlib import Path

import typer

from admit.admin import access_codes
from admit.admin.access_codes import IssuedCode
from admit.entrypoints.cli.common import OPERATOR, console, context, friendly, show_record
from admit.shared.context import Context

code = typer.Typer(help="Access codes for people without email.", no_args_is_help=True)
STATE_FIELDS = ("member_id", "state", "created_at", "expires_at", "ended_at", "created_by", "failures")


def register(app: typer.Typer) -> None:
    app.add_typer(code, name="code")


@code.command("issue")
@friendly
def issue(member_id: str) -> None:
    """A new access code for a member (the previous one withdrawn); printed once."""
    ctx = context()
    issued = access_codes.issue(ctx, OPERATOR, member_id)
    console.print(f"[bold]Access code for member {issued.member_id}[/bold]")
    console.print(f"code: {issued.code}")
    console.print(f"expires_at: {issued.expires_at.isoformat()}")
    console.print(f"url: {access_codes.redeem_url(ctx, issued.code)}")


@code.command("withdraw")
@friendly
def withdraw(member_id: str) -> None:
    """Withdraw a member's live access code."""
    show_record("Access code withdrawn", access_codes.withdraw(context(), OPERATOR, member_id), STATE_FIELDS)


@code.command("show")
@friendly
def show(member_id: str) -> None:
    """The state of a member's latest access code (never the code)."""
    state = access_codes.current(context(), OPERATOR, member_id)
    if state is None:
        console.print("This member has no access code.")
        return
    show_record("Access code", state, STATE_FIELDS)


@code.command("sms")
@friendly
def sms(member_id: str) -> None:
    """A new access code sent to the member's phone by SMS (through the outbox)."""
    show_record("Access code sent by SMS", access_codes.send_by_sms(context(), OPERATOR, member_id), STATE_FIELDS)


IMPORT_HELP = "A finished import (or Invite All) job: codes for its people no message can reach."


def _selected(
    ctx: Context, workspace_id: str | None, member_ids: list[str] | None, job_id: str | None
) -> list[IssuedCode]:
    """Fresh codes for the members named, or for a job's people (``--import``): one or the other."""
    if job_id is not None:
        if workspace_id or member_ids:
            raise typer.BadParameter("give either --import JOB_ID or a workspace and members, not both")
        return access_codes.issue_for_job(ctx, OPERATOR, job_id)
    if not workspace_id or not member_ids:
        raise typer.BadParameter("give a workspace and the members to make codes for, or --import JOB_ID")
    return access_codes.issue_for_selection(ctx, OPERATOR, workspace_id, member_ids)


@code.command("csv")
@friendly
def csv(
    workspace_id: str | None = typer.Argument(None, help="The workspace (not with --import)."),
    member_ids: list[str] | None = typer.Argument(None, help="The members to make fresh codes for."),
    output: Path = typer.Option(..., "--output", "-o", dir_okay=False, help="The CSV file to write (created new)."),
    job_id: str | None = typer.Option(None, "--import", help=IMPORT_HELP),
) -> None:
    """Fresh codes for a selection, or for an import's people without email or phone (--import),
    as a CSV file (each previous code withdrawn; audited)."""
    ctx = context()
    if output.exists():
        raise typer.BadParameter(f"{output} exists; choose a new file", param_hint="--output")
    issued = _selected(ctx, workspace_id, member_ids, job_id)
    with output.open("x", encoding="utf-8", newline="") as handle:
        handle.write(access_codes.as_csv(ctx, issued))
    output.chmod(0o600)
    console.print(f"Wrote {len(issued)} access code(s) to {output}.")


@code.command("sheet")
@friendly
def sheet(
    workspace_id: str | None = typer.Argument(None, help="The workspace (not with --import)."),
    member_ids: list[str] | None = typer.Argument(None, help="The members to make fresh codes for."),
    output: Path = typer.Option(..., "--output", "-o", dir_okay=False, help="The PDF file to write (created new)."),
    language: str = typer.Option("en", "--language", help="The language of the printed instructions: en, de or fr."),
    job_id: str | None = typer.Option(None, "--import", help=IMPORT_HELP),
) -> None:
    """Fresh codes for a selection, or for an import's people without email or phone (--import),
    as a printable PDF sheet, one card per person with a QR code (each previous code withdrawn;
    audited)."""
    ctx = context()
    if output.exists():
        raise typer.BadParameter(f"{output} exists; choose a new file", param_hint="--output")
    if language not in ("en", "de", "fr"):
        raise typer.BadParameter("choose en, de or fr", param_hint="--language")
    issued = _selected(ctx, workspace_id, member_ids, job_id)
    pdf = access_codes.as_sheet(ctx, issued, language)
    with output.open("xb") as handle:
        handle.write(pdf)
    output.chmod(0o600)
    console.print(f"Wrote {len(issued)} access code card(s) to {output}.")
