"""What administrators see of delivery: messages of a workspace by state, and a retry for the
ones that failed or were abandoned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from admit.domain.errors import NotFound, PermissionDenied, ValidationFailed
from admit.domain.events import EventType
from admit.domain.outbox import MessageState, ensure_retryable
from admit.domain.records import Message
from admit.domain.roles import Permission
from admit.shared.access import tenant_scope, workspace_for
from admit.shared.context import Actor, ActorKind, Context, record

STATES = tuple(state.value for state in MessageState)


@dataclass(frozen=True, slots=True)
class MessageView:
    """A message as administrators see it (the API's ``MessageOut``, and ``link`` for the CLI):
    never its payload, whose link carries a secret until the message is sent."""

    id: int
    workspace_id: str | None
    kind: str
    channel: str
    recipient: str
    language: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime
    link: str


def masked_link(link: str) -> str:
    """A message's link without the secret it carries (``…/i/…``)."""
    return link.split("/adm_")[0] + ("/…" if "/adm_" in link else "")


def public(message: Message, *, reveal: bool = False) -> MessageView:
    """A message without its payload; its link masked, unless an operator asks to ``reveal`` it
    (the CLI, in dev mode)."""
    link = str((message.payload or {}).get("link") or "")
    return MessageView(
        id=message.id,
        workspace_id=message.workspace_id,
        kind=message.kind,
        channel=message.channel,
        recipient=message.recipient,
        language=message.language,
        state=message.state,
        attempts=message.attempts,
        next_attempt_at=message.next_attempt_at,
        last_error=message.last_error,
        sent_at=message.sent_at,
        created_at=message.created_at,
        link=link if reveal else masked_link(link),
    )


def list_messages(
    ctx: Context,
    actor: Actor,
    *,
    workspace_id: str | None = None,
    state: str | None = None,
    limit: int = 50,
    reveal: bool = False,
) -> list[MessageView]:
    """Messages, newest first: a workspace's, or (operators) every one."""
    if reveal and actor.kind is not ActorKind.OPERATOR:
        raise PermissionDenied("only an operator can see the secrets in messages' links")
    if state is not None and state not in STATES:
        raise ValidationFailed(f"unknown state {state!r}; use one of {', '.join(STATES)}", field="state")
    with ctx.uow() as uow:
        if workspace_id is not None:
            workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_PEOPLE)
            rows = uow.outbox.list(workspace.organization_id, workspace_id=workspace.id, state=state, limit=limit)
        elif actor.kind is ActorKind.OPERATOR:
            rows = uow.outbox.list(state=state, limit=limit)
        else:
            raise ValidationFailed("name the workspace whose messages to list", field="workspace_id")
    return [public(row, reveal=reveal) for row in rows]


def retry(ctx: Context, actor: Actor, message_id: int) -> MessageView:
    """Queue a failed or abandoned message again, with a fresh count of attempts."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = uow.outbox.get(tenant_scope(actor), message_id)
        if row is None or (row.workspace_id is None and actor.kind is not ActorKind.OPERATOR):
            raise NotFound("message not found")
        if row.workspace_id is not None:
            workspace_for(uow, actor, row.workspace_id, Permission.MANAGE_PEOPLE)
        ensure_retryable(row.state)
        if not uow.outbox.retry(row.organization_id, row.id, now):  # another process got there first
            ensure_retryable(MessageState.SENDING)
        record(
            uow,
            actor,
            EventType.MESSAGE_RETRIED,
            "message",
            str(row.id),
            now,
            organization_id=row.organization_id,
            workspace_id=row.workspace_id,
        )
        updated = uow.outbox.get(None, row.id)
        uow.commit()
    assert updated is not None
    return public(updated)


def retry_abandoned(ctx: Context, actor: Actor) -> int:
    """Operator: queue every abandoned message again."""
    if actor.kind is not ActorKind.OPERATOR:
        raise NotFound("message not found")
    ids = [row.id for row in _abandoned(ctx)]
    for message_id in ids:
        retry(ctx, actor, message_id)
    return len(ids)


def _abandoned(ctx: Context) -> list[Message]:
    with ctx.uow() as uow:
        return list(uow.outbox.list(state="abandoned", limit=100_000))
