"""Commands for department sign-up links (``admit signup-link …``) and the sign-up approval
queue (``admit signup-request …``); the rules are the services'."""

from __future__ import annotations

from pathlib import Path

import typer

from admit.admin import signup_links, signup_settings
from admit.entrypoints.cli.common import OPERATOR, console, context, friendly, show_record, show_table
from admit.flows.signup import self_sign_up

links = typer.Typer(help="Department sign-up links, their QR codes and posters.", no_args_is_help=True)
requests = typer.Typer(help="Sign-ups waiting for an administrator's approval.", no_args_is_help=True)
LINK_FIELDS = ("id", "department", "job_profile", "role", "state", "uses", "max_uses", "expires_at", "url")


def register(app: typer.Typer) -> None:
    app.add_typer(links, name="signup-link")
    app.add_typer(requests, name="signup-request")


@links.command("create")
@friendly
def link_create(
    workspace_id: str,
    department: str = typer.Option(..., help="One of the workspace's departments."),
    job_profile: str = typer.Option(None, help="One of the workspace's job profiles."),
    role: str = typer.Option("member", help="member or guest (never more)."),
    expires: str = typer.Option(None, help="Last day the link works (YYYY-MM-DD, UTC)."),
    max_uses: int = typer.Option(None, help="How many people may sign up through it."),
) -> None:
    """Create a sign-up link for a department and print its URL."""
    given = {
        "department": department,
        "job_profile": job_profile,
        "role": role,
        "expires_at": signup_links.end_of_day(expires),
        "max_uses": max_uses,
    }
    link = signup_links.create(context(), OPERATOR, workspace_id, given)
    show_record("Sign-up link created", link, LINK_FIELDS)


@links.command("list")
@friendly
def link_list(workspace_id: str) -> None:
    """The workspace's sign-up links with their uses and URLs."""
    rows = signup_links.list_links(context(), OPERATOR, workspace_id)
    show_table(LINK_FIELDS, rows, empty="No sign-up links.")


def _change(action: str, workspace_id: str, link_id: str) -> None:
    change, title = {
        "pause": (signup_links.pause, "Sign-up link paused"),
        "resume": (signup_links.resume, "Sign-up link resumed"),
        "rotate": (signup_links.rotate, "Sign-up link rotated (the old URL no longer works)"),
    }[action]
    show_record(title, change(context(), OPERATOR, workspace_id, link_id), LINK_FIELDS)


@links.command("pause")
@friendly
def link_pause(workspace_id: str, link_id: str) -> None:
    """Stop the link working until resumed."""
    _change("pause", workspace_id, link_id)


@links.command("resume")
@friendly
def link_resume(workspace_id: str, link_id: str) -> None:
    _change("resume", workspace_id, link_id)


@links.command("rotate")
@friendly
def link_rotate(workspace_id: str, link_id: str) -> None:
    """Give the link a new URL: the old one (and its printed QR code) stops working."""
    _change("rotate", workspace_id, link_id)


@links.command("delete")
@friendly
def link_delete(workspace_id: str, link_id: str) -> None:
    """Delete the link; people who signed up through it stay."""
    signup_links.delete(context(), OPERATOR, workspace_id, link_id)
    console.print("Sign-up link deleted.")


def _write(output: Path, download: signup_links.Download) -> None:
    """Write a new file, readable by its owner only (it holds the link's secret)."""
    try:
        with output.open("xb") as handle:
            handle.write(download.content)
    except FileExistsError:
        raise typer.BadParameter(f"{output} exists; choose a new file", param_hint="--output") from None
    except OSError as exc:
        raise typer.BadParameter(f"cannot write {output}: {exc.strerror}", param_hint="--output") from None
    output.chmod(0o600)
    console.print(f"Wrote {output} (it opens {download.url}).")


@links.command("qr")
@friendly
def link_qr(
    workspace_id: str,
    link_id: str,
    output: Path = typer.Option(..., "--output", "-o", dir_okay=False, help="A new .png or .svg file."),
) -> None:
    """Write the link's QR code as PNG or SVG (by the file's extension). A paused link's code
    answers a friendly page until resumed; after a rotation, download it again."""
    suffix = output.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise typer.BadParameter("the file must end in .png or .svg", param_hint="--output")
    make = signup_links.qr_png if suffix == ".png" else signup_links.qr_svg
    _write(output, make(context(), OPERATOR, workspace_id, link_id))


@links.command("poster")
@friendly
def link_poster(
    workspace_id: str,
    link_id: str,
    output: Path = typer.Option(..., "--output", "-o", dir_okay=False, help="A new .pdf file."),
    language: str = typer.Option("en", help="en, de or fr."),
) -> None:
    """Write a printable A4 poster (PDF) with the link's QR code, its department and URL."""
    if output.suffix.lower() != ".pdf":
        raise typer.BadParameter("the file must end in .pdf", param_hint="--output")
    _write(output, signup_links.poster(context(), OPERATOR, workspace_id, link_id, language))


@requests.command("list")
@friendly
def request_list(workspace_id: str) -> None:
    rows = signup_settings.queue(context(), OPERATOR, workspace_id)
    columns = ("id", "first_name", "last_name", "email", "username", "phone", "department", "role", "created_at")
    show_table(columns, rows, empty="Nobody is waiting.")


@requests.command("approve")
@friendly
def request_approve(workspace_id: str, request_id: str) -> None:
    """Let the person in: the member becomes active and is told."""
    done = self_sign_up.approve(context(), OPERATOR, workspace_id, request_id)
    console.print(f"Approved: member {done['member_id']} is active.")


@requests.command("reject")
@friendly
def request_reject(workspace_id: str, request_id: str) -> None:
    """Turn the sign-up away; the person is told."""
    self_sign_up.reject(context(), OPERATOR, workspace_id, request_id)
    console.print("Rejected.")
