"""The audit log as administrators read it: who did what to whom, when, newest first, with the
people behind ids named (an account or member by their address, an API token by its name) and,
for the pages' sentences, labelled (a person by their first and last name when known, else as
named). The wording is the pages' business; this returns data."""

from __future__ import annotations

from typing import Any

from admit.domain.ports import UnitOfWork
from admit.domain.roles import Permission
from admit.shared.access import workspace_for
from admit.shared.context import Actor, Context


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
        names, labels = _names(uow, workspace.organization_id, rows)
    return [
        {
            **dict(row._mapping),
            "actor_name": names.get(row.actor_id) if row.actor_id else row.actor_type,
            "subject_name": names.get(row.subject_id),
            "actor_label": (labels.get(row.actor_id) or names.get(row.actor_id)) if row.actor_id else None,
            "subject_label": labels.get(row.subject_id) or names.get(row.subject_id),
        }
        for row in rows
    ]


def _names(uow: UnitOfWork, organization_id: str, rows: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Readable names for the ids in these events (addresses, token names) and the full names of
    the people among them, looked up in a few queries."""
    ids = {row.actor_id for row in rows if row.actor_id} | {row.subject_id for row in rows}
    return uow.events.names(organization_id, ids), uow.events.full_names(organization_id, ids)
