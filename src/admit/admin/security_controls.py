"""Security controls (issue 17; enterprise plan only): the email domains people may be invited
or added with, and who may invite (system administrators only, or workspace administrators
too). Changing them on another plan is refused; controls stored while on the enterprise plan
rest (apply nowhere) if the plan changes.

Every door goes through :func:`check_email` (a new member with an email: the console, the REST
API, the CLI, imports, SCIM creates: :func:`admit.admin.invitations.new_member`; an email
changed by :func:`admit.admin.members.update`) and :func:`check_inviter`
(:func:`admit.admin.invitations.open_invitation`: invitations from every door, provisioning
with ``invite``, imports that invite, and SCIM's automatic invitation). A domain matches
exactly (``example.com`` does not admit ``mail.example.com``: list both). "Who may invite"
governs people: with ``system_admins`` a workspace administrator who is not a system
administrator is refused, and so is an API token below the owner role or scoped to one
workspace; an identity provider's automatic invitation (SCIM) and the operator are not."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from admit.admin.organization_roles import OrgRole, is_system_admin, organization_for
from admit.domain.errors import PermissionDenied, ValidationFailed
from admit.domain.events import EventType
from admit.domain.ports import UnitOfWork
from admit.domain.records import Record
from admit.domain.roles import Role
from admit.shared.context import Actor, ActorKind, Context, record

ENTERPRISE = "enterprise"
WHO = ("system_admins", "workspace_admins")
MAX_DOMAINS = 50
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")


@dataclass(frozen=True)
class SecurityControls:
    organization_id: str
    plan: str
    available: bool  # the enterprise plan
    allowed_email_domains: list[str]
    who_may_invite: str


def parse_domains(value: object) -> list[str]:
    """A list of domains from a list or a comma/space separated string; [] allows any."""
    if isinstance(value, str):
        if len(value) > MAX_DOMAINS * 254:
            raise ValidationFailed(f"at most {MAX_DOMAINS} domains", field="allowed_email_domains")
        items: list[object] = [part for part in re.split(r"[\s,;]+", value) if part]
    elif isinstance(value, list):
        items = list(value)
    else:
        raise ValidationFailed("allowed email domains are a list of domains", field="allowed_email_domains")
    if len(items) > MAX_DOMAINS:
        raise ValidationFailed(f"at most {MAX_DOMAINS} domains", field="allowed_email_domains")
    domains: list[str] = []
    for item in items:
        if not isinstance(item, str) or len(item) > 254:
            raise ValidationFailed("each allowed email domain is a domain name", field="allowed_email_domains")
        domain = item.strip().lower().lstrip("@")
        if not _DOMAIN.match(domain):
            raise ValidationFailed(
                f"{item[:60]!r} is not a domain name such as example.com", field="allowed_email_domains"
            )
        if domain not in domains:
            domains.append(domain)
    return domains


def parse_who(value: object) -> str:
    if isinstance(value, str) and value.strip().lower().replace("-", "_") in WHO:
        return value.strip().lower().replace("-", "_")
    raise ValidationFailed("who may invite is system_admins or workspace_admins", field="who_may_invite")


def _view(org: Record) -> SecurityControls:
    return SecurityControls(
        organization_id=org.id,
        plan=org.plan,
        available=org.plan == ENTERPRISE,
        allowed_email_domains=list(org.allowed_email_domains or []),
        who_may_invite=org.who_may_invite,
    )


def get(ctx: Context, actor: Actor, organization_id: str) -> SecurityControls:
    with ctx.uow() as uow:
        org = organization_for(uow, actor, organization_id, OrgRole.SYSTEM_ADMIN)
    return _view(org)


def update(
    ctx: Context,
    actor: Actor,
    organization_id: str,
    *,
    allowed_email_domains: object = None,
    who_may_invite: object = None,
) -> SecurityControls:
    """Change the controls (system administrators, enterprise plan); None leaves one as it is."""
    changes: dict[str, Any] = {}
    if allowed_email_domains is not None:
        changes["allowed_email_domains"] = parse_domains(allowed_email_domains)
    if who_may_invite is not None:
        changes["who_may_invite"] = parse_who(who_may_invite)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        org = organization_for(uow, actor, organization_id, OrgRole.SYSTEM_ADMIN)
        if org.plan != ENTERPRISE:
            raise PermissionDenied(
                f"security controls are part of the enterprise plan; this organization is on the {org.plan} plan",
                code="enterprise_plan_required",
                field=next(iter(changes), "allowed_email_domains"),
            )
        if changes:
            uow.org_controls.update(organization_id, **changes)
            record(
                uow, actor, EventType.ORGANIZATION_SECURITY_CHANGED, "organization", organization_id, now,
                organization_id=organization_id, **changes,
            )  # fmt: skip
        updated = uow.organizations.get(organization_id)
        uow.commit()
    assert updated is not None
    return _view(updated)


def _controls(uow: UnitOfWork, organization_id: str) -> Record | None:
    org = uow.organizations.get(organization_id)
    return org if org is not None and org.plan == ENTERPRISE else None


def check_email(
    uow: UnitOfWork, organization_id: str, email: str | None, *, field: str = "email", org: Record | None = None
) -> None:
    """Refuse an email address outside the organization's allowed domains (if it has any);
    ``org``: the organization's row, if already read."""
    if not email:
        return
    org = _controls(uow, organization_id) if org is None else (org if org.plan == ENTERPRISE else None)
    allowed = list(org.allowed_email_domains or []) if org is not None else []
    if not allowed:
        return
    domain = email.rpartition("@")[2].lower()
    if domain not in allowed:
        raise ValidationFailed(
            f"this organization only invites and adds addresses at {', '.join(allowed)}; {domain} is not allowed",
            field=field,
            code="domain_not_allowed",
        )


def check_inviter(uow: UnitOfWork, actor: Actor, organization_id: str, email: str | None) -> None:
    """The organization's rules for an invitation about to be opened by ``actor``."""
    check_email(uow, organization_id, email)
    org = _controls(uow, organization_id)
    if org is None or org.who_may_invite != "system_admins":
        return
    if actor.kind in (ActorKind.OPERATOR, ActorKind.SYSTEM, ActorKind.SCIM):
        return
    if actor.kind is ActorKind.API_TOKEN and actor.workspace_id is None and actor.role is Role.OWNER:
        return
    if is_system_admin(uow, actor, organization_id):
        return
    raise PermissionDenied(
        "in this organization only system administrators may invite", code="invite_restricted", field="email"
    )
