"""An organization's webhook endpoints (``admin.webhooks``): where its events are POSTed, signed
per the Standard Webhooks specification. A signing secret (``whsec_…``) is in the answer to the
creation and to a rotation only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel, Field, StringConstraints

from admit.admin import webhooks
from admit.domain.webhooks import CATALOGUE
from admit.entrypoints.web.api import schemas as s
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.api.schemas import In
from admit.entrypoints.web.deps import Bearer, Ctx, as_caller

router = api_router(tags=["Webhooks"])
PATH = "/organizations/{organization_id}/webhooks"
ONE = f"{PATH}/{{webhook_id}}"
Workspace = Annotated[str | None, Query(max_length=32, description="Act from this workspace (a person must).")]
EventName = Literal[tuple(t for t in CATALOGUE if t != "webhook.test")]  # type: ignore[valid-type]


class WebhookIn(In):
    url: str = Field(
        min_length=1, max_length=2000, description="https:// (http:// only on loopback in dev mode); a public address."
    )
    event_types: list[EventName] | None = Field(  # type: ignore[valid-type]
        None, min_length=1, max_length=len(CATALOGUE), description="The types it wants; none: every type."
    )
    workspace_id: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = Field(
        None, description="Only this workspace's events; none: every workspace (an organization-level API token only)."
    )


class WebhookOut(s.Out):
    id: str
    organization_id: str
    workspace_id: str | None
    url: str
    event_types: list[str] | None
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    previous_until: datetime | None = Field(description="Until when the previous secret also signs.")
    created_at: datetime
    created_by: str | None
    manageable: bool = Field(description="Whether the caller may change it.")


class WebhookWithSecret(WebhookOut):
    secret: str = Field(description="The signing secret (whsec_…), shown this once.")


class RedeliverIn(In):
    since: Annotated[str, StringConstraints(min_length=1, max_length=40)] = Field(
        description="An ISO 8601 date and time (UTC unless it says otherwise): every message of the endpoint "
        "created at or after it is sent again."
    )


class Queued(BaseModel):
    count: int


class TestSent(BaseModel):
    webhook_id: str = Field(description="The test event's webhook-id.")


class MessageOut(s.Out):
    id: int
    event_id: str = Field(description="The webhook-id.")
    type: str
    sequence: int
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime


class AttemptOut(s.Out):
    id: int
    message_id: int
    event_id: str
    type: str
    attempt: int
    status: int | None
    latency_ms: int
    response: str | None = Field(description="At most the first 4 KiB of the answer.")
    error: str | None
    created_at: datetime


class Deliveries(BaseModel):
    messages: list[MessageOut]
    attempts: list[AttemptOut]


@router.get(PATH, response_model=list[WebhookOut])
async def list_webhooks(organization_id: str, ctx: Ctx, token: Bearer, workspace_id: Workspace = None) -> Any:
    """The endpoints, newest first (never their secrets). From a workspace: its endpoints and the
    organization-wide ones."""
    return await as_caller(
        ctx, token, lambda actor: webhooks.list_endpoints(ctx, actor, organization_id, workspace_id=workspace_id),
        quick=True,
    )  # fmt: skip


@router.post(PATH, status_code=201, response_model=WebhookWithSecret)
async def create_webhook(organization_id: str, body: WebhookIn, ctx: Ctx, token: Bearer) -> Any:
    """An enabled endpoint; its signing `secret` is in this answer only."""
    created, secret = await as_caller(
        ctx,
        token,
        lambda actor: webhooks.create(
            ctx, actor, organization_id, url=body.url, event_types=body.event_types, workspace_id=body.workspace_id
        ),
    )
    return {**created, "secret": secret}


@router.get(ONE, response_model=WebhookOut)
async def get_webhook(
    organization_id: str, webhook_id: str, ctx: Ctx, token: Bearer, workspace_id: Workspace = None
) -> Any:
    return await as_caller(
        ctx, token, lambda actor: webhooks.get(ctx, actor, organization_id, webhook_id, workspace_id=workspace_id),
        quick=True,
    )  # fmt: skip


@router.post(f"{ONE}/rotate", response_model=WebhookWithSecret)
async def rotate_webhook_secret(
    organization_id: str, webhook_id: str, ctx: Ctx, token: Bearer, workspace_id: Workspace = None
) -> Any:
    """A new signing secret (in this answer only); the previous one also signs for 24 hours."""
    rotated, secret = await as_caller(
        ctx, token, lambda actor: webhooks.rotate(ctx, actor, organization_id, webhook_id, workspace_id=workspace_id),
        quick=True,
    )  # fmt: skip
    return {**rotated, "secret": secret}


@router.post(f"{ONE}/enable", response_model=WebhookOut)
async def enable_webhook(
    organization_id: str, webhook_id: str, ctx: Ctx, token: Bearer, workspace_id: Workspace = None
) -> Any:
    return await as_caller(
        ctx, token,
        lambda actor: webhooks.set_enabled(ctx, actor, organization_id, webhook_id, True, workspace_id=workspace_id),
        quick=True,
    )  # fmt: skip


@router.post(f"{ONE}/disable", response_model=WebhookOut)
async def disable_webhook(
    organization_id: str, webhook_id: str, ctx: Ctx, token: Bearer, workspace_id: Workspace = None
) -> Any:
    """No more deliveries until it is enabled again (its messages wait)."""
    return await as_caller(
        ctx, token,
        lambda actor: webhooks.set_enabled(ctx, actor, organization_id, webhook_id, False, workspace_id=workspace_id),
        quick=True,
    )  # fmt: skip


@router.post(f"{ONE}/test", status_code=202, response_model=TestSent)
async def send_test_event(
    organization_id: str, webhook_id: str, ctx: Ctx, token: Bearer, workspace_id: Workspace = None
) -> Any:
    """Queue a `webhook.test` event for this endpoint only."""
    event_id = await as_caller(
        ctx, token,
        lambda actor: webhooks.send_test(ctx, actor, organization_id, webhook_id, workspace_id=workspace_id),
        quick=True,
    )  # fmt: skip
    return {"webhook_id": event_id}


@router.get(f"{ONE}/deliveries", response_model=Deliveries)
async def webhook_deliveries(
    organization_id: str,
    webhook_id: str,
    ctx: Ctx,
    token: Bearer,
    workspace_id: Workspace = None,
    limit: int = Query(100, ge=1, le=500),
) -> Any:
    """The delivery log: the latest messages and attempts (status, latency, the answer's first 4 KiB)."""
    return await as_caller(
        ctx, token,
        lambda actor: webhooks.deliveries(
            ctx, actor, organization_id, webhook_id, workspace_id=workspace_id, limit=limit
        ),
        quick=True,
    )  # fmt: skip


@router.post(f"{ONE}/messages/{{webhook_message_id}}/replay", status_code=202, response_model=Queued)
async def replay_webhook_message(
    organization_id: str,
    webhook_id: str,
    webhook_message_id: Annotated[int, Path(ge=1, le=s.MAX_ID)],
    ctx: Ctx,
    token: Bearer,
    workspace_id: Workspace = None,
) -> Any:
    """Send one message again: the same `webhook-id` and body, a fresh set of attempts."""
    count = await as_caller(
        ctx, token,
        lambda actor: webhooks.replay(
            ctx, actor, organization_id, webhook_id, webhook_message_id, workspace_id=workspace_id
        ),
        quick=True,
    )  # fmt: skip
    return {"count": count}


@router.post(f"{ONE}/redeliver", status_code=202, response_model=Queued)
async def redeliver_webhook_messages(
    organization_id: str, webhook_id: str, body: RedeliverIn, ctx: Ctx, token: Bearer, workspace_id: Workspace = None
) -> Any:
    """Send every message of the endpoint created since `since` again."""
    count = await as_caller(
        ctx, token,
        lambda actor: webhooks.redeliver_since(
            ctx, actor, organization_id, webhook_id, body.since, workspace_id=workspace_id
        ),
        quick=True,
    )  # fmt: skip
    return {"count": count}
