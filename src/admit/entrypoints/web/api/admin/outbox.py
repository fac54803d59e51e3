"""Delivery, as administrators see it: messages by state, retry."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel

from admit.admin import outbox
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.api.schemas import MAX_ID
from admit.entrypoints.web.deps import Bearer, Ctx, as_caller

router = api_router(tags=["delivery"])


class MessageOut(BaseModel):
    id: int
    workspace_id: str | None
    kind: str
    channel: str
    recipient: str
    language: str
    state: Literal["queued", "sending", "sent", "failed", "abandoned"]
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime


@router.get("/workspaces/{workspace_id}/messages", response_model=list[MessageOut])
async def list_messages(
    workspace_id: str,
    ctx: Ctx,
    token: Bearer,
    state: Literal["queued", "sending", "sent", "failed", "abandoned"] | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> Any:
    """Messages of a workspace, newest first (payloads are never shown)."""
    return await as_caller(
        ctx,
        token,
        lambda actor: outbox.list_messages(ctx, actor, workspace_id=workspace_id, state=state, limit=limit),
        quick=True,
    )


@router.post("/messages/{message_id}/retry", response_model=MessageOut)
async def retry_message(message_id: Annotated[int, Path(ge=1, le=MAX_ID)], ctx: Ctx, token: Bearer) -> Any:
    """Queue a failed or abandoned message again."""
    return await as_caller(ctx, token, lambda actor: outbox.retry(ctx, actor, message_id), quick=True)
