"""The userinfo endpoint's answer: the claims of the person an access token was issued to, read
fresh (a person suspended or removed since gets nothing). Only Admit's own access tokens
(``typ: at+jwt``, signed by a published key, from this issuer, not expired, not revoked) pass."""

from __future__ import annotations

from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError

from admit.domain.errors import InvalidCredentials
from admit.domain.ports import UnitOfWork
from admit.oidc_provider import keys
from admit.oidc_provider.claims import person_claims
from admit.shared.context import Context


def verified_access_token(ctx: Context, token: str) -> dict[str, Any]:
    """The claims of a valid access token; ``InvalidCredentials`` otherwise."""
    claims = _signed_claims(ctx, token)
    with ctx.uow() as uow:
        _issued(uow, claims)
    return claims


def _signed_claims(ctx: Context, token: str) -> dict[str, Any]:
    """The claims of an access token signed by a published key, from this issuer, not expired."""
    try:
        decoded = jwt.decode(token, keys.verification_keys(ctx, token), algorithms=[keys.ALGORITHM])
    except (JoseError, ValueError):
        raise InvalidCredentials("the access token is not valid") from None
    claims = dict(decoded.claims)
    now = ctx.clock.now().timestamp()
    if (
        decoded.header.get("typ") != "at+jwt"
        or claims.get("iss") != ctx.base_url
        or not isinstance(claims.get("exp"), int)
        or claims["exp"] <= now
    ):
        raise InvalidCredentials("the access token is not valid")
    return claims


def _issued(uow: UnitOfWork, claims: dict[str, Any]) -> Any:
    """The recorded token: not revoked, issued to the client the token names."""
    issued = uow.oidc_tokens.by_jti(str(claims.get("jti")))
    if issued is None or issued.revoked_at is not None or issued.client_id != claims.get("client_id"):
        raise InvalidCredentials("the access token is not valid")
    return issued


def userinfo(ctx: Context, token: str) -> dict[str, Any]:
    claims = _signed_claims(ctx, token)
    with ctx.uow() as uow:
        issued = _issued(uow, claims)
        answer = person_claims(
            uow, claims["sub"], claims.get("workspace_id"), issued.organization_id, str(claims["scope"]).split()
        )
    if answer is None:
        raise InvalidCredentials("the person is no longer active")
    return answer
