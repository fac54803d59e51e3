"""The deprovisioning brake: when an identity provider deactivates or removes too many people of a
workspace within an hour, the next ones are held until an administrator releases or dismisses them.

The rule: the SCIM suspensions and removals applied in the workspace within the last hour, plus
this one, are compared with the workspace's size (its members not removed, plus those SCIM removed
within the hour, so a sync that removes people does not shrink its own yardstick). When they would
be more than ``percent`` % of it (default 20, ``ADMIT_SCIM_BRAKE_PERCENT``), and the workspace has
more than ``minimum`` members (default 10, ``ADMIT_SCIM_BRAKE_MINIMUM``: a five-person team, or a
test suite deleting the few users it created in a small workspace, is never braked), the change is
held (``ADMIT_SCIM_BRAKE_PERCENT=100`` turns the brake off): a ``scim_holds`` row (one live hold
per member: a unique partial index), an audit event, and, for the first hold of the workspace
within the hour, one email to each of its administrators.

What is counted comes from the audit trail (``events``): each SCIM suspension or removal writes its
event in the transaction of the change, so every process sees the same count once it commits. The
request log (``scim_requests``) is written after the answer and says nothing about what a request
changed, so it cannot be the yardstick.

Concurrency: :func:`hold_if_braking` is called by :func:`admit.admin.members.suspend` and
``remove`` inside the transaction of the change (an actor of kind SCIM), after locking the
workspace's row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's write transactions begin
IMMEDIATE and are serial anyway). Two processes deactivating at once therefore count one after the
other: the second sees the first's committed event, and cannot let a change through past the
threshold. A door may also call it before it calls the member service (to answer "held" without a
second transaction); the member service asks again under the lock, so the answer stays right.

Release and dismiss (:func:`release`, :func:`dismiss`) need ``Permission.MANAGE_PEOPLE`` in the
workspace; a release applies each held change through the member service as the administrator
(so it is not braked again), a dismissal drops it (the member stays as they are). Both are audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from admit.domain.errors import Conflict, DomainError, NotFound, ValidationFailed
from admit.domain.events import EventType
from admit.domain.members import MemberStatus
from admit.domain.ports import UnitOfWork
from admit.domain.records import Member, Workspace
from admit.domain.roles import Permission, Role
from admit.shared.access import workspace_for
from admit.shared.context import Actor, ActorKind, Context, record
from admit.shared.messages import enqueue

WINDOW = timedelta(hours=1)
DEFAULT_PERCENT = 20
DEFAULT_MINIMUM = 10
ACTIONS = ("deactivate", "delete")
MAX_IDS = 1000  # hold ids in one release or dismissal
NOTICE_KIND = "scim_brake"


@dataclass
class Limits:
    """The instance's brake settings (``ADMIT_SCIM_BRAKE_PERCENT``, ``ADMIT_SCIM_BRAKE_MINIMUM``),
    set once by :mod:`admit.bootstrap`."""

    percent: int = DEFAULT_PERCENT
    minimum: int = DEFAULT_MINIMUM


LIMITS = Limits()


def configure(percent: int, minimum: int) -> None:
    LIMITS.percent, LIMITS.minimum = percent, minimum


def braking(applied: int, size: int, *, percent: int, minimum: int) -> bool:
    """Whether one more change, after ``applied`` within the hour, is held in a workspace of ``size``.
    ``percent`` 100 turns the brake off: nothing is ever more than the whole workspace."""
    return percent < 100 and size > minimum and (applied + 1) * 100 > percent * size


def hold_if_braking(
    uow: UnitOfWork,
    actor: Actor,
    workspace: Workspace,
    member: Member,
    action: str,
    now: datetime,
    *,
    percent: int | None = None,
    minimum: int | None = None,
) -> bool:
    """Hold the SCIM ``action`` ("deactivate" or "delete") on ``member`` if the brake is on; True
    when it is held (now or already). Call it inside the write transaction of the change."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if actor.kind is not ActorKind.SCIM or member.status == MemberStatus.REMOVED:
        return False
    org = workspace.organization_id
    uow.scim_holds.lock_workspace(org, workspace.id)
    if uow.scim_holds.held_for(member.id) is not None:
        return True
    since = now - WINDOW
    suspended, removed = uow.scim_holds.scim_endings_since(org, workspace.id, since)
    counts = uow.members.count(org, workspace.id)
    size = sum(n for status, n in counts.items() if status != MemberStatus.REMOVED) + removed
    limits = Limits(LIMITS.percent if percent is None else percent, LIMITS.minimum if minimum is None else minimum)
    if not braking(suspended + removed, size, percent=limits.percent, minimum=limits.minimum):
        return False
    first = uow.scim_holds.held_since(org, workspace.id, since) == 0
    assert actor.id is not None  # a SCIM actor is its token
    hold_id = uow.scim_holds.add(
        organization_id=org,
        workspace_id=workspace.id,
        member_id=member.id,
        token_id=actor.id,
        action=action,
        state="held",
        created_at=now,
    )
    record(
        uow,
        actor,
        EventType.MEMBER_CHANGE_HELD,
        "member",
        member.id,
        now,
        organization_id=org,
        workspace_id=workspace.id,
        hold_id=hold_id,
        held_action=action,
        applied_within_hour=suspended + removed,
        workspace_size=size,
        percent=limits.percent,
    )
    if first:
        _tell_administrators(uow, workspace, now)
    return True


def _tell_administrators(uow: UnitOfWork, workspace: Workspace, now: datetime) -> None:
    """One email to each active administrator of the workspace (the first hold of the hour)."""
    if not workspace.email_enabled:
        return
    people = uow.members.list(workspace.organization_id, workspace.id, status=MemberStatus.ACTIVE, limit=1000)
    for person in people:
        if not person.email or not Role(person.role).allows(Permission.MANAGE_PEOPLE):
            continue
        enqueue(
            uow,
            kind=NOTICE_KIND,
            channel="email",
            recipient=person.email,
            language=person.language or workspace.default_language,
            subject_id=workspace.id,
            organization_id=workspace.organization_id,
            workspace_id=workspace.id,
            now=now,
            payload={"workspace_name": workspace.name},
        )


@dataclass(frozen=True)
class Hold:
    id: str
    member_id: str
    action: str
    created_at: datetime
    name: str
    address: str | None
    member_status: str
    token_name: str


def _hold(row: Any) -> Hold:
    name = " ".join(part for part in (row.first_name, row.last_name) if part)
    address = row.email or row.username
    return Hold(row.id, row.member_id, row.action, row.created_at, name, address, row.member_status, row.token_name)


def list_holds(ctx: Context, actor: Actor, workspace_id: str) -> list[Hold]:
    """The workspace's held changes, the oldest first (at most 1000)."""
    with ctx.uow() as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_PEOPLE)
        rows = uow.scim_holds.held(workspace.organization_id, workspace.id)
    return [_hold(row) for row in rows]


def count_holds(ctx: Context, actor: Actor, workspace_id: str) -> int:
    """How many changes are held (for the People page's notice); 0 for who may not see them."""
    try:
        return len(list_holds(ctx, actor, workspace_id))
    except DomainError:
        return 0


@dataclass
class Decided:
    """What a release or dismissal did: the holds decided, and those refused with why."""

    done: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def hold_ids(value: Any) -> list[str] | None:
    """The ids a door was given (``None``: all held); a clear error for anything else."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationFailed("ids must be a list of hold ids", field="ids")
    if not value or len(value) > MAX_IDS:
        raise ValidationFailed(f"give between 1 and {MAX_IDS} hold ids", field="ids")
    if any(len(v) > 32 or "\x00" in v for v in value):
        raise ValidationFailed("unknown hold id", field="ids")
    return list(dict.fromkeys(value))


def release(ctx: Context, actor: Actor, workspace_id: str, ids: Sequence[str] | None) -> Decided:
    """Apply the held deactivations and removals (``ids``; ``None``: every held one)."""
    return _decide(ctx, actor, workspace_id, ids, "released")


def dismiss(ctx: Context, actor: Actor, workspace_id: str, ids: Sequence[str] | None) -> Decided:
    """Drop the held changes: the members stay as they are."""
    return _decide(ctx, actor, workspace_id, ids, "dismissed")


def _decide(ctx: Context, actor: Actor, workspace_id: str, ids: Sequence[str] | None, state: str) -> Decided:
    from admit.admin import members  # the member service calls this module too

    with ctx.uow() as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_PEOPLE)
        ids = hold_ids(list(ids) if isinstance(ids, (list, tuple)) else ids)
        rows = uow.scim_holds.held(workspace.organization_id, workspace.id, ids)
    if ids is not None and len(rows) != len(set(ids)):
        raise NotFound("hold not found (it may have been released or dismissed already)")
    outcome = Decided()
    for row in rows:
        try:
            members.decide_hold(ctx, actor, workspace.id, row.id, row.member_id, row.action, state)
        except (Conflict, DomainError) as refused:
            outcome.refused.append((row.id, str(refused)))
            continue
        outcome.done.append(row.id)
    return outcome
