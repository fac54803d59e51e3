"""The audit log as administrators read it: who did what to whom, when, newest first, with the
people behind ids named (an account or member by their address, an API token by its name) and,
for the pages' sentences, labelled (a person by their first and last name when known, else as
named). The wording is the pages' business; this returns data."""

from __future__ import annotations

from typing import Any

from admit.domain.errors import NotFound
from admit.domain.ports import UnitOfWork
from admit.domain.roles import Permission
from admit.shared.access import tenant_scope, workspace_for
from admit.shared.context import Actor, Context

LARGEST_ID = 2**63 - 1  # an event id (BIGINT)


def events(
    ctx: Context,
    actor: Actor,
    workspace_id: str,
    *,
    action: str | None = None,
    subject_id: str | None = None,
    actor_id: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The workspace's events, newest first; ``before``: older than this event id (one past every
    id the database can hold reads from the newest)."""
    if before is not None and before > LARGEST_ID:
        before = None
    with ctx.uow() as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.VIEW_AUDIT)
        rows = uow.events.list(
            workspace.organization_id,
            workspace_id=workspace.id,
            action=action,
            subject_id=subject_id,
            actor_id=actor_id,
            before=before,
            limit=limit,
        )
        names = _names(uow, workspace.organization_id, rows)
    return [_named(row, names) for row in rows]


def for_member(
    ctx: Context, actor: Actor, workspace_id: str, member_id: str, *, before: int | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The trail of one person: the events whose subject is this member of ``workspace_id`` or
    one of their invitations, newest first, named as in :func:`events`."""
    with ctx.uow() as uow:
        member = uow.members.get(tenant_scope(actor), member_id)
        if member is None or member.workspace_id != workspace_id:
            raise NotFound("member not found")
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.VIEW_AUDIT)
        subjects = [member.id, *(i.id for i in uow.invitations.for_member(workspace.organization_id, member.id, 1000))]
        rows = uow.events.list(
            workspace.organization_id, workspace_id=workspace.id, subject_ids=subjects, before=before, limit=limit
        )
        names = _names(uow, workspace.organization_id, rows)
    return [_named(row, names) for row in rows]


def _named(row: Any, names: tuple[dict[str, str], dict[str, str]]) -> dict[str, Any]:
    """An event with readable names: addresses or token names, and people's full names (labels)."""
    found, labels = names
    return {
        **dict(row._mapping),
        "actor_name": found.get(row.actor_id) if row.actor_id else row.actor_type,
        "subject_name": found.get(row.subject_id),
        "actor_label": (labels.get(row.actor_id) or found.get(row.actor_id)) if row.actor_id else None,
        "subject_label": labels.get(row.subject_id) or found.get(row.subject_id),
    }


def _names(uow: UnitOfWork, organization_id: str, rows: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Readable names for the ids in these events (addresses, token names) and the full names of
    the people among them, looked up in a few queries."""
    ids = {row.actor_id for row in rows if row.actor_id} | {row.subject_id for row in rows}
    return uow.events.names(organization_id, ids), uow.events.full_names(organization_id, ids)
