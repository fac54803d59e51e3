"""Long work from the shell: imports and bulk invitations, run as background jobs with a
progress bar (Ctrl-C cancels after the current chunk; what was committed stays)."""

from __future__ import annotations

import threading
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from admit.adapters.spreadsheets import write_csv
from admit.admin import access_codes, bulk_invites, imports, jobs
from admit.domain.errors import DomainError
from admit.entrypoints.cli.common import OPERATOR, console, context, errors, friendly, show_table

jobs_app = typer.Typer(help="Background jobs: imports and bulk invitations.", no_args_is_help=True)
JOB_FIELDS = ("id", "kind", "state", "total", "position", "created_by", "created_at")
SHOWN_PROBLEMS = 50


class When(StrEnum):
    now = "now"
    later = "later"


def register(app: typer.Typer) -> None:
    app.command("import")(import_file)
    app.command("invite-all")(invite_all)
    app.command("invite-list")(invite_list)
    app.add_typer(jobs_app, name="jobs")


@friendly
def import_file(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A .csv or .xlsx file with a header row."),
    workspace_id: str = typer.Option(..., "--workspace", help="The workspace to import into."),
    invite: When = typer.Option(..., help="Invite the new people now, or leave them awaiting invitation."),
    dry_run: bool = typer.Option(False, help="Check the file and report what would happen; write nothing."),
    message: str = typer.Option(None, help="A personal message for the invitations."),
    report: Path = typer.Option(None, help="Write every problem (row, column, reason) to this CSV file."),
) -> None:
    """Import people from CSV or XLSX: new people are created, existing ones are never changed."""
    job = imports.start(
        context(),
        OPERATOR,
        workspace_id,
        file.read_bytes(),
        file.name,
        invite=invite.value,
        dry_run=dry_run,
        message=message,
    )
    _follow(job, report)


@friendly
def invite_all(
    workspace_id: str,
    message: str = typer.Option(None, help="A personal message for the invitations."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Invite every member awaiting invitation."""
    preview = bulk_invites.preview(context(), OPERATOR, workspace_id, message=message)
    console.print(f"[bold]Subject:[/bold] {preview.subject}\n{preview.text}")
    if not yes and not typer.confirm("Send this invitation to everyone awaiting invitation?"):
        raise typer.Exit(1)
    _follow(bulk_invites.invite_all(context(), OPERATOR, workspace_id, message=message), None)


@friendly
def invite_list(
    workspace_id: str,
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help='A .csv or .xlsx file with "Email" or "External ID".'
    ),
    message: str = typer.Option(None, help="A personal message for the invitations."),
    report: Path = typer.Option(None, help="Write every row that did not match to this CSV file."),
) -> None:
    """Invite the members a file names (column "Email" or "External ID")."""
    job = bulk_invites.invite_listed(context(), OPERATOR, workspace_id, file.read_bytes(), file.name, message=message)
    _follow(job, report)


@jobs_app.command("list")
@friendly
def jobs_list(workspace_id: str) -> None:
    """The workspace's recent jobs, newest first."""
    show_table(JOB_FIELDS, jobs.list_jobs(context(), OPERATOR, workspace_id), empty="No jobs yet.")


@jobs_app.command("cancel")
@friendly
def jobs_cancel(job_id: str) -> None:
    """Ask a job to stop after its current chunk."""
    job = jobs.cancel(context(), OPERATOR, job_id)
    console.print(f"Job {job.id}: {job.state}, cancel requested.")


@jobs_app.command("show")
@friendly
def jobs_show(job_id: str, report: Path = typer.Option(None, help="Write every problem to this CSV file.")) -> None:
    """A job's state, counts and problems."""
    _summary(jobs.get(context(), OPERATOR, job_id), report)


def _follow(job: jobs.JobView, report: Path | None) -> None:
    """Run the job here with a progress bar; Ctrl-C asks it to stop."""
    outcome: dict[str, Any] = {}
    runner = threading.Thread(target=lambda: outcome.update(id=jobs.run_next(context(), job.id)), daemon=True)
    runner.start()
    label = "Checking" if job.options.get("dry_run") else "Importing" if job.kind == "import" else "Inviting"
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(label, total=job.total or None)
            while runner.is_alive():
                runner.join(0.2)
                bar.update(task, completed=jobs.get(context(), OPERATOR, job.id).position)
    except KeyboardInterrupt:
        errors.print("Stopping after the current chunk…")
        jobs.cancel(context(), OPERATOR, job.id)
        runner.join()
    _summary(jobs.get(context(), OPERATOR, job.id), report)


def _summary(job: jobs.JobView, report: Path | None) -> None:
    dry = " (dry run: nothing was written)" if job.options.get("dry_run") else ""
    console.print(f"[bold]Job {job.id}[/bold] {job.kind}: {job.state}{dry}, {job.position} of {job.total} rows")
    if job.error:
        errors.print(f"[red]Error[/red]: {job.error}")
    for name, count in sorted(job.counts.items()):
        console.print(f"  {name.replace('_', ' ')}: {count}")
    problems = job.report
    for entry in problems[:SHOWN_PROBLEMS]:
        where = ", ".join(p for p in (f"row {entry['row']}" if entry["row"] else "", entry["column"] or "") if p)
        console.print(f"  {entry['kind']}: {where + ': ' if where else ''}{entry['reason']}")
    if len(problems) > SHOWN_PROBLEMS:
        console.print(f"  … and {len(problems) - SHOWN_PROBLEMS} more (use --report FILE for all)")
    if report is not None:
        rows = [[e["row"], e["column"], e["kind"], e["reason"]] for e in problems]
        report.write_bytes(write_csv(["Row", "Column", "Kind", "Reason"], rows))
        console.print(f"Report written to {report}")
    _codes_hint(job)
    if job.state in ("failed", "cancelled"):
        raise typer.Exit(1)


def _codes_hint(job: jobs.JobView) -> None:
    """How to print the access codes of the people this job left without a way to be reached."""
    if job.state in ("queued", "running") or job.kind not in ("import", "invite_all") or job.options.get("dry_run"):
        return
    try:
        count = len(access_codes.job_people(context(), OPERATOR, job.id))
    except DomainError:
        return
    if count:
        console.print(
            f"{count} of these people have no email or phone to send to: print their access codes with"
            f" `admit code sheet --import {job.id} --output FILE.pdf`"
        )
