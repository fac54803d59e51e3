"""Commands for webhook endpoints (``admin.webhooks``): where an organization's events are POSTed,
signed per the Standard Webhooks specification."""

from __future__ import annotations

import typer

from admit.admin import webhooks
from admit.entrypoints.cli.common import OPERATOR, console, context, friendly, show_record, show_table

hooks = typer.Typer(help="Webhook endpoints: signed events for an organization.", no_args_is_help=True)
FIELDS = ("id", "url", "workspace_id", "event_types", "enabled", "disabled_reason", "failing_since", "created_at")
MESSAGE_FIELDS = ("id", "event_id", "type", "sequence", "state", "attempts", "next_attempt_at", "last_error")
ATTEMPT_FIELDS = ("message_id", "event_id", "type", "attempt", "status", "latency_ms", "error", "created_at")


def register(app: typer.Typer) -> None:
    app.add_typer(hooks, name="webhook")


@hooks.command("add")
@friendly
def add(
    organization_id: str,
    url: str,
    workspace: str = typer.Option(None, help="Only this workspace's events; default every workspace."),
    event: list[str] = typer.Option(None, help="An event type it wants (repeat); default every type."),
) -> None:
    """Add an endpoint; its signing secret is printed this once."""
    created, secret = webhooks.create(
        context(),
        OPERATOR,
        organization_id,
        url=url,
        event_types=list(event) if event else None,
        workspace_id=workspace,
    )
    show_record("Webhook endpoint added", created, FIELDS)
    console.print(f"secret: {secret}  (shown once: give it to the receiver now)")


@hooks.command("list")
@friendly
def list_(organization_id: str) -> None:
    """The organization's endpoints (never their secrets)."""
    show_table(FIELDS, webhooks.list_endpoints(context(), OPERATOR, organization_id), empty="No webhook endpoints.")


@hooks.command("rotate")
@friendly
def rotate(organization_id: str, webhook_id: str) -> None:
    """A new signing secret (printed once); the previous one also signs for 24 hours."""
    rotated, secret = webhooks.rotate(context(), OPERATOR, organization_id, webhook_id)
    console.print(f"secret: {secret}  (shown once; the previous one signs too until {rotated['previous_until']})")


@hooks.command("disable")
@friendly
def disable(organization_id: str, webhook_id: str) -> None:
    """Stop deliveries to the endpoint (its messages wait)."""
    webhooks.set_enabled(context(), OPERATOR, organization_id, webhook_id, False)
    console.print(f"Webhook endpoint {webhook_id} is disabled.")


@hooks.command("enable")
@friendly
def enable(organization_id: str, webhook_id: str) -> None:
    """Deliver to the endpoint again."""
    webhooks.set_enabled(context(), OPERATOR, organization_id, webhook_id, True)
    console.print(f"Webhook endpoint {webhook_id} is enabled.")


@hooks.command("test")
@friendly
def test(organization_id: str, webhook_id: str) -> None:
    """Queue a webhook.test event for this endpoint (the worker sends it)."""
    event_id = webhooks.send_test(context(), OPERATOR, organization_id, webhook_id)
    console.print(f"Test event {event_id} queued.")


@hooks.command("deliveries")
@friendly
def deliveries(organization_id: str, webhook_id: str, limit: int = typer.Option(50, min=1, max=500)) -> None:
    """The delivery log: the latest messages and attempts."""
    log = webhooks.deliveries(context(), OPERATOR, organization_id, webhook_id, limit=limit)
    show_table(MESSAGE_FIELDS, log["messages"], empty="No messages.")
    show_table(ATTEMPT_FIELDS, log["attempts"], empty="No attempts.")


@hooks.command("replay")
@friendly
def replay(organization_id: str, webhook_id: str, message_id: int) -> None:
    """Send one message again (same webhook-id, fresh attempts)."""
    webhooks.replay(context(), OPERATOR, organization_id, webhook_id, message_id)
    console.print(f"Message {message_id} queued again.")


@hooks.command("redeliver")
@friendly
def redeliver(
    organization_id: str, webhook_id: str, since: str = typer.Option(..., help="ISO 8601 date and time.")
) -> None:
    """Send every message of the endpoint created since a time again."""
    count = webhooks.redeliver_since(context(), OPERATOR, organization_id, webhook_id, since)
    console.print(f"{count} message(s) queued again.")
