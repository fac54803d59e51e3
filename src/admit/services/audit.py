"""The audit log as administrators read it: who did what to whom, when, newest first, with the
people behind ids named (an account or member by their address, an API token by its name)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from admit.domain.roles import Permission
from admit.persistence import tables as t
from admit.persistence.unit_of_work import UnitOfWork
from admit.services.access import workspace_for
from admit.services.context import Actor, Context


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
    return [
        {
            **dict(row._mapping),
            "actor_name": names.get(row.actor_id) if row.actor_id else row.actor_type,
            "subject_name": names.get(row.subject_id),
        }
        for row in rows
    ]


def _names(uow: UnitOfWork, organization_id: str, rows: Any) -> dict[str, str]:
    """Readable names for the ids in these events, looked up in a few queries."""
    ids = {row.actor_id for row in rows if row.actor_id} | {row.subject_id for row in rows}
    if not ids:
        return {}
    m, i, a, k = t.members.c, t.invitations.c, t.account_identifiers.c, t.api_tokens.c
    queries = [
        select(m.id, m.email, m.username).where(m.organization_id == organization_id, m.id.in_(ids)),
        select(i.id, i.email, i.phone).where(i.organization_id == organization_id, i.id.in_(ids)),
        select(a.account_id, a.value, a.kind).where(a.account_id.in_(ids)).order_by(a.kind),
        select(k.id, k.name, k.role).where(k.organization_id == organization_id, k.id.in_(ids)),
    ]
    found: dict[str, str] = {}
    for query in queries:
        for key, first, second in uow.conn.execute(query).all():
            found.setdefault(key, first or second)
    return found
