"""Server-side flow state: what a self-service flow has proven so far (an address verified by a
code, the terms downloaded, an identity provider's profile awaiting confirmation), kept in the
database and bound to whoever holds the flow's handle — a browser (in an HttpOnly cookie) or an
API client (as a token it sends back). The handle is a 256-bit ``adm_flw_…`` secret stored only
as its digest; a flow has one kind, belongs to an account or an invitation, expires, and is
ended (consumed) when its flow completes. Pages and the API hold nothing else, so both drive
the same use cases.

These helpers run inside the caller's unit of work: the use case that reads a flow's state is
the one that acts on it and ends it, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from admit.domain import secrets
from admit.domain.errors import InvalidCode, SecretRejected
from admit.domain.ports import RandomSource, UnitOfWork
from admit.domain.secrets import FlowKind

FLOW = secrets.SecretPurpose.FLOW


@dataclass(frozen=True)
class Flow:
    id: str
    kind: FlowKind
    organization_id: str | None
    account_id: str | None
    invitation_id: str | None
    data: dict[str, Any]
    expires_at: datetime


def start(
    uow: UnitOfWork,
    random: RandomSource,
    now: datetime,
    kind: FlowKind,
    data: dict[str, Any],
    *,
    organization_id: str | None = None,
    account_id: str | None = None,
    invitation_id: str | None = None,
) -> tuple[str, str]:
    """A new flow; returns its handle (shown once: only its digest is stored) and its id."""
    issued = secrets.issue(FLOW, random)
    expires_at = secrets.expiry(FLOW, now)
    assert expires_at is not None
    flow_id = uow.flows.add(
        kind=kind.value,
        digest=issued.digest,
        organization_id=organization_id,
        account_id=account_id,
        invitation_id=invitation_id,
        data=data,
        created_at=now,
        expires_at=expires_at,
    )
    return issued.plaintext, flow_id


def find(uow: UnitOfWork, handle: str | None, kind: FlowKind, now: datetime, *, lock: bool = False) -> Flow | None:
    """The live flow of ``kind`` behind ``handle``; None for no handle, a handle of another
    purpose or kind, or a flow that has expired or ended."""
    if not handle:
        return None
    try:
        digest = secrets.digest_for(handle, FLOW)
    except SecretRejected:
        return None
    row = uow.flows.by_digest(digest, lock=lock)
    if row is None or row.kind != kind.value or row.consumed_at is not None or now >= row.expires_at:
        return None
    return Flow(
        id=row.id,
        kind=kind,
        organization_id=row.organization_id,
        account_id=row.account_id,
        invitation_id=row.invitation_id,
        data=dict(row.data or {}),
        expires_at=row.expires_at,
    )


def update(uow: UnitOfWork, flow: Flow, data: dict[str, Any]) -> None:
    uow.flows.set_data(flow.id, data)


def end(uow: UnitOfWork, flow: Flow, now: datetime) -> None:
    """The flow is over: its handle works no more."""
    uow.flows.end(flow.id, now)


def accept_code(
    uow: UnitOfWork, secret: Any, flow_handle: str, address: str, typed: str, now: datetime, *, code: str | None = None
) -> None:
    """Consume ``secret`` (a six-digit code sent to ``address`` for the flow ``flow_handle``) if
    ``typed`` is it, compared in constant time. A wrong code counts an attempt (committed) and
    raises ``InvalidCode`` with the tries left; the last wrong try revokes the code and raises
    ``SecretRejected`` (ask for a new one, with ``code`` as the error's code when given)."""
    if secrets.same_digest(secret.digest, secrets.code_digest(flow_handle, address, typed)):
        uow.secrets.consume(secret.id, now)
        return
    uow.secrets.count_attempt(secret.id)
    left = secrets.CODE_ATTEMPTS - secret.attempts - 1
    if left <= 0:
        uow.secrets.revoke(secret.id, now)
    uow.commit()
    if left <= 0:
        raise SecretRejected("too many wrong codes; ask for a new one", code=code)
    raise InvalidCode(left)
