"""Webhook endpoints: where an organization's events are POSTed, signed (Standard Webhooks).

An endpoint belongs to an organization and either one of its workspaces (it gets that workspace's
events and the organization's own) or, with no workspace, every workspace. It has a URL (https;
http only to this machine's loopback in dev mode; outside dev mode never an address on this machine
or a private network: checked here and again, pinned, at every send), the event types it wants
(``None``: all of the catalogue, ``domain.webhooks.CATALOGUE``), a signing secret ``whsec_…``
shown once (stored sealed with the instance key) and whether it is enabled.

Who manages endpoints follows the SCIM tokens' rule (:mod:`admit.admin.scim_tokens`):

- an endpoint for one workspace: whoever holds the manage settings permission in that workspace
  (an administrator in the console, an API token of the organization or of that workspace, an
  operator);
- an endpoint for every workspace: only an organization-level actor (an operator, or an API token
  of the organization not limited to one workspace, with manage settings). A person acts from one
  workspace, and an organization-wide endpoint carries every workspace's events, so not even a
  workspace's owner manages one in the console: it is listed there read-only.

Rotating a secret keeps the previous one signing for ``ROTATION_OVERLAP`` (24 hours): during it
each delivery carries two signatures. Operations: the delivery log (messages and attempts), a
test event, replaying one message (same ``webhook-id``, fresh attempts) and redelivering every
message since a time. Every change is in the audit log.
"""

from __future__ import annotations

import base64
import unicodedata
from datetime import UTC, datetime
from typing import Any

import httpx

from admit.adapters.delivery import outbound
from admit.adapters.identity import sealing
from admit.domain import webhooks as catalogue
from admit.domain.errors import NotFound, PermissionDenied, ValidationFailed
from admit.domain.events import EventType
from admit.domain.ports import UnitOfWork
from admit.domain.records import Record
from admit.domain.roles import Permission, require
from admit.shared import hosts
from admit.shared.access import organization_scope, workspace_for
from admit.shared.context import Actor, ActorKind, Context, record
from admit.shared.webhook_events import emit

MAX_URL = 2000
SUBSCRIBABLE = tuple(t for t in catalogue.CATALOGUE if t != "webhook.test")
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def view(row: Record) -> dict[str, Any]:
    """An endpoint as every door shows it: never its secrets."""
    values = {k: v for k, v in row._mapping.items() if k not in ("secret", "previous_secret")}
    values["event_types"] = list(row.event_types) if row.event_types is not None else None
    return values


def new_secret(ctx: Context) -> str:
    return "whsec_" + base64.b64encode(ctx.random.token(24).encode()).decode()


def check_url(ctx: Context, url: Any) -> str:
    """An https URL (http only on loopback, in dev mode) whose host is a public address outside dev mode."""
    if not isinstance(url, str) or not url.strip() or len(url) > MAX_URL or any(
        unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in url
    ):  # fmt: skip
        raise ValidationFailed(f"a URL of at most {MAX_URL} characters on one line is required", field="url")
    text: str = url.strip()
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise ValidationFailed("the URL is not valid", field="url") from None
    if parsed.userinfo or parsed.fragment:
        raise ValidationFailed("the URL may not carry a user name, password or #fragment", field="url")
    if any(ch.isspace() for ch in text) or not hosts.is_host(parsed.host):
        raise ValidationFailed("the URL's host is not a host name or IP address (a space, * or _ in it?)", field="url")
    loopback = parsed.host in LOOPBACK_HOSTS
    if not parsed.host or not (parsed.scheme == "https" or (parsed.scheme == "http" and loopback and ctx.dev_mode)):
        raise ValidationFailed(
            "the URL must be https:// (http:// only on this machine's loopback in dev mode)", field="url"
        )
    try:
        outbound.checked(text, allow_private=ctx.dev_mode)
    except outbound.TargetRefused as refused:
        if refused.permanent:  # a name that does not resolve (yet) is checked again at every send
            raise ValidationFailed(f"this address is refused: {refused.reason}", field="url") from None
    return text


def check_event_types(value: Any) -> list[str] | None:
    """``None`` (every type) or a list of catalogue names, each once."""
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not value or len(value) > len(SUBSCRIBABLE):
        raise ValidationFailed("event types: null for all, or a list of catalogue names", field="event_types")
    names = []
    for name in value:
        if not isinstance(name, str) or name not in SUBSCRIBABLE:
            shown = name[:60] if isinstance(name, str) else type(name).__name__
            raise ValidationFailed(
                f"unknown event type {shown!r}; known: {', '.join(SUBSCRIBABLE)}", field="event_types"
            )
        if name not in names:
            names.append(name)
    return names


def organization_level(actor: Actor) -> bool:
    return actor.kind is not ActorKind.ACCOUNT and actor.workspace_id is None


def _acting_from(actor: Actor, workspace_id: str | None) -> str | None:
    return workspace_id if workspace_id is not None else actor.workspace_id


def _check(uow: UnitOfWork, actor: Actor, organization_id: str, workspace_id: str | None) -> None:
    """May ``actor`` manage the endpoints of ``workspace_id`` (None: the whole organization)?"""
    if workspace_id is None:
        if actor.kind is ActorKind.ACCOUNT:
            raise PermissionDenied("endpoints for every workspace are managed by the organization (its API token)")
        organization_scope(actor, organization_id)
        assert actor.role is not None
        require(actor.role, Permission.MANAGE_SETTINGS)
        if uow.organizations.get(organization_id) is None:
            raise NotFound("organization not found")
        return
    if not isinstance(workspace_id, str) or len(workspace_id) > 32 or "\x00" in workspace_id:
        raise NotFound("workspace not found", field="workspace_id")
    workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_SETTINGS)
    if workspace.organization_id != organization_id:
        raise NotFound("workspace not found", field="workspace_id")


def endpoint_of(
    uow: UnitOfWork, actor: Actor, organization_id: str, endpoint_id: Any, workspace_id: str | None
) -> Record:
    """The endpoint the actor may see (from ``workspace_id``), else ``NotFound``."""
    scope = _acting_from(actor, workspace_id)
    _check(uow, actor, organization_id, scope)
    row = uow.webhooks.endpoint(organization_id, endpoint_id) if isinstance(endpoint_id, str) else None
    if row is None or (scope is not None and row.workspace_id not in (scope, None)):
        raise NotFound("webhook endpoint not found")
    return row


def _managed(uow: UnitOfWork, actor: Actor, organization_id: str, endpoint_id: Any, workspace_id: str | None) -> Record:
    row = endpoint_of(uow, actor, organization_id, endpoint_id, workspace_id)
    if row.workspace_id is None and not organization_level(actor):
        raise PermissionDenied("an endpoint for every workspace is managed by the organization (its API token)")
    return row


def _shown(row: Record, actor: Actor) -> dict[str, Any]:
    return {**view(row), "manageable": row.workspace_id is not None or organization_level(actor)}


def create(
    ctx: Context,
    actor: Actor,
    organization_id: str,
    *,
    url: str,
    event_types: list[str] | None = None,
    workspace_id: str | None = None,
) -> tuple[dict[str, Any], str]:
    """A new enabled endpoint and its signing secret, shown this once."""
    workspace_id = _acting_from(actor, workspace_id)
    with ctx.uow() as uow:
        _check(uow, actor, organization_id, workspace_id)
    clean_url = check_url(ctx, url)
    types = check_event_types(event_types)
    secret = new_secret(ctx)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        _check(uow, actor, organization_id, workspace_id)
        endpoint_id = uow.webhooks.add_endpoint(
            organization_id=organization_id,
            workspace_id=workspace_id,
            url=clean_url,
            event_types=types,
            secret=sealing.seal(ctx.secret_key, secret, sealing.WEBHOOK),
            enabled=True,
            created_at=now,
            created_by=actor.id,
        )
        record(
            uow, actor, EventType.WEBHOOK_CREATED, "webhook", endpoint_id, now,
            organization_id=organization_id, workspace_id=workspace_id, url=clean_url, event_types=types,
        )  # fmt: skip
        row = uow.webhooks.endpoint(organization_id, endpoint_id)
        assert row is not None
        uow.commit()
    return _shown(row, actor), secret


def list_endpoints(
    ctx: Context, actor: Actor, organization_id: str, *, workspace_id: str | None = None
) -> list[dict[str, Any]]:
    """The endpoints the actor may see, newest first, each saying whether it may manage it."""
    scope = _acting_from(actor, workspace_id)
    with ctx.uow() as uow:
        _check(uow, actor, organization_id, scope)
        rows = uow.webhooks.endpoints(organization_id, scope)
    return [_shown(r, actor) for r in rows]


def get(
    ctx: Context, actor: Actor, organization_id: str, endpoint_id: str, *, workspace_id: str | None = None
) -> dict[str, Any]:
    with ctx.uow() as uow:
        return _shown(endpoint_of(uow, actor, organization_id, endpoint_id, workspace_id), actor)


def rotate(
    ctx: Context, actor: Actor, organization_id: str, endpoint_id: str, *, workspace_id: str | None = None
) -> tuple[dict[str, Any], str]:
    """A new signing secret, shown this once; the current one keeps signing for 24 hours."""
    secret = new_secret(ctx)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = _managed(uow, actor, organization_id, endpoint_id, workspace_id)
        uow.webhooks.update_endpoint(
            organization_id, row.id,
            secret=sealing.seal(ctx.secret_key, secret, sealing.WEBHOOK),
            previous_secret=row.secret, previous_until=now + catalogue.ROTATION_OVERLAP,
        )  # fmt: skip
        record(
            uow, actor, EventType.WEBHOOK_SECRET_ROTATED, "webhook", row.id, now,
            organization_id=organization_id, workspace_id=row.workspace_id,
        )  # fmt: skip
        updated = uow.webhooks.endpoint(organization_id, row.id)
        assert updated is not None
        uow.commit()
    return _shown(updated, actor), secret


def set_enabled(
    ctx: Context,
    actor: Actor,
    organization_id: str,
    endpoint_id: str,
    enabled: bool,
    *,
    workspace_id: str | None = None,
) -> dict[str, Any]:
    """Enable or disable the endpoint (enabling forgets its failing period); the same state again changes nothing."""
    if not isinstance(enabled, bool):
        raise ValidationFailed("enabled is true or false", field="enabled")
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = _managed(uow, actor, organization_id, endpoint_id, workspace_id)
        if row.enabled != enabled:
            uow.webhooks.update_endpoint(
                organization_id, row.id, enabled=enabled, failing_since=None,
                disabled_reason=None if enabled else "disabled by an administrator",
            )  # fmt: skip
            record(
                uow, actor, EventType.WEBHOOK_ENABLED if enabled else EventType.WEBHOOK_DISABLED, "webhook", row.id,
                now, organization_id=organization_id, workspace_id=row.workspace_id,
            )  # fmt: skip
        updated = uow.webhooks.endpoint(organization_id, row.id)
        assert updated is not None
        uow.commit()
    return _shown(updated, actor)


def send_test(
    ctx: Context, actor: Actor, organization_id: str, endpoint_id: str, *, workspace_id: str | None = None
) -> str:
    """Queue a ``webhook.test`` event for this endpoint only; its ``webhook-id``."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = _managed(uow, actor, organization_id, endpoint_id, workspace_id)
        event_id = emit(uow, "webhook.test", organization_id, row.workspace_id, {"webhook_id": row.id}, now, [row.id])
        record(
            uow, actor, EventType.WEBHOOK_TEST_SENT, "webhook", row.id, now,
            organization_id=organization_id, workspace_id=row.workspace_id, event_id=event_id,
        )  # fmt: skip
        uow.commit()
    return event_id


def deliveries(
    ctx: Context,
    actor: Actor,
    organization_id: str,
    endpoint_id: str,
    *,
    workspace_id: str | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """The endpoint's latest messages and attempts (status, latency, the answer's first 4 KiB)."""
    limit = max(1, min(int(limit), 500)) if isinstance(limit, int) else 100
    with ctx.uow() as uow:
        row = endpoint_of(uow, actor, organization_id, endpoint_id, workspace_id)
        messages = [dict(m._mapping) for m in uow.webhooks.messages(organization_id, row.id, limit)]
        attempts = [dict(a._mapping) for a in uow.webhooks.attempts(organization_id, row.id, limit)]
    return {"messages": messages, "attempts": attempts}


def replay(
    ctx: Context,
    actor: Actor,
    organization_id: str,
    endpoint_id: str,
    message_id: Any,
    *,
    workspace_id: str | None = None,
) -> int:
    """Send one message again (the same ``webhook-id`` and body, a fresh set of attempts)."""
    if isinstance(message_id, bool) or not isinstance(message_id, int) or not 0 < message_id < 2**62:
        raise NotFound("message not found", field="message_id")
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = _managed(uow, actor, organization_id, endpoint_id, workspace_id)
        message = uow.webhooks.message(organization_id, message_id)
        if message is None or message.endpoint_id != row.id:
            raise NotFound("message not found", field="message_id")
        count = uow.webhooks.requeue(organization_id, row.id, now, message_id=message_id)
        record(
            uow, actor, EventType.WEBHOOK_REDELIVERED, "webhook", row.id, now,
            organization_id=organization_id, workspace_id=row.workspace_id, message_id=message_id, count=count,
        )  # fmt: skip
        uow.commit()
    return count


def redeliver_since(
    ctx: Context,
    actor: Actor,
    organization_id: str,
    endpoint_id: str,
    since: Any,
    *,
    workspace_id: str | None = None,
) -> int:
    """Send every message of the endpoint created at or after ``since`` again; how many."""
    if isinstance(since, str):
        try:
            since = datetime.fromisoformat(since.strip())
        except ValueError:
            raise ValidationFailed("since is a date and time (ISO 8601)", field="since") from None
    if not isinstance(since, datetime):
        raise ValidationFailed("since is a date and time (ISO 8601)", field="since")
    since = since if since.tzinfo else since.replace(tzinfo=UTC)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = _managed(uow, actor, organization_id, endpoint_id, workspace_id)
        count = uow.webhooks.requeue(organization_id, row.id, now, since=since)
        record(
            uow, actor, EventType.WEBHOOK_REDELIVERED, "webhook", row.id, now,
            organization_id=organization_id, workspace_id=row.workspace_id, since=since.isoformat(), count=count,
        )  # fmt: skip
        uow.commit()
    return count
