"""What every use case receives: a unit-of-work factory, the clock, randomness, the hasher and
the few settings rules need. Built once by :mod:`admit.bootstrap`."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from admit.config import DEV_SECRET_KEY
from admit.domain.events import EventType
from admit.domain.ports import Clock, PasswordHasher, RandomSource, UnitOfWork, UnitOfWorkFactory
from admit.domain.roles import Role
from admit.shared.webhook_events import publish

log = logging.getLogger("admit.shared")

# The id of the request being served (``entrypoints/web/operations.py``): on its log lines, and
# stamped on the outbox messages (their payload) and jobs (their actor) it queues.
REQUEST_ID: ContextVar[str | None] = ContextVar("admit_request_id", default=None)


@dataclass(frozen=True)
class Context:
    uow: UnitOfWorkFactory
    clock: Clock
    random: RandomSource
    hasher: PasswordHasher
    base_url: str
    phone_region: str | None = None
    secret_key: str = DEV_SECRET_KEY  # encrypts identity providers' client secrets
    dev_mode: bool = False  # development conveniences (apps' http:// redirect URIs on loopback)
    embedded_database: bool = False  # SQLite in this process: quick work may run on the event loop

    def link(self, path: str) -> str:
        """An absolute link, always from the configured base URL (never from a request)."""
        return f"{self.base_url}{path}"


class ActorKind(StrEnum):
    OPERATOR = "operator"  # the CLI or an instance-wide API token
    API_TOKEN = "api_token"
    ACCOUNT = "account"
    SYSTEM = "system"  # scheduled work such as expiring invitations
    INVITEE = "invitee"  # whoever holds an invitation link, before signing in
    SCIM = "scim"  # an identity provider holding a SCIM token (admin.scim_users): like an API token


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str | None = None
    organization_id: str | None = None  # None: every organization (operator)
    workspace_id: str | None = None  # an API token may be limited to one workspace
    role: Role | None = None  # fixed for tokens; looked up per workspace for accounts
    name: str = ""

    @classmethod
    def operator(cls, name: str = "cli") -> Actor:
        return cls(ActorKind.OPERATOR, role=Role.OWNER, name=name)


SYSTEM = Actor(ActorKind.SYSTEM, name="system")


def record(
    uow: UnitOfWork,
    actor: Actor,
    action: EventType,
    subject_type: str,
    subject_id: str,
    now: Any,
    *,
    organization_id: str | None,
    workspace_id: str | None = None,
    **data: Any,
) -> None:
    """Write one audit event of a catalogued type (``domain.events``) in the caller's transaction,
    and publish it to the organization's webhooks when it is one they carry (``shared.webhook_events``)."""
    action = EventType(action)
    if action.subject != subject_type:
        raise ValueError(f"a {action} event is about a {action.subject}, not a {subject_type}")
    uow.events.add(
        organization_id=organization_id,
        workspace_id=workspace_id,
        actor_type=actor.kind.value,
        actor_id=actor.id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        data=data,
        created_at=now,
    )
    publish(uow, action, subject_type, subject_id, now, organization_id=organization_id, workspace_id=workspace_id,
            data=data)  # fmt: skip
