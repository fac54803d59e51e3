"""Publishing webhook events, in the transaction of the change: called by ``shared.context.record``
for every audit event, so every door (page, REST API, CLI, SCIM, workers) publishes the same way.
An event no enabled endpoint of its organization wants costs one indexed query and nothing else;
otherwise it gets the organization's next ``sequence`` (its counter row locked until the commit),
is stored once, and one message per endpoint waits for the webhook worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

from admit.domain import webhooks
from admit.domain.events import EventType
from admit.domain.ports import UnitOfWork


def publish(
    uow: UnitOfWork,
    action: EventType,
    subject_type: str,
    subject_id: str,
    now: datetime,
    *,
    organization_id: str | None,
    workspace_id: str | None,
    data: dict[str, Any],
) -> None:
    if organization_id is None:
        return
    types = webhooks.published_types(action, data)
    if not types:
        return
    endpoints = uow.webhooks.subscribers(organization_id, workspace_id)
    for type in types:
        wanted = [e.id for e in endpoints if webhooks.wants(e.event_types, type)]
        if wanted:
            emit(uow, type, organization_id, workspace_id, {f"{subject_type}_id": subject_id, **data}, now, wanted)


def emit(
    uow: UnitOfWork,
    type: str,
    organization_id: str,
    workspace_id: str | None,
    data: dict[str, Any],
    now: datetime,
    endpoint_ids: list[str],
) -> str:
    """Store one event with the organization's next sequence and queue it for ``endpoint_ids``;
    its id (the ``webhook-id`` of every delivery of it)."""
    sequence = uow.webhooks.next_sequence(organization_id)
    event_id = f"msg_{uuid4().hex}"
    payload = webhooks.envelope(
        type=type,
        id=event_id,
        timestamp=now,
        organization_id=organization_id,
        workspace_id=workspace_id,
        sequence=sequence,
        data=data,
    )
    uow.webhooks.add_event(
        id=event_id,
        organization_id=organization_id,
        workspace_id=workspace_id,
        type=type,
        sequence=sequence,
        payload=payload,
        created_at=now,
    )
    for endpoint_id in endpoint_ids:
        uow.webhooks.add_message(
            organization_id=organization_id,
            endpoint_id=endpoint_id,
            event_id=event_id,
            sequence=sequence,
            state="queued",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    return event_id
