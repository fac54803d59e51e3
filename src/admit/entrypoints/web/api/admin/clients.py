"""An organization's apps (OpenID clients). The secret of a confidential client is in the answer
to its creation only."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from admit.entrypoints.web.api import schemas as s
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.deps import Bearer, Ctx, as_caller
from admit.oidc_provider import clients
from admit.oidc_provider.clients import ClientInput

router = api_router(tags=["apps (OpenID clients)"])
PATH = "/organizations/{organization_id}/clients"


@router.get(PATH, response_model=list[s.ClientOut])
async def list_clients(organization_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: clients.list_clients(ctx, actor, organization_id), quick=True)


@router.post(PATH, status_code=201, response_model=s.ClientCreated)
async def create_client(organization_id: str, body: s.ClientIn, ctx: Ctx, token: Bearer) -> Any:
    """Register an app that signs people in through Admit (discovery at
    `/.well-known/openid-configuration`). The `client_secret` is shown in this answer only (none
    for a public app or one that authenticates with `private_key_jwt`)."""
    given = ClientInput(**body.model_dump())
    client, secret = await as_caller(ctx, token, lambda actor: clients.create(ctx, actor, organization_id, given))
    return {**client, "client_secret": secret}


@router.get(f"{PATH}/{{client_id}}", response_model=s.ClientOut)
async def get_client(organization_id: str, client_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: clients.get(ctx, actor, organization_id, client_id), quick=True)


@router.patch(f"{PATH}/{{client_id}}", response_model=s.ClientOut)
async def update_client(organization_id: str, client_id: str, body: s.ClientPatch, ctx: Ctx, token: Bearer) -> Any:
    """Change an app's registration (only the fields sent). Narrowing its scopes, grants,
    workspaces or keys revokes its refresh tokens."""
    changes = body.model_dump(exclude_unset=True)
    return await as_caller(
        ctx, token, lambda actor: clients.update(ctx, actor, organization_id, client_id, changes), quick=True
    )


@router.post(f"{PATH}/{{client_id}}/secret", response_model=s.ClientSecretOut)
async def rotate_client_secret(organization_id: str, client_id: str, ctx: Ctx, token: Bearer) -> Any:
    """A new client secret, shown in this answer only; the previous one stops working at once."""
    secret = await as_caller(
        ctx, token, lambda actor: clients.rotate_secret(ctx, actor, organization_id, client_id), quick=True
    )
    return {"client_secret": secret}


@router.delete(f"{PATH}/{{client_id}}", status_code=204)
async def remove_client(organization_id: str, client_id: str, ctx: Ctx, token: Bearer) -> Response:
    """Remove the app: its codes and access tokens stop working."""
    await as_caller(ctx, token, lambda actor: clients.remove(ctx, actor, organization_id, client_id), quick=True)
    return Response(status_code=204)
