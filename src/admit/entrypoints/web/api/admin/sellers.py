"""Issue 17 (AppXite): a seller's customer organizations and its invitations into them. Rules
live in ``admin.sellers``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Query
from pydantic import BaseModel, Field

from admit.admin import sellers
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.api.schemas import In, InvitationOut
from admit.entrypoints.web.deps import Bearer, Ctx, as_caller

router = api_router(tags=["organizations"])
BASE = "/organizations/{organization_id}"


class CustomerOut(BaseModel):
    id: str
    name: str
    kind: str = Field(description="customer")
    plan: str
    seats: int
    parent_id: str | None = Field(description="The seller.")
    created_at: datetime


class CustomerIn(In):
    name: str = Field(max_length=200)
    seats: int | None = Field(None, ge=0, le=1_000_000)


class ProviderChoiceOut(BaseModel):
    id: str = Field(description="'password' (the organization's own user database) or an SSO provider's id.")
    name: str


class TargetWorkspaceOut(BaseModel):
    id: str
    name: str
    identity_providers: list[ProviderChoiceOut]


class TargetOut(BaseModel):
    organization_id: str
    name: str
    kind: str = Field(description="seller (the seller itself) or customer")
    workspaces: list[TargetWorkspaceOut]


class SellerInvitationIn(In):
    organization_id: str = Field(max_length=32, description="The seller itself or one of its customers.")
    workspace_id: str = Field(max_length=32)
    email: str = Field(max_length=320)
    role: str = Field("member", max_length=10, description="Never above the inviter's role in that workspace.")
    identity_provider: str = Field("password", max_length=32, description="'password' or an SSO provider's id.")
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=100)
    message: str | None = Field(None, max_length=1000)


@router.get(f"{BASE}/customers", response_model=list[CustomerOut])
async def list_customers(
    organization_id: str, ctx: Ctx, token: Bearer, q: str | None = Query(None, max_length=100)
) -> Any:
    """The seller's customer organizations whose name contains ``q``."""
    return await as_caller(ctx, token, lambda actor: sellers.list_customers(ctx, actor, organization_id, q=q))


@router.post(f"{BASE}/customers", status_code=201, response_model=CustomerOut)
async def create_customer(organization_id: str, body: CustomerIn, ctx: Ctx, token: Bearer) -> Any:
    """A customer organization under the seller (the operator's first one makes the organization a seller)."""
    return await as_caller(
        ctx, token, lambda actor: sellers.create_customer(ctx, actor, organization_id, body.name, seats=body.seats)
    )


@router.get(f"{BASE}/invitation-targets", response_model=list[TargetOut])
async def invitation_targets(
    organization_id: str, ctx: Ctx, token: Bearer, q: str | None = Query(None, max_length=100)
) -> Any:
    """The seller and its customers (searchable by name) with their workspaces and identity providers."""
    return await as_caller(ctx, token, lambda actor: sellers.targets(ctx, actor, organization_id, q=q))


@router.post(f"{BASE}/seller-invitations", status_code=201, response_model=InvitationOut)
async def invite_into_customer(organization_id: str, body: SellerInvitationIn, ctx: Ctx, token: Bearer) -> Any:
    """Invite a person into a workspace of the seller or of one of its customers, valid 7 days."""
    return await as_caller(
        ctx,
        token,
        lambda actor: sellers.invite(
            ctx,
            actor,
            organization_id,
            organization_id=body.organization_id,
            workspace_id=body.workspace_id,
            email=body.email,
            role=body.role,
            identity_provider=body.identity_provider,
            first_name=body.first_name,
            last_name=body.last_name,
            message=body.message,
        ),
    )
