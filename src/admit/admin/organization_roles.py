"""Organization roles (issue 17, Smartsheet's words): a **system administrator** acts with owner
rights in every workspace of the organization (:func:`admit.shared.access.role_in` asks
:func:`is_system_admin`) and manages the organization's settings, licences, groups, security
controls, workspaces and other system administrators; a **group administrator** manages the
organization's groups (:mod:`admit.admin.groups`). Both are held by an account that is a live
member of one of the organization's workspaces (table ``organization_admins``, one role per
organization and account). Licence types (licensed user, resource viewer) are per member:
:mod:`admit.admin.licences`.

Only a system administrator (or the operator, or an organization-wide API token with the owner
role) grants or revokes either role; once an organization has a system administrator the last
one cannot be removed (the organization's row is locked while the count is read, so two
administrators revoking each other at once cannot both succeed). Another organization is not
found (404), never forbidden."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from admit.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from admit.domain.events import EventType
from admit.domain.ports import UnitOfWork
from admit.domain.records import Record
from admit.domain.roles import Role
from admit.shared.context import Actor, ActorKind, Context, record

ID_LIMIT = 32
EMAIL_LIMIT = 320


class OrgRole(StrEnum):
    SYSTEM_ADMIN = "system_admin"
    GROUP_ADMIN = "group_admin"


def parse_org_role(value: object) -> OrgRole:
    try:
        return OrgRole(str(value).strip().lower().replace("-", "_")) if isinstance(value, str) else OrgRole("")
    except ValueError:
        raise ValidationFailed("the role is system_admin or group_admin", field="role") from None


@dataclass(frozen=True)
class AdminView:
    account_id: str
    role: str
    name: str
    email: str | None
    since: datetime


def organization_for(uow: UnitOfWork, actor: Actor, organization_id: object, need: OrgRole) -> Record:
    """The organization, if ``actor`` holds ``need`` there (a system administrator holds both
    roles). Another organization, or one the actor is not in, is not found."""
    if not isinstance(organization_id, str) or not organization_id or len(organization_id) > ID_LIMIT:
        raise NotFound("organization not found")
    if actor.kind in (ActorKind.OPERATOR, ActorKind.SYSTEM):
        org = uow.organizations.get(organization_id)
        if org is None:
            raise NotFound("organization not found")
        return org
    if actor.workspace_id is not None:
        raise NotFound("organization not found")
    if actor.kind is ActorKind.API_TOKEN:
        if actor.organization_id != organization_id:
            raise NotFound("organization not found")
        wanted = Role.OWNER if need is OrgRole.SYSTEM_ADMIN else Role.ADMIN
        if actor.role is None or actor.role.rank < wanted.rank:
            raise PermissionDenied(f"this needs an API token with the {wanted.value} role")
    elif actor.kind is ActorKind.ACCOUNT and actor.id is not None:
        held = uow.org_controls.role_of(organization_id, actor.id)
        if held is None:
            if not uow.org_controls.member_in_organization(organization_id, actor.id):
                raise NotFound("organization not found")
            raise PermissionDenied("only a system administrator of the organization may do this")
        if need is OrgRole.SYSTEM_ADMIN and held != OrgRole.SYSTEM_ADMIN:
            raise PermissionDenied("only a system administrator of the organization may do this")
    else:
        raise NotFound("organization not found")
    org = uow.organizations.get(organization_id)
    if org is None:
        raise NotFound("organization not found")
    return org


def is_system_admin(uow: UnitOfWork, actor: Actor, organization_id: str) -> bool:
    """Whether ``actor`` (an account) is a system administrator of the organization."""
    if actor.kind is not ActorKind.ACCOUNT or actor.id is None or actor.workspace_id is not None:
        return False
    return uow.org_controls.role_of(organization_id, actor.id) == OrgRole.SYSTEM_ADMIN


def list_admins(ctx: Context, actor: Actor, organization_id: str) -> list[AdminView]:
    with ctx.uow() as uow:
        organization_for(uow, actor, organization_id, OrgRole.SYSTEM_ADMIN)
        rows = uow.org_controls.admins(organization_id)
    return [_admin_view(row) for row in rows]


def _admin_view(row: Record) -> AdminView:
    return AdminView(
        account_id=row.account_id,
        role=row.role,
        name=" ".join(part for part in (row.first_name, row.last_name) if part) or (row.email or row.account_id),
        email=row.email,
        since=row.created_at,
    )


def _target(uow: UnitOfWork, organization_id: str, email: object, account_id: object) -> str:
    """The account of a live member of the organization, named by its email or its id."""
    if isinstance(account_id, str) and account_id:
        if len(account_id) > ID_LIMIT or not uow.org_controls.member_in_organization(organization_id, account_id):
            raise NotFound("no member of this organization has this account", field="account_id")
        return account_id
    if not isinstance(email, str) or not email.strip() or len(email) > EMAIL_LIMIT or "\x00" in email:
        raise ValidationFailed("the email address of a member with an account is required", field="email")
    account = uow.accounts.by_identifiers([("email", email.strip().lower())])
    if account is None or not uow.org_controls.member_in_organization(organization_id, account.id):
        raise NotFound("no member of this organization has an account with this email address", field="email")
    return account.id


def grant(
    ctx: Context,
    actor: Actor,
    organization_id: str,
    role: object,
    *,
    email: object = None,
    account_id: object = None,
) -> AdminView:
    """Make a member with an account a system or group administrator (replacing the other role)."""
    wanted = parse_org_role(role)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        organization_for(uow, actor, organization_id, OrgRole.SYSTEM_ADMIN)
        target = _target(uow, organization_id, email, account_id)
        uow.org_controls.lock(organization_id)
        held = uow.org_controls.role_of(organization_id, target)
        if held == wanted:
            raise Conflict(f"this person is already a {wanted.value.replace('_', ' ')}", code="already_admin")
        if held == OrgRole.SYSTEM_ADMIN:
            _keep_one(uow, organization_id)
        uow.org_controls.grant(organization_id, target, wanted.value, now)
        record(
            uow, actor, EventType.ORGANIZATION_ADMIN_GRANTED, "organization", organization_id, now,
            organization_id=organization_id, account_id=target, role=wanted.value, previous=held,
        )  # fmt: skip
        granted = next(row for row in uow.org_controls.admins(organization_id) if row.account_id == target)
        uow.commit()
    return _admin_view(granted)


def revoke(ctx: Context, actor: Actor, organization_id: str, account_id: object) -> None:
    """Take the organization role away; the last system administrator stays."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        organization_for(uow, actor, organization_id, OrgRole.SYSTEM_ADMIN)
        if not isinstance(account_id, str) or not account_id or len(account_id) > ID_LIMIT:
            raise NotFound("this person holds no organization role", field="account_id")
        uow.org_controls.lock(organization_id)
        held = uow.org_controls.role_of(organization_id, account_id)
        if held is None:
            raise NotFound("this person holds no organization role", field="account_id")
        if held == OrgRole.SYSTEM_ADMIN:
            _keep_one(uow, organization_id)
        uow.org_controls.revoke(organization_id, account_id)
        record(
            uow, actor, EventType.ORGANIZATION_ADMIN_REVOKED, "organization", organization_id, now,
            organization_id=organization_id, account_id=account_id, role=held,
        )  # fmt: skip
        uow.commit()


def _keep_one(uow: UnitOfWork, organization_id: str) -> None:
    if uow.org_controls.count_role(organization_id, OrgRole.SYSTEM_ADMIN) <= 1:
        raise Conflict(
            "the organization's last system administrator cannot be removed; make another one first",
            code="last_system_admin",
        )


def manages(ctx: Context, actor: Actor, organization_id: str) -> bool:
    """Whether ``actor`` may open the organization area (a system administrator): for a link."""
    with ctx.uow() as uow:
        try:
            organization_for(uow, actor, organization_id, OrgRole.SYSTEM_ADMIN)
        except (NotFound, PermissionDenied):
            return False
    return True
