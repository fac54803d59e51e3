"""What Admit tells an app about a person: the same claims in the ID token, the access token and
the userinfo answer. ``sub`` is the account's id (stable for the account, whichever workspace);
with the ``workspace`` scope the claims name the one workspace the code was issued for, the
person's role there and what the role allows (``permissions``: Admit's permission names, sorted),
and ``groups``: the department and the job profile as ``department:<name>`` and
``job_profile:<name>`` (the groups an administrator sorts people into), then the display names
of the person's organization groups (``admin.groups``), by name. The role is the effective one:
the higher of the member's own and what their groups grant in the workspace."""

from __future__ import annotations

from typing import Any

from admit.domain.members import MemberStatus
from admit.domain.ports import UnitOfWork
from admit.domain.roles import Role

WORKSPACE_CLAIMS = (
    "org_id",
    "org_name",
    "workspace_id",
    "workspace_name",
    "role",
    "permissions",
    "department",
    "job_profile",
    "groups",
)


def _email(uow: UnitOfWork, account: Any) -> str | None:
    if account.credential_kind == "external":
        return str(account.external_email) if account.external_email else None
    emails = [value for kind, value in uow.accounts.identifiers(account.id) if kind == "email"]
    return emails[0] if emails else None


def person_claims(
    uow: UnitOfWork, account_id: str, workspace_id: str | None, organization_id: str, scopes: list[str]
) -> dict[str, Any] | None:
    """The claims for these scopes, or None if the account (or its membership in the
    workspace) is no longer active."""
    account = uow.accounts.get(account_id)
    if account is None or account.status != "active":
        return None
    member = None
    if workspace_id is not None:
        member = uow.members.for_account(organization_id, workspace_id, account_id)
        if member is None or member.status != MemberStatus.ACTIVE:
            return None
    claims: dict[str, Any] = {"sub": account_id}
    if "profile" in scopes:
        first = account.first_name or (member.first_name if member else None)
        last = account.last_name or (member.last_name if member else None)
        claims.update(given_name=first, family_name=last, name=" ".join(p for p in (first, last) if p) or None)
        claims["locale"] = account.language or (member.language if member else None)
    if "email" in scopes:
        email = _email(uow, account) or (member.email if member else None)
        # Admit verified the address: an invitation link or code reached it, or the provider vouched.
        claims.update(email=email, email_verified=email is not None)
    if "workspace" in scopes and member is not None:
        claims.update(_workspace_claims(uow, member))
    return {name: value for name, value in claims.items() if value is not None}


def _workspace_claims(uow: UnitOfWork, member: Any) -> dict[str, Any]:
    workspace = uow.workspaces.get(member.organization_id, member.workspace_id)
    organization = uow.organizations.get(member.organization_id)
    return {
        "org_id": member.organization_id,
        "org_name": organization.name if organization else None,
        "workspace_id": member.workspace_id,
        "workspace_name": workspace.name if workspace else None,
        "role": member.role,
        "permissions": sorted(permission.value for permission in Role(member.role).permissions),
        "department": member.department,
        "job_profile": member.job_profile,
        "groups": [
            *(
                f"{kind}:{name}"
                for kind, name in (("department", member.department), ("job_profile", member.job_profile))
                if name
            ),
            *uow.groups.names_for_member(member.id),
        ],
    }
