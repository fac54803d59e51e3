"""SCIM bearer tokens: what an identity provider (Entra ID, Okta, ...) presents at ``/scim/v2``.

A token is shown once, as a typed secret ``adm_scm_…``, and stored as its digest. It belongs to an
organization and either one of its workspaces or, with no workspace, every workspace of the
organization. Its role (``guest``, ``member`` or ``admin``) is a ceiling: the highest role the
provider may give the people it provisions; never ``owner``, and never above the role of whoever
created the token. Revoking one stops it at once (every request looks the token up).

Who manages tokens follows the rule of the organization's apps (:mod:`admit.oidc_provider.clients`):

- a token for one workspace: whoever holds the manage settings permission in that workspace (an
  administrator in the console, an API token of the organization or of that workspace, an operator);
- a token for every workspace: only an organization-level actor, that is an operator or an API
  token of the organization not limited to one workspace, with manage settings. A person acts
  from one workspace, so the console lists such tokens read-only.

Every creation and revocation is in the audit log.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from admit.domain import secrets
from admit.domain.errors import NotFound, PermissionDenied, ValidationFailed
from admit.domain.events import EventType
from admit.domain.ports import UnitOfWork
from admit.domain.records import Record
from admit.domain.roles import Permission, Role, require
from admit.shared.access import organization_scope, workspace_for
from admit.shared.context import Actor, ActorKind, Context, record

ROLES = ("guest", "member", "admin")  # a token's ceiling; never owner
MAX_NAME = 200
PURPOSE = secrets.SecretPurpose.SCIM_TOKEN


def view(row: Record, names: dict[str, str] | None = None) -> dict[str, Any]:
    """A token as every door shows it: never its digest."""
    values = {k: v for k, v in row._mapping.items() if k != "digest"}
    created_by = values.get("created_by")
    values["created_by_name"] = (names or {}).get(created_by, "") if created_by else ""
    return values


def check_name(name: Any) -> str:
    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text) > MAX_NAME or any(unicodedata.category(c) in ("Cc", "Cs") for c in text):
        raise ValidationFailed(f"a name of 1 to {MAX_NAME} printable characters on one line is required", field="name")
    return text


def check_role(role: Any) -> Role:
    if not isinstance(role, str) or role.strip().lower() not in ROLES:
        raise ValidationFailed(f"the role is one of {', '.join(ROLES)} (never owner)", field="role")
    return Role(role.strip().lower())


def _acting_from(actor: Actor, workspace_id: str | None) -> str | None:
    """The workspace the actor acts from: the one given, else the one its API token is limited to."""
    return workspace_id if workspace_id is not None else actor.workspace_id


def _check(uow: UnitOfWork, actor: Actor, organization_id: str, workspace_id: str | None) -> Role:
    """May ``actor`` manage the tokens of ``workspace_id`` (None: the whole organization)? Its role."""
    if workspace_id is None:
        if actor.kind is ActorKind.ACCOUNT:
            raise PermissionDenied("tokens for every workspace are managed by the organization (its API token)")
        organization_scope(actor, organization_id)
        assert actor.role is not None
        require(actor.role, Permission.MANAGE_SETTINGS)
        if uow.organizations.get(organization_id) is None:
            raise NotFound("organization not found")
        return actor.role
    if not isinstance(workspace_id, str) or len(workspace_id) > 32 or "\x00" in workspace_id:
        raise NotFound("workspace not found", field="workspace_id")
    workspace, role = workspace_for(uow, actor, workspace_id, Permission.MANAGE_SETTINGS)
    if workspace.organization_id != organization_id:
        raise NotFound("workspace not found", field="workspace_id")
    return role


def organization_level(actor: Actor) -> bool:
    return actor.kind is not ActorKind.ACCOUNT and actor.workspace_id is None


def create(
    ctx: Context,
    actor: Actor,
    organization_id: str,
    *,
    name: str,
    role: str = "member",
    workspace_id: str | None = None,
) -> tuple[dict[str, Any], str]:
    """A new token for ``workspace_id`` (None: every workspace of the organization) and its
    plaintext, shown this once. An API token limited to one workspace makes tokens for that workspace."""
    workspace_id = _acting_from(actor, workspace_id)
    clean_name = check_name(name)
    ceiling = check_role(role)
    issued = secrets.issue(PURPOSE, ctx.random)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        own = _check(uow, actor, organization_id, workspace_id)
        if ceiling.rank > own.rank:
            raise PermissionDenied(f"a token may grant at most your own role ({own.value})", field="role")
        token_id = uow.scim_tokens.add(
            organization_id=organization_id,
            workspace_id=workspace_id,
            name=clean_name,
            role=ceiling.value,
            digest=issued.digest,
            created_at=now,
            created_by=actor.id,
        )
        record(
            uow, actor, EventType.SCIM_TOKEN_CREATED, "scim_token", token_id, now,
            organization_id=organization_id, workspace_id=workspace_id, name=clean_name, role=ceiling.value,
        )  # fmt: skip
        row = uow.scim_tokens.get(organization_id, token_id)
        assert row is not None
        names = uow.events.names(organization_id, {actor.id} if actor.id else set())
        uow.commit()
    return {**view(row, names), "manageable": True}, issued.plaintext


def list_tokens(
    ctx: Context, actor: Actor, organization_id: str, *, workspace_id: str | None = None
) -> list[dict[str, Any]]:
    """The tokens the actor may see, the newest first, each saying whether it may revoke it
    (``manageable``): from a workspace, that workspace's tokens and those for every workspace
    (read-only unless the actor is organization-level); for the organization, all of them."""
    scope = _acting_from(actor, workspace_id)
    with ctx.uow() as uow:
        _check(uow, actor, organization_id, scope)
        rows = [r for r in uow.scim_tokens.list(organization_id) if scope is None or r.workspace_id in (scope, None)]
        names = uow.events.names(organization_id, {r.created_by for r in rows if r.created_by})
    org_level = organization_level(actor)
    return [{**view(r, names), "manageable": r.workspace_id is not None or org_level} for r in rows]


def token_of(uow: UnitOfWork, actor: Actor, organization_id: str, token_id: str, workspace_id: str | None) -> Record:
    """The token the actor may see (and ``workspace_id`` acts from), else ``NotFound``."""
    scope = _acting_from(actor, workspace_id)
    _check(uow, actor, organization_id, scope)
    row = uow.scim_tokens.get(organization_id, token_id) if isinstance(token_id, str) else None
    if row is None or (scope is not None and row.workspace_id not in (scope, None)):
        raise NotFound("SCIM token not found")
    return row


def get(
    ctx: Context, actor: Actor, organization_id: str, token_id: str, *, workspace_id: str | None = None
) -> dict[str, Any]:
    with ctx.uow() as uow:
        row = token_of(uow, actor, organization_id, token_id, workspace_id)
        names = uow.events.names(organization_id, {row.created_by} if row.created_by else set())
    return {**view(row, names), "manageable": row.workspace_id is not None or organization_level(actor)}


def revoke(
    ctx: Context, actor: Actor, organization_id: str, token_id: str, *, workspace_id: str | None = None
) -> dict[str, Any]:
    """Revoke the token: the next request with it is refused. Revoking a revoked token changes nothing."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = token_of(uow, actor, organization_id, token_id, workspace_id)
        if row.workspace_id is None and not organization_level(actor):
            raise PermissionDenied("a token for every workspace is revoked by the organization (its API token)")
        if uow.scim_tokens.revoke(organization_id, row.id, now):
            record(
                uow, actor, EventType.SCIM_TOKEN_REVOKED, "scim_token", row.id, now,
                organization_id=organization_id, workspace_id=row.workspace_id, name=row.name,
            )  # fmt: skip
        updated = uow.scim_tokens.get(organization_id, row.id)
        assert updated is not None
        names = uow.events.names(organization_id, {updated.created_by} if updated.created_by else set())
        uow.commit()
    return {**view(updated, names), "manageable": True}
