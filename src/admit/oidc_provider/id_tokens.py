"""ID tokens: signed with the current key by joserfc, stamped by Admit's clock.

One is issued with every code exchange and, when the scope has ``openid``, with every refresh
(OpenID Connect Core 12.2): the same ``iss``, ``sub``, ``aud``, ``auth_time`` (the original
sign-in's) and ``sid``, a new ``iat``, no ``nonce``, and the claims read afresh (a changed role
shows at once)."""

from __future__ import annotations

from typing import Any

from authlib.oidc.core.util import create_half_hash  # type: ignore[import-untyped]
from joserfc import jwt

from admit.oidc_provider import backchannel, keys
from admit.oidc_provider.claims import person_claims
from admit.oidc_provider.models import AppClient, Grantee
from admit.shared.context import Context


def scopes_of(token: dict[str, Any]) -> list[str]:
    return str(token.get("scope") or "").split()


def sign(ctx: Context, client: AppClient, user: Grantee, token: dict[str, Any], *, with_nonce: bool = True) -> str:
    """The ID token for ``user`` to go with ``token`` (its ``at_hash`` binds the two)."""
    now = int(ctx.clock.now().timestamp())
    claims: dict[str, Any] = {
        "iss": ctx.base_url,
        "aud": client.client_id,
        "iat": now,
        "exp": now + int(keys.TOKEN_LIFETIME.total_seconds()),
        "auth_time": int(user.auth_time.timestamp()),
        "at_hash": create_half_hash(token["access_token"], keys.ALGORITHM).decode(),
    }
    if with_nonce and user.nonce:
        claims["nonce"] = user.nonce
    if user.session_id:
        claims["sid"] = backchannel.sid_for(user.session_id, client.client_id, user.workspace_id)
    about = user.claims  # a code's: read as it was redeemed
    if about is None:  # a refresh's: read now
        with ctx.uow() as uow:
            about = person_claims(uow, user.account_id, user.workspace_id, client.organization_id, scopes_of(token))
    claims.update(about or {})
    key = keys.signing_key(ctx)
    return jwt.encode({"alg": keys.ALGORITHM, "kid": key.kid, "typ": "JWT"}, claims, key.key)
