"""An organization's SCIM tokens: what identity providers present at ``/scim/v2``. A token's
secret is in the answer to its creation only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Response

from admit.admin import scim_tokens
from admit.entrypoints.web.api import schemas as s
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.deps import Bearer, Ctx, as_caller

router = api_router(tags=["SCIM tokens"])
PATH = "/organizations/{organization_id}/scim-tokens"
Workspace = Annotated[str | None, Query(max_length=32, description="Act from this workspace (a person must).")]


@router.get(PATH, response_model=list[s.ScimTokenOut])
async def list_scim_tokens(organization_id: str, ctx: Ctx, token: Bearer, workspace_id: Workspace = None) -> Any:
    """The tokens, newest first (never their secrets). From a workspace: its tokens and those for
    every workspace."""
    return await as_caller(
        ctx,
        token,
        lambda actor: scim_tokens.list_tokens(ctx, actor, organization_id, workspace_id=workspace_id),
        quick=True,
    )


@router.post(PATH, status_code=201, response_model=s.ScimTokenCreated)
async def create_scim_token(organization_id: str, body: s.ScimTokenIn, ctx: Ctx, token: Bearer) -> Any:
    """A SCIM bearer token (`adm_scm_…`) for one workspace, or without `workspace_id` for every
    workspace of the organization (an organization-level API token only). Its `role` is the highest
    role it may grant. The `token` is in this answer only."""
    created, secret = await as_caller(
        ctx,
        token,
        lambda actor: scim_tokens.create(
            ctx, actor, organization_id, name=body.name, role=body.role, workspace_id=body.workspace_id
        ),
        quick=True,
    )
    return {**created, "token": secret}


@router.get(f"{PATH}/{{token_id}}", response_model=s.ScimTokenOut)
async def get_scim_token(
    organization_id: str, token_id: str, ctx: Ctx, token: Bearer, workspace_id: Workspace = None
) -> Any:
    return await as_caller(
        ctx,
        token,
        lambda actor: scim_tokens.get(ctx, actor, organization_id, token_id, workspace_id=workspace_id),
        quick=True,
    )


@router.delete(f"{PATH}/{{token_id}}", status_code=204)
async def revoke_scim_token(
    organization_id: str, token_id: str, ctx: Ctx, token: Bearer, workspace_id: Workspace = None
) -> Response:
    """Revoke the token: the provider's next request with it is refused (401)."""
    await as_caller(
        ctx,
        token,
        lambda actor: scim_tokens.revoke(ctx, actor, organization_id, token_id, workspace_id=workspace_id),
        quick=True,
    )
    return Response(status_code=204)
