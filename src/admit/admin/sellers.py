"""Seller and customer organizations (issue 17, AppXite's seller platform).

An organization's ``kind`` is ``direct`` (the default), ``seller`` or ``customer``; a customer's
``parent_id`` is its seller. The operator makes an organization a seller by creating its first
customer; from then on the seller's system administrators (and an organization-wide owner token
of the seller) create more. A customer cannot have customers.

**Delegated role**: a seller's system administrator acts as
:data:`admit.shared.access.DELEGATED_ROLE` (admin, never owner) in every workspace of the
seller's customers (:func:`admit.shared.access.delegated_role`): the directory, invitations,
suspending and removing people, all through the ordinary services. Nothing reaches the seller's
siblings or parents, and nobody in a customer ever sees the seller or another customer (404).

**Invitations into a customer**: the seller's system administrator chooses the target
organization (the seller itself or one of its customers, from :func:`targets`, searchable by
name), one of its workspaces, a role (never above the inviter's role there: owner in the seller's
own workspaces, the delegated admin in a customer's) and an identity provider: ``password`` (the
organization's own user database) or one of the target organization's SSO providers that the
workspace allows. The invitation lasts :data:`INVITATION_DAYS` days whatever the workspace's
lifetime, and the invitee joins through the ordinary accept flow (password under the target
workspace's policy, its terms), only by the chosen method
(:func:`admit.flows.invitation.claims.invitation_policy`). Seller API tokens are bound to their
own organization: they invite into the seller's workspaces only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from admit.admin.invitations import InvitationView, _reinvitable, new_member, open_invitation, view
from admit.admin.organization_roles import OrgRole, organization_for
from admit.admin.profiles import MemberInput
from admit.admin.tenancy import _name
from admit.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from admit.domain.events import EventType
from admit.domain.login_policy import LoginPolicy
from admit.domain.ports import UnitOfWork
from admit.domain.records import Record, Workspace
from admit.domain.roles import Permission, Role, ensure_can_grant
from admit.shared.access import workspace_for
from admit.shared.context import Actor, ActorKind, Context, record

DIRECT, SELLER, CUSTOMER = "direct", "seller", "customer"
INVITATION_DAYS = 7
PASSWORD = "password"
ID_LIMIT = 32
QUERY_LIMIT = 100
LIST_LIMIT = 200


@dataclass(frozen=True)
class CustomerView:
    id: str
    name: str
    kind: str
    plan: str
    seats: int
    parent_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class TargetView:
    """An organization a seller's administrator may invite into, with its workspaces and the
    identity providers each workspace allows (``password`` first when it allows passwords)."""

    organization_id: str
    name: str
    kind: str
    workspaces: list[dict[str, Any]]


def _customer_view(row: Record) -> CustomerView:
    return CustomerView(row.id, row.name, row.kind, row.plan, row.seats, row.parent_id, row.created_at)


def _seller(uow: UnitOfWork, actor: Actor, seller_id: object) -> Record:
    """The seller, if ``actor`` is its system administrator, its owner token or the operator."""
    org = organization_for(uow, actor, seller_id, OrgRole.SYSTEM_ADMIN)
    if org.kind != SELLER:
        raise Conflict("this organization is not a seller", code="not_a_seller")
    return org


def _query(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > QUERY_LIMIT or "\x00" in value:
        raise ValidationFailed(f"a search of at most {QUERY_LIMIT} characters", field="q")
    return value.strip().casefold()


def _customers(uow: UnitOfWork, seller_id: str, query: str) -> list[Record]:
    rows = [r for r in uow.organizations.list(seller_id) if r.parent_id == seller_id and r.kind == CUSTOMER]
    return [r for r in rows if query in r.name.casefold()][:LIST_LIMIT]


def list_customers(ctx: Context, actor: Actor, seller_id: str, *, q: object = None) -> list[CustomerView]:
    """The seller's customers, oldest first, whose name contains ``q`` (any case)."""
    query = _query(q)
    with ctx.uow() as uow:
        _seller(uow, actor, seller_id)
        return [_customer_view(r) for r in _customers(uow, seller_id, query)]


def create_customer(ctx: Context, actor: Actor, seller_id: str, name: object, *, seats: object = None) -> CustomerView:
    """A customer organization under the seller (on the seller's plan). The operator may do this
    for a ``direct`` organization, which becomes a seller; a customer never has customers."""
    clean = _name(name if isinstance(name, str) else "")
    if seats is not None and (not isinstance(seats, int) or isinstance(seats, bool) or not 0 <= seats <= 1_000_000):
        raise ValidationFailed("seats: a whole number from 0 to 1000000", field="seats")
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        org = organization_for(uow, actor, seller_id, OrgRole.SYSTEM_ADMIN)
        uow.org_controls.lock(seller_id)
        if org.kind == CUSTOMER:
            raise Conflict("a customer organization cannot have customers", code="customer_of_customer")
        if org.kind != SELLER:
            if actor.kind is not ActorKind.OPERATOR:
                raise PermissionDenied("only the operator makes an organization a seller", code="not_a_seller")
            uow.org_controls.update(seller_id, kind=SELLER)
        if any(r.name.casefold() == clean.casefold() for r in _customers(uow, seller_id, "")):
            raise Conflict("the seller already has a customer with this name", code="customer_exists", field="name")
        customer_id = uow.organizations.add(
            name=clean, plan=org.plan, seats=10 if seats is None else seats, parent_id=seller_id,
            kind=CUSTOMER, created_at=now,
        )  # fmt: skip
        record(
            uow, actor, EventType.ORGANIZATION_CREATED, "organization", customer_id, now,
            organization_id=customer_id, plan=org.plan, seller_id=seller_id,
        )  # fmt: skip
        row = uow.organizations.get(customer_id)
        assert row is not None
        uow.commit()
    return _customer_view(row)


def _methods(uow: UnitOfWork, workspace: Workspace) -> list[dict[str, str]]:
    """The identity providers a seller's invitation into ``workspace`` may name."""
    policy = LoginPolicy.of(workspace.login_methods, workspace.sso_required)
    found = [{"id": PASSWORD, "name": "password"}] if policy.password_allowed else []
    rows = {r.id: r for r in uow.identity_providers.by_ids(workspace.organization_id, policy.sso_providers)}
    found += [{"id": p, "name": rows[p].name} for p in policy.sso_providers if p in rows]
    return found


def targets(ctx: Context, actor: Actor, seller_id: str, *, q: object = None) -> list[TargetView]:
    """The organizations a seller's administrator may invite into (the seller first, then its
    customers) whose name contains ``q``, each with its workspaces and their identity providers."""
    query = _query(q)
    with ctx.uow() as uow:
        seller = _seller(uow, actor, seller_id)
        orgs = ([seller] if query in seller.name.casefold() else []) + _customers(uow, seller_id, query)
        return [
            TargetView(
                org.id,
                org.name,
                org.kind,
                [
                    {"id": w.id, "name": w.name, "identity_providers": _methods(uow, w)}
                    for w in uow.workspaces.list(org.id)
                ],
            )
            for org in orgs
        ]


def _target(uow: UnitOfWork, seller: Record, organization_id: object) -> Record:
    if not isinstance(organization_id, str) or not organization_id or len(organization_id) > ID_LIMIT:
        raise NotFound("organization not found", field="organization_id")
    if organization_id == seller.id:
        return seller
    org = uow.organizations.get(organization_id)
    if org is None or org.kind != CUSTOMER or org.parent_id != seller.id:
        raise NotFound("organization not found", field="organization_id")
    return org


def _login_method(uow: UnitOfWork, workspace: Workspace, value: object) -> str:
    allowed = {m["id"] for m in _methods(uow, workspace)}
    if isinstance(value, str) and value in allowed:
        return PASSWORD if value == PASSWORD else f"sso:{value}"
    raise ValidationFailed(
        "choose the organization's user database (password) or one of its SSO providers that the workspace allows",
        field="identity_provider",
    )


def invite(
    ctx: Context,
    actor: Actor,
    seller_id: str,
    *,
    organization_id: object,
    workspace_id: object,
    email: object,
    role: object = "member",
    identity_provider: object = PASSWORD,
    first_name: object = None,
    last_name: object = None,
    message: str | None = None,
) -> InvitationView:
    """Invite a person into a workspace of the seller or of one of its customers, with a role and
    the identity provider they must join with; valid :data:`INVITATION_DAYS` days."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        seller = _seller(uow, actor, seller_id)
        target = _target(uow, seller, organization_id)
        if not isinstance(workspace_id, str) or len(workspace_id) > ID_LIMIT:
            raise NotFound("workspace not found", field="workspace_id")
        if uow.workspaces.get(target.id, workspace_id) is None:
            raise NotFound("workspace not found", field="workspace_id")
        workspace, granter = workspace_for(uow, actor, workspace_id, Permission.INVITE)
        if not isinstance(role, str) or role not in {r.value for r in Role}:
            raise ValidationFailed("the role is owner, admin, member or guest", field="role")
        person = MemberInput(
            email=email if isinstance(email, str) else None,
            first_name=first_name if isinstance(first_name, str) else None,
            last_name=last_name if isinstance(last_name, str) else None,
            role=role,
        )
        if not person.email:
            raise ValidationFailed("an email address is required", field="email")
        values = person.cleaned(workspace, ctx.phone_region)
        ensure_can_grant(granter, Role(values["role"]))
        method = _login_method(uow, workspace, identity_provider)
        existing = uow.members.find_live(
            workspace.organization_id, workspace.id, email=values["email"], username=None, external_id=None
        )
        member = (
            new_member(uow, actor, workspace, values, now, invited=True) if existing is None else _reinvitable(existing)
        )
        invitation = open_invitation(
            ctx, uow, actor, workspace, member, message=message, now=now,
            valid_for=timedelta(days=INVITATION_DAYS), login_method=method,
        )  # fmt: skip
        uow.commit()
    return view(invitation, now)


def is_seller(ctx: Context, actor: Actor, organization_id: str) -> bool:
    """Whether ``actor`` may open the seller's customers page: for a link from the organization area."""
    with ctx.uow() as uow:
        try:
            _seller(uow, actor, organization_id)
        except (NotFound, PermissionDenied, Conflict):
            return False
    return True
