"""Identity providers: an organization's own (enterprise plan) and the instance's personal ones.
Client secrets go in and never come out."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from admit.admin import identity_providers
from admit.admin.identity_providers import ProviderInput
from admit.entrypoints.web.api import schemas as s
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.deps import Bearer, Ctx, as_caller

router = api_router(tags=["single sign-on"])


def _input(body: s.IdentityProviderIn) -> ProviderInput:
    return ProviderInput(**body.model_dump())


@router.get("/organizations/{organization_id}/identity-providers", response_model=list[s.IdentityProviderOut])
async def list_providers(organization_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(
        ctx, token, lambda actor: identity_providers.list_providers(ctx, actor, organization_id), quick=True
    )


@router.post(
    "/organizations/{organization_id}/identity-providers", status_code=201, response_model=s.IdentityProviderOut
)
async def create_provider(organization_id: str, body: s.IdentityProviderIn, ctx: Ctx, token: Bearer) -> Any:
    """Add an OpenID Connect provider to an organization (enterprise plan). Allow it in a workspace
    with `login_methods: ["sso:<id>"]`; the redirect URI to register is `<base URL>/sso/callback`.
    The issuer's discovery document is read now: one that cannot be fetched, is not JSON or names
    another issuer is a 422 on `issuer` (`discovery_failed`), as is an address on this machine or a
    private network outside dev mode."""
    return await as_caller(
        ctx, token, lambda actor: identity_providers.create(ctx, actor, organization_id, _input(body))
    )


@router.get("/identity-providers", response_model=list[s.IdentityProviderOut])
async def list_personal_providers(ctx: Ctx, token: Bearer) -> Any:
    """The instance's personal providers (any workspace may allow them as `personal:<id>`)."""
    return await as_caller(ctx, token, lambda actor: identity_providers.list_providers(ctx, actor, None), quick=True)


@router.post("/identity-providers", status_code=201, response_model=s.IdentityProviderOut)
async def create_personal_provider(body: s.IdentityProviderIn, ctx: Ctx, token: Bearer) -> Any:
    """Add an instance-wide personal provider (operator token only)."""
    return await as_caller(ctx, token, lambda actor: identity_providers.create(ctx, actor, None, _input(body)))


@router.get("/identity-providers/{provider_id}", response_model=s.IdentityProviderOut)
async def get_provider(provider_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: identity_providers.get(ctx, actor, provider_id), quick=True)


@router.delete("/identity-providers/{provider_id}", status_code=204)
async def remove_provider(provider_id: str, ctx: Ctx, token: Bearer) -> Response:
    """Remove a provider that no workspace allows any more."""
    await as_caller(ctx, token, lambda actor: identity_providers.remove(ctx, actor, provider_id), quick=True)
    return Response(status_code=204)
