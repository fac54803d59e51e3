"""Admit: run the server, migrate the database, and manage organizations, workspaces, members,
invitations, API tokens and the outbox from the shell."""

from __future__ import annotations

import os
import re
import signal
import tempfile
import threading
from collections.abc import MutableMapping
from datetime import timedelta
from pathlib import Path

import typer

from admit.adapters.persistence import migrate
from admit.admin import jobs as jobs_service
from admit.admin import outbox as outbox_service
from admit.admin import tenancy
from admit.admin import terms as terms_service
from admit.admin.tenancy import WorkspaceSettings
from admit.domain.workspaces import DEFAULTS
from admit.entrypoints.cli import bulk, codes, common, demo, people
from admit.entrypoints.cli import groups as group_commands
from admit.entrypoints.cli import oidc as oidc_commands
from admit.entrypoints.cli import org_invitations as org_invitation_commands
from admit.entrypoints.cli import organizations as org_commands
from admit.entrypoints.cli import scim as scim_commands
from admit.entrypoints.cli import sellers as seller_commands
from admit.entrypoints.cli import signup as signup_commands
from admit.entrypoints.cli import sso as sso_commands
from admit.entrypoints.cli import webhooks as webhook_commands
from admit.entrypoints.cli.common import OPERATOR, context, friendly, settings, show_record, show_table
from admit.entrypoints.workers import jobs_worker
from admit.entrypoints.workers.periodic import Periodic
from admit.flows.signin import sessions

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
db = typer.Typer(help="Database schema.", no_args_is_help=True)
org = typer.Typer(help="Organizations (customer accounts).", no_args_is_help=True)
workspace = typer.Typer(help="Workspaces inside an organization.", no_args_is_help=True)
token = typer.Typer(help="API tokens for integrations and scripts.", no_args_is_help=True)
outbox = typer.Typer(help="Messages waiting for, or past, delivery.", no_args_is_help=True)
terms = typer.Typer(help="Terms of service of a workspace (versioned).", no_args_is_help=True)
for sub, name in (
    (db, "db"),
    (org, "org"),
    (workspace, "workspace"),
    (token, "token"),
    (outbox, "outbox"),
    (terms, "terms"),
):
    app.add_typer(sub, name=name)
people.register(app)
sso_commands.register(app, workspace)
oidc_commands.register(app)
bulk.register(app)
demo.register(app)
codes.register(app)
group_commands.register(app)
signup_commands.register(app)
scim_commands.register(app)
webhook_commands.register(app)
org_commands.register(org)
seller_commands.register(org)
org_invitation_commands.register(org)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Worker processes (use PostgreSQL for more than one)."),
) -> None:
    """Serve the REST API (and pages) with uvicorn."""
    import uvicorn

    settings()
    if workers > 1:
        metrics_directory(os.environ)
    uvicorn.run(
        "admit.entrypoints.web.main:create",  # an import string: each worker process builds its own app
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=None,
        proxy_headers=False,
        timeout_graceful_shutdown=30,  # on SIGTERM: finish requests in progress, then release leases
    )


def metrics_directory(environ: MutableMapping[str, str]) -> str:
    """Prometheus' multi-process mode for ``serve --workers N``: the worker processes write their
    counters to files in PROMETHEUS_MULTIPROC_DIR (a new temporary folder unless set) and a scrape of
    any of them adds every process's up. Files a previous run left there are removed first."""
    directory = environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="admit-metrics-")
    environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    for stale in Path(directory).glob("*.db"):
        stale.unlink()
    return directory


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version."""
    migrate.upgrade(settings().database_url)
    common.console.print(f"Database at revision {migrate.current(settings().database_url)}")


@org.command("create")
@friendly
def org_create(
    name: str,
    plan: str = typer.Option("free", help="free, pro, business or enterprise."),
    seats: int = typer.Option(10, help="Licences."),
    parent: str = typer.Option(None, help="Parent (reseller) organization id."),
) -> None:
    """Create an organization."""
    row = tenancy.create_organization(context(), OPERATOR, name, plan=plan, seats=seats, parent_id=parent)
    show_record("Organization created", dict(row._mapping), ("id", "name", "plan", "seats", "parent_id"))


@org.command("list")
@friendly
def org_list() -> None:
    """List organizations."""
    rows = [dict(r._mapping) for r in tenancy.list_organizations(context(), OPERATOR)]
    show_table(("id", "name", "plan", "seats", "parent_id"), rows, empty="No organizations yet.")


@workspace.command("create")
@friendly
def workspace_create(
    organization_id: str,
    name: str,
    lifetime_days: int = typer.Option(DEFAULTS.invitation_lifetime_days, help="Invitation lifetime in days (1-30)."),
    password_policy: str = typer.Option(DEFAULTS.password_policy, help="'length' (15+ characters) or 'composition'."),
    app_url: str = typer.Option(None, help="Where people land after joining."),
    language: str = typer.Option(DEFAULTS.default_language, help="Default language: en, de or fr."),
    email: bool = typer.Option(DEFAULTS.email_enabled, "--email/--no-email", help="Send messages by email."),
    sms: bool = typer.Option(DEFAULTS.sms_enabled, "--sms/--no-sms", help="Send messages by SMS too."),
    auto_invite: bool = typer.Option(
        DEFAULTS.auto_invite, "--auto-invite/--no-auto-invite", help="Invite members created by integrations at once."
    ),
    sms_daily_cap: int = typer.Option(DEFAULTS.sms_daily_cap, help="SMS the workspace may send per day."),
    scim_identifier_changes: str = typer.Option(
        DEFAULTS.scim_identifier_changes,
        help="A new email, username or phone from SCIM for a claimed account: 'verify' (the person confirms it)"
        " or 'trust' (it signs in at once).",
    ),
) -> None:
    """Create a workspace in an organization."""
    options = WorkspaceSettings(
        invitation_lifetime_days=lifetime_days,
        password_policy=password_policy,
        app_url=app_url,
        default_language=language,
        email_enabled=email,
        sms_enabled=sms,
        auto_invite=auto_invite,
        sms_daily_cap=sms_daily_cap,
        scim_identifier_changes=scim_identifier_changes,
    )
    row = tenancy.create_workspace(context(), OPERATOR, organization_id, name, options)
    show_record(
        "Workspace created",
        dict(row._mapping),
        ("id", "organization_id", "name", "invitation_lifetime_days", "password_policy"),
    )


@workspace.command("update")
@friendly
def workspace_update(
    workspace_id: str,
    name: str = typer.Option(None),
    lifetime_days: int = typer.Option(None, help="Invitation lifetime in days (1-30)."),
    password_policy: str = typer.Option(None, help="'length' or 'composition'."),
    app_url: str = typer.Option(None),
    language: str = typer.Option(None, help="Default language: en, de or fr."),
    email: bool = typer.Option(None, "--email/--no-email", help="Send messages by email."),
    sms: bool = typer.Option(None, "--sms/--no-sms", help="Send messages by SMS too."),
    auto_invite: bool = typer.Option(None, "--auto-invite/--no-auto-invite"),
    sms_daily_cap: int = typer.Option(None),
    reminder_days: str = typer.Option(
        None, help="Remind invitees this many days before their invitation expires, or 'off'."
    ),
    code_lifetime_days: int = typer.Option(None, help="Access code lifetime in days (1-90)."),
    scim_identifier_changes: str = typer.Option(
        None,
        help="A new email, username or phone from SCIM for a claimed account: 'verify' (the person confirms it)"
        " or 'trust' (it signs in at once).",
    ),
) -> None:
    """Change a workspace's name or settings (only the options given)."""
    given = {
        "name": name,
        "invitation_lifetime_days": lifetime_days,
        "password_policy": password_policy,
        "app_url": app_url,
        "default_language": language,
        "email_enabled": email,
        "sms_enabled": sms,
        "auto_invite": auto_invite,
        "sms_daily_cap": sms_daily_cap,
        "access_code_lifetime_days": code_lifetime_days,
        "scim_identifier_changes": scim_identifier_changes,
    }
    changes = {k: v for k, v in given.items() if v is not None}
    if reminder_days is not None:  # "off" is no reminder; anything but a whole number is refused there
        text = reminder_days.strip()
        changes["reminder_days"] = (
            None if text.lower() == "off" else int(text) if re.fullmatch(r"[0-9]{1,12}", text) else text
        )
    row = tenancy.update_workspace(context(), OPERATOR, workspace_id, changes)
    show_record(
        "Workspace updated",
        {**row._mapping, "reminder_days": "off" if row.reminder_days is None else row.reminder_days},
        (
            "id",
            "name",
            "invitation_lifetime_days",
            "reminder_days",
            "access_code_lifetime_days",
            "password_policy",
            "email_enabled",
            "sms_enabled",
            "auto_invite",
            "sms_daily_cap",
            "scim_identifier_changes",
        ),
    )


@workspace.command("list")
@friendly
def workspace_list(organization_id: str) -> None:
    """List the workspaces of an organization."""
    rows = [dict(r._mapping) for r in tenancy.list_workspaces(context(), OPERATOR, organization_id)]
    show_table(("id", "name", "invitation_lifetime_days", "password_policy"), rows, empty="No workspaces.")


@token.command("create")
@friendly
def token_create(
    organization_id: str = typer.Argument(None, help="Organization; omit with --instance."),
    name: str = typer.Option("api", help="What the token is for."),
    role: str = typer.Option("admin", help="Role it acts with: owner, admin, member or guest."),
    workspace_id: str = typer.Option(None, "--workspace", help="Limit the token to one workspace."),
    instance: bool = typer.Option(False, help="An instance-wide operator token (all organizations)."),
) -> None:
    """Create an API token; it is shown once."""
    if (organization_id is None) != instance:
        common.errors.print("[red]Error[/red]: give an ORGANIZATION_ID, or --instance for an operator token")
        raise typer.Exit(2)
    secret, row = sessions.create_api_token(
        context(), OPERATOR, name=name, role=role, organization_id=organization_id, workspace_id=workspace_id
    )
    show_record(
        "API token created (shown once; store it now)",
        {**row, "token": secret},
        ("id", "name", "role", "organization_id", "workspace_id", "token"),
    )


@outbox.command("list")
@friendly
def outbox_list(
    state: str = typer.Option(None, help="queued, sending, sent, failed or abandoned."),
    limit: int = typer.Option(50, help="How many, newest first."),
    reveal: bool = typer.Option(False, help="Show links with their tokens (dev mode only)."),
) -> None:
    """List outbox messages, newest first."""
    if reveal and not settings().dev_mode:
        common.errors.print("[red]Error[/red]: --reveal is only available in dev mode (ADMIT_DEV_MODE=true)")
        raise typer.Exit(2)
    rows = outbox_service.list_messages(context(), OPERATOR, state=state, limit=limit, reveal=reveal)
    columns = ("id", "created_at", "kind", "channel", "recipient", "state", "attempts", "last_error", "link")
    show_table(columns, rows, empty="The outbox is empty.")


@outbox.command("retry")
@friendly
def outbox_retry(
    message_id: int = typer.Argument(None, help="The message to queue again."),
    all_abandoned: bool = typer.Option(False, "--all-abandoned", help="Queue every abandoned message again."),
) -> None:
    """Queue a failed or abandoned message again (fresh attempt count)."""
    if all_abandoned:
        common.console.print(f"Queued {outbox_service.retry_abandoned(context(), OPERATOR)} message(s) again.")
        return
    if message_id is None:
        common.errors.print("[red]Error[/red]: give a MESSAGE_ID or --all-abandoned")
        raise typer.Exit(2)
    row = outbox_service.retry(context(), OPERATOR, message_id)
    show_record("Message queued again", row, ("id", "kind", "recipient", "state", "last_error"))


@terms.command("publish")
@friendly
def terms_publish(
    workspace_id: str,
    document: Path = typer.Argument(..., exists=True, dir_okay=False, help="A PDF or UTF-8 text file."),
    notify: bool = typer.Option(False, help="Email every active member that the terms changed."),
) -> None:
    """Publish a new version; members accept it before they next enter the workspace."""
    published = terms_service.publish(
        context(), OPERATOR, workspace_id, filename=document.name, document=document.read_bytes(), notify=notify
    )
    show_record(
        f"Terms of service version {published.version} published",
        published,
        ("workspace_id", "version", "filename", "content_type", "sha256", "members_notified"),
    )


@terms.command("list")
@friendly
def terms_list(workspace_id: str) -> None:
    """Every version, newest first, with how many accounts accepted it."""
    rows = terms_service.versions(context(), OPERATOR, workspace_id)
    show_table(
        ("version", "filename", "content_type", "published_at", "acceptances"),
        rows,
        empty="This workspace has no terms of service.",
    )


@app.command()
def worker(once: bool = typer.Option(False, help="Deliver what is due now, then exit.")) -> None:
    """Deliver the outbox (email, SMS) and webhooks, run background jobs (imports, bulk invitations) and the
    periodic work (expiry, reminders, clean-ups: once across all processes) until stopped; run as
    many as you like on PostgreSQL."""
    from admit.adapters.delivery.transports import transports_for
    from admit.entrypoints.workers import webhook_worker
    from admit.entrypoints.workers.outbox_worker import MISSING_TRANSPORT, DeliveryPolicy, OutboxWorker
    from admit.oidc_provider import backchannel

    hooks = webhook_worker.for_settings(context(), settings())
    transports = transports_for(settings(), backchannel.signer(context()))
    runner = OutboxWorker(context(), transports, DeliveryPolicy.from_settings(settings()))
    for channel in runner.missing:  # jobs and the other channel still run; these messages wait
        common.errors.print(f"[yellow]Warning[/yellow]: {MISSING_TRANSPORT[channel]}")
    if once:
        total = 0
        while batch := runner.run_once():
            total += batch
        finished = 0
        while jobs_service.run_next(context(), lease=timedelta(seconds=settings().job_lease_seconds)):
            finished += 1
        sent = 0
        while batch := hooks.run_once():
            sent += batch
        hooks.sender.close()
        periodic = Periodic(context(), settings().expiry_sweep_seconds)
        ran = periodic.run_due()  # what another process ran this period is left alone
        common.console.print(f"Processed {total} message(s) and {finished} job(s).")
        common.console.print(f"Delivered {sent} webhook message(s).")
        common.console.print(f"Ran {len(ran)} periodic task(s) (those no other process ran this period).")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    job_runner = threading.Thread(
        target=jobs_worker.run_forever,
        args=(context(), stop),
        kwargs={"lease": timedelta(seconds=settings().job_lease_seconds)},
        name="job-runner",
    )
    job_runner.start()
    hook_runner = threading.Thread(target=hooks.run_forever, args=(stop,), name="webhook-worker")
    hook_runner.start()
    periodic = Periodic(context(), settings().expiry_sweep_seconds)  # once across every process (leases)
    sweeper = threading.Thread(target=periodic.run_forever, args=(stop,), name="periodic")
    sweeper.start()
    sending = f"Delivering {', '.join(sorted(transports))} messages and running" if transports else "Running"
    common.console.print(f"{sending} jobs; Ctrl-C to stop.")
    runner.run_forever(stop)
    job_runner.join()
    hook_runner.join()
    sweeper.join()
