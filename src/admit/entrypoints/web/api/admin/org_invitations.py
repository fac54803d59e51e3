"""Issue 17: invitations to join an organization's account, their merge plans, and the invitee's
answers (a signed-in person's session as the bearer). Rules live in
``admin.organization_invitations`` and ``domain.merge``."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from admit.admin import organization_invitations as oi
from admit.domain.merge import MergePlan
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.api.schemas import In
from admit.entrypoints.web.deps import Bearer, Ctx, as_account, as_caller, blocking

router = api_router(tags=["organizations"])
BASE = "/organizations/{organization_id}/invitations"
MINE = "/me/organization-invitations"
BY_LINK = "/organization-invitations"


class OrgInvitationIn(In):
    email: str = Field(max_length=320, description="Whom to invite to join the organization's account.")
    language: Literal["en", "de", "fr"] = Field("en", description="The email's language.")


class OrgInvitationOut(BaseModel):
    id: str
    organization_id: str
    organization_name: str
    email: str
    state: str = Field(description="pending, accepted, declined, withdrawn or expired")
    language: str
    inviter_name: str | None
    expires_at: datetime
    created_at: datetime
    answered_at: datetime | None
    acquired_organization_id: str | None = Field(description="The invitee's account, acquired and closed.")
    refusal: str | None = Field(description="Why the last attempt to accept was refused.")
    enterprise: bool = Field(description="The invitee administers an enterprise account: it cannot be acquired.")
    refusal_code: str | None = Field(
        None, description="The last refusal's code: enterprise, several_accounts, already_member, no_workspace or"
        " no_licences."
    )  # fmt: skip


class LinkTokenIn(In):
    token: str = Field(min_length=1, max_length=200, description="The token from the invitation's link.")


class NewAccountAcceptIn(LinkTokenIn):
    password: str = Field(min_length=1, max_length=1024, description="The new account's password.")
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=100)


class PersonOut(BaseModel):
    member_id: str
    account_id: str | None
    workspace_id: str
    status: str
    licence: str
    role: str
    email: str | None


class GroupMoveOut(BaseModel):
    group_id: str
    name: str
    new_name: str
    renamed: bool


class SettingChangeOut(BaseModel):
    name: str
    before: Any
    after: Any


class AccessOut(BaseModel):
    kind: str = Field(
        description="api_token, scim_token, webhook (disabled), app (its tokens revoked)"
        " or sso_provider (no longer used)"
    )
    id: str
    name: str


class MergePlanOut(BaseModel):
    kind: str = Field(description="free_user, paid_user, business_admin or enterprise_admin")
    allowed: bool
    refusal: str | None = Field(description="enterprise, several_accounts, already_member, no_workspace, no_licences")
    reason: str | None
    inviting_id: str
    inviting_name: str
    acquired_id: str | None
    acquired_name: str | None
    workspace_id: str | None = Field(description="The workspace a free user joins.")
    workspace_name: str | None
    licence: str | None = Field(description="A free user's licence type: licensed or viewer.")
    workspaces: list[tuple[str, str]] = Field(description="[id, name] of each workspace that moves.")
    people: list[PersonOut]
    licences_needed: int
    licences_available: int | None = Field(description="None: the inviting organization does not enforce licences.")
    roles_lost: list[str] = Field(description="Accounts that lose system administration.")
    roles_kept: list[str] = Field(description="Accounts that keep group administration.")
    settings_changed: list[SettingChangeOut]
    groups: list[GroupMoveOut]
    revoked: list[AccessOut] = Field(description="The acquired organization's access that will be revoked.")


class MergeResultOut(BaseModel):
    invitation: OrgInvitationOut
    plan: MergePlanOut
    member_id: str | None


class NewAccountOut(MergeResultOut):
    account_id: str
    session_token: str = Field(description="The new account's session, shown once: send as 'Authorization: Bearer …'.")


def plan_out(plan: MergePlan) -> dict[str, Any]:
    out = asdict(plan)
    out["groups"] = [{**asdict(g), "renamed": g.renamed} for g in plan.groups]
    return out


@router.post(BASE, status_code=201, response_model=OrgInvitationOut)
async def invite(organization_id: str, body: OrgInvitationIn, ctx: Ctx, token: Bearer) -> Any:
    """Invite a person to join the organization's account (system administrators; business and
    enterprise plans). The email carries the link; it is valid 7 days."""
    return await as_caller(
        ctx, token, lambda actor: oi.invite(ctx, actor, organization_id, body.email, language=body.language)[0]
    )


@router.get(BASE, response_model=list[OrgInvitationOut])
async def list_invitations(organization_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: oi.list_invitations(ctx, actor, organization_id))


@router.get(f"{BASE}/{{org_invitation_id}}", response_model=OrgInvitationOut)
async def get_invitation(organization_id: str, org_invitation_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: oi.get_invitation(ctx, actor, organization_id, org_invitation_id))


@router.post(f"{BASE}/{{org_invitation_id}}/withdraw", response_model=OrgInvitationOut)
async def withdraw(organization_id: str, org_invitation_id: str, ctx: Ctx, token: Bearer) -> Any:
    """Withdraw a pending invitation (system administrators): its link stops working and says the
    invitation was withdrawn. One that is no longer pending is a 409 ``not_pending``."""
    return await as_caller(
        ctx, token, lambda actor: oi.withdraw(ctx, actor, organization_id, org_invitation_id), quick=True
    )


@router.get(f"{BASE}/{{org_invitation_id}}/merge-plan", response_model=MergePlanOut)
async def merge_plan(organization_id: str, org_invitation_id: str, ctx: Ctx, token: Bearer) -> Any:
    """What accepting would do as of now: who and what moves, licences needed and available,
    roles lost, settings changed, group name collisions and their resolution."""
    return await as_caller(
        ctx, token, lambda actor: plan_out(oi.merge_plan(ctx, actor, organization_id, org_invitation_id))
    )


@router.get(MINE, response_model=list[OrgInvitationOut])
async def my_invitations(ctx: Ctx, token: Bearer) -> Any:
    """Open invitations to join an organization's account, to the signed-in person's addresses."""
    return await as_account(ctx, token, lambda account_id: oi.pending_for_account(ctx, account_id))


@router.get(f"{MINE}/{{org_invitation_id}}/merge-plan", response_model=MergePlanOut)
async def my_merge_plan(org_invitation_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_account(
        ctx,
        token,
        lambda account_id: plan_out(oi.plan_for_account(ctx, account_id, invitation_id=org_invitation_id)[1]),
    )


@router.post(f"{MINE}/{{org_invitation_id}}/accept", response_model=MergeResultOut)
async def accept(org_invitation_id: str, ctx: Ctx, token: Bearer) -> Any:
    """Accept: the bearer must be a session begun within the last 5 minutes (else 403
    ``reauthenticate``); a plan that cannot be carried out is a 409 ``merge_refused`` and nothing
    changes."""

    def work(_: str) -> Any:
        result = oi.accept(ctx, token or "", invitation_id=org_invitation_id)
        return {"invitation": result.invitation, "plan": plan_out(result.plan), "member_id": result.member_id}

    return await as_account(ctx, token, work)


@router.post(f"{MINE}/{{org_invitation_id}}/decline", response_model=OrgInvitationOut)
async def decline(org_invitation_id: str, ctx: Ctx, token: Bearer) -> Any:
    """Decline: nothing changes but the invitation."""
    return await as_account(ctx, token, lambda account_id: oi.decline(ctx, account_id, invitation_id=org_invitation_id))


@router.post(f"{BY_LINK}/accept", status_code=201, response_model=NewAccountOut)
async def accept_by_link(body: NewAccountAcceptIn, ctx: Ctx) -> Any:
    """Accept with the link's token when the invited address has no account: the link proves the
    address, so an account is created with it and this password (under the password policy of
    the workspace the person joins), it joins as a free user, and its session starts, in one
    transaction. An address that has an account is a 409 ``sign_in_required``: sign in and
    accept as yourself (``/me/organization-invitations/{id}/accept``)."""

    def work() -> Any:
        result = oi.accept_as_new_account(
            ctx, body.token, body.password, first_name=body.first_name, last_name=body.last_name
        )
        return {
            "invitation": result.invitation, "plan": plan_out(result.plan), "member_id": result.member_id,
            "account_id": result.account_id, "session_token": result.session,
        }  # fmt: skip

    return await blocking(work)


@router.post(f"{BY_LINK}/decline", response_model=OrgInvitationOut)
async def decline_by_link(body: LinkTokenIn, ctx: Ctx) -> Any:
    """Decline with the link's token, signed in or not: nothing changes but the invitation."""
    return await blocking(lambda: oi.decline_by_link(ctx, body.token))
