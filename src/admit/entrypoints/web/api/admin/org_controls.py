"""Issue 17: an organization's administrators (system and group administrators), its licence
report and members' licence types, and its security controls. Rules live in
``admin.organization_roles``, ``admin.licences`` and ``admin.security_controls``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Response
from pydantic import BaseModel, Field, StringConstraints

from admit.admin import licences, organization_roles, security_controls
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.api.schemas import In
from admit.entrypoints.web.deps import Bearer, Ctx, as_caller

router = api_router(tags=["organizations"])
Domain = Annotated[str, StringConstraints(min_length=1, max_length=254)]
BASE = "/organizations/{organization_id}"


class AdminOut(BaseModel):
    account_id: str
    role: str = Field(description="system_admin or group_admin")
    name: str
    email: str | None
    since: datetime


class AdminIn(In):
    email: str | None = Field(None, max_length=320, description="Of a member of the organization with an account.")
    account_id: str | None = Field(None, max_length=32, description="Instead of the email.")
    role: Literal["system_admin", "group_admin"] = "system_admin"


class WorkspaceSeatsOut(BaseModel):
    workspace_id: str
    name: str
    used: int
    reserved: int


class LicencesOut(BaseModel):
    organization_id: str
    seats: int
    enforced: bool = Field(description="Whether a new licensed user is refused when no seat is free.")
    reserve_seats_for_invitations: bool
    used: int = Field(description="Licensed members who are active or suspended.")
    reserved: int = Field(description="Licensed members not yet active, while invitations reserve seats.")
    free: int
    workspaces: list[WorkspaceSeatsOut]


class LicencesPatch(In):
    reserve_seats_for_invitations: bool | None = None


class LicenceIn(In):
    licence: Literal["licensed", "viewer"] | None = Field(None, description="licensed (takes a seat) or viewer (free)")


class MemberLicenceOut(BaseModel):
    member_id: str
    licence: str


class SecurityOut(BaseModel):
    organization_id: str
    plan: str
    available: bool = Field(description="Security controls are part of the enterprise plan.")
    allowed_email_domains: list[str]
    who_may_invite: str


class SecurityPatch(In):
    allowed_email_domains: list[Domain] | None = Field(
        None, max_length=security_controls.MAX_DOMAINS, description="[] allows any domain."
    )
    who_may_invite: Literal["system_admins", "workspace_admins"] | None = None


@router.get(f"{BASE}/administrators", response_model=list[AdminOut])
async def list_administrators(organization_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: organization_roles.list_admins(ctx, actor, organization_id))


@router.post(f"{BASE}/administrators", status_code=201, response_model=AdminOut)
async def add_administrator(organization_id: str, body: AdminIn, ctx: Ctx, token: Bearer) -> Any:
    """Make a member with an account a system or group administrator (system administrators only)."""
    return await as_caller(
        ctx,
        token,
        lambda actor: organization_roles.grant(
            ctx, actor, organization_id, body.role, email=body.email, account_id=body.account_id
        ),
    )


@router.delete(f"{BASE}/administrators/{{account_id}}", status_code=204)
async def remove_administrator(organization_id: str, account_id: str, ctx: Ctx, token: Bearer) -> Response:
    """The organization's last system administrator cannot be removed (409)."""
    await as_caller(ctx, token, lambda actor: organization_roles.revoke(ctx, actor, organization_id, account_id))
    return Response(status_code=204)


@router.get(f"{BASE}/licences", response_model=LicencesOut)
async def licence_report(organization_id: str, ctx: Ctx, token: Bearer) -> Any:
    """Seats used, reserved and free, by workspace."""
    return await as_caller(ctx, token, lambda actor: licences.report(ctx, actor, organization_id))


@router.patch(f"{BASE}/licences", response_model=LicencesOut)
async def change_licences(organization_id: str, body: LicencesPatch, ctx: Ctx, token: Bearer) -> Any:
    """Whether pending invitations reserve seats."""
    reserve = body.reserve_seats_for_invitations

    def run(actor: Any) -> Any:
        if reserve is None:
            return licences.report(ctx, actor, organization_id)
        return licences.set_reservation(ctx, actor, organization_id, reserve)

    return await as_caller(ctx, token, run)


@router.patch(f"{BASE}/members/{{member_id}}/licence", response_model=MemberLicenceOut)
async def change_member_licence(organization_id: str, member_id: str, body: LicenceIn, ctx: Ctx, token: Bearer) -> Any:
    """Licensed user or resource viewer; no free seat is a 409 that says how many are in use and reserved."""

    def run(actor: Any) -> Any:
        member = licences.set_licence(ctx, actor, member_id, body.licence, organization_id=organization_id)
        return {"member_id": member.id, "licence": member.licence}

    return await as_caller(ctx, token, run)


@router.get(f"{BASE}/security", response_model=SecurityOut)
async def get_security(organization_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: security_controls.get(ctx, actor, organization_id))


@router.patch(f"{BASE}/security", response_model=SecurityOut)
async def change_security(organization_id: str, body: SecurityPatch, ctx: Ctx, token: Bearer) -> Any:
    """Allowed email domains and who may invite (enterprise plan; 403 on other plans)."""
    return await as_caller(
        ctx,
        token,
        lambda actor: security_controls.update(
            ctx,
            actor,
            organization_id,
            allowed_email_domains=body.allowed_email_domains,
            who_may_invite=body.who_may_invite,
        ),
    )
