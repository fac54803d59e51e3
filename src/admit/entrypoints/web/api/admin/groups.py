"""An organization's groups: list, create, see (with a page of members), change, delete, and add
or remove up to 10,000 members per call. Rules live in ``admin.groups``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query, Response
from pydantic import BaseModel, Field, StringConstraints

from admit.admin import groups
from admit.entrypoints.web.api import schemas as s
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.api.schemas import In
from admit.entrypoints.web.deps import Bearer, Ctx, as_caller

router = api_router(tags=["groups"])
BASE = "/organizations/{organization_id}/groups"

MemberId = Annotated[str, StringConstraints(min_length=1, max_length=32)]
GrantedRole = Literal["guest", "member", "admin"]


class GroupOut(s.Out):
    id: str
    organization_id: str
    display_name: str
    external_id: str | None
    source: str = Field(description="Where the group was made: console, api, scim or sso (a sign-in's groups claim).")
    workspace_id: str | None = Field(description="The workspace the group grants a role in, if any.")
    role: str | None = Field(description="The role the group's members hold at least in that workspace.")
    member_count: int | None
    created_at: datetime
    updated_at: datetime


class GroupPage(BaseModel):
    items: list[GroupOut]
    next_cursor: str | None


class GroupDetail(BaseModel):
    group: GroupOut
    members: list[s.MemberOut]
    next_cursor: str | None


class GroupIn(In):
    name: str = Field(min_length=1, max_length=groups.NAME_LIMIT)
    external_id: str | None = Field(None, max_length=groups.EXTERNAL_ID_LIMIT)
    workspace_id: str | None = Field(None, max_length=32, description="Grant `role` in this workspace.")
    role: GrantedRole | None = Field(None, description="No higher than the caller's own role in that workspace.")


class GroupPatch(In):
    name: str | None = Field(None, min_length=1, max_length=groups.NAME_LIMIT)
    external_id: str | None = Field(None, max_length=groups.EXTERNAL_ID_LIMIT)
    workspace_id: str | None = Field(None, max_length=32)
    role: GrantedRole | None = Field(None, description="null (with workspace_id null) removes the grant.")


class MembersIn(In):
    member_ids: list[MemberId] = Field(min_length=1, max_length=groups.MAX_MEMBERS_PER_CALL)


class MembershipOut(BaseModel):
    group: GroupOut
    added: int
    removed: int
    member_count: int


def _membership(change: groups.MembershipChange) -> dict[str, Any]:
    return {
        "group": change.group,
        "added": change.added,
        "removed": change.removed,
        "member_count": change.member_count,
    }


@router.get(BASE, response_model=GroupPage)
async def list_groups(
    organization_id: str,
    ctx: Ctx,
    token: Bearer,
    prefix: str | None = Query(None, max_length=groups.NAME_LIMIT, description="Names starting so (any case)."),
    cursor: str | None = Query(None, max_length=1024),
    limit: int = s.LIMIT,
) -> Any:
    """The organization's groups by name with their member counts, one page at a time."""
    return await as_caller(
        ctx,
        token,
        lambda actor: groups.list_groups(ctx, actor, organization_id, prefix=prefix, cursor=cursor, limit=limit),
        quick=True,
    )


@router.post(BASE, status_code=201, response_model=GroupOut)
async def create_group(organization_id: str, body: GroupIn, ctx: Ctx, token: Bearer) -> Any:
    """A new group (names are unique in the organization, whatever their case)."""
    return await as_caller(
        ctx,
        token,
        lambda actor: groups.create(
            ctx,
            actor,
            organization_id,
            body.name,
            external_id=body.external_id,
            workspace_id=body.workspace_id,
            role=body.role,
            source="api",
        ),
        quick=True,
    )


@router.get(BASE + "/{group_id}", response_model=GroupDetail)
async def get_group(
    organization_id: str,
    group_id: str,
    ctx: Ctx,
    token: Bearer,
    cursor: str | None = Query(None, max_length=32),
    limit: int = s.LIMIT,
) -> Any:
    """The group with a page of its members (follow ``next_cursor``)."""
    found = await as_caller(
        ctx,
        token,
        lambda actor: groups.get(ctx, actor, organization_id, group_id, cursor=cursor, limit=limit),
        quick=True,
    )
    return {"group": found.group, "members": found.members, "next_cursor": found.next_cursor}


@router.patch(BASE + "/{group_id}", response_model=GroupOut)
async def update_group(organization_id: str, group_id: str, body: GroupPatch, ctx: Ctx, token: Bearer) -> Any:
    """Rename, set the external ID, or change the role grant; only the fields sent change."""
    changes = body.model_dump(exclude_unset=True)
    return await as_caller(
        ctx, token, lambda actor: groups.update(ctx, actor, organization_id, group_id, changes), quick=True
    )


@router.delete(BASE + "/{group_id}", status_code=204)
async def delete_group(organization_id: str, group_id: str, ctx: Ctx, token: Bearer) -> Response:
    """Delete the group (its members stay in the directory)."""
    await as_caller(ctx, token, lambda actor: groups.delete(ctx, actor, organization_id, group_id), quick=True)
    return Response(status_code=204)


@router.get(BASE + "/{group_id}/members", response_model=GroupDetail)
async def list_group_members(
    organization_id: str,
    group_id: str,
    ctx: Ctx,
    token: Bearer,
    cursor: str | None = Query(None, max_length=32),
    limit: int = s.LIMIT,
) -> Any:
    """A page of the group's members, by member id."""
    return await get_group(organization_id, group_id, ctx, token, cursor, limit)


@router.post(BASE + "/{group_id}/members", response_model=MembershipOut)
async def add_members(organization_id: str, group_id: str, body: MembersIn, ctx: Ctx, token: Bearer) -> Any:
    """Add up to 10,000 members of the organization (any of its workspaces); those already in stay.
    An id that is not a member of the organization is a 404 and nothing changes."""
    change = await as_caller(
        ctx, token, lambda actor: groups.add_members(ctx, actor, organization_id, group_id, body.member_ids)
    )
    return _membership(change)


@router.post(BASE + "/{group_id}/members/remove", response_model=MembershipOut)
async def remove_members(organization_id: str, group_id: str, body: MembersIn, ctx: Ctx, token: Bearer) -> Any:
    """Take up to 10,000 members out of the group (ids not in it are ignored)."""
    change = await as_caller(
        ctx, token, lambda actor: groups.remove_members(ctx, actor, organization_id, group_id, body.member_ids)
    )
    return _membership(change)
