"""Revocation (RFC 7009) and introspection (RFC 7662), for apps that authenticate
(``client_secret_basic``, ``client_secret_post``, ``private_key_jwt``; public apps cannot call
them).

A token is recognised by what it is: a refresh token by its ``adm_rft_`` prefix and digest,
anything else as one of Admit's JWT access tokens (signature, issuer, expiry, its ``jti``
recorded and not revoked); ``token_type_hint`` is not needed and is ignored, whatever its value.
A token issued to another app is unknown to the caller, like a token Admit never issued:
revocation answers 200 and changes nothing; introspection answers ``{"active": false}``. Revoking
a refresh token revokes its family (and the access tokens issued in it); revoking an access token
revokes its ``jti``, which userinfo and introspection then refuse."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from authlib.oauth2.rfc6749 import InvalidRequestError  # type: ignore[import-untyped]
from authlib.oauth2.rfc7009 import RevocationEndpoint  # type: ignore[import-untyped]
from authlib.oauth2.rfc7662 import IntrospectionEndpoint  # type: ignore[import-untyped]

from admit.domain.errors import InvalidCredentials
from admit.oidc_provider import refresh
from admit.oidc_provider.claims import person_claims
from admit.oidc_provider.clients import AUTHENTICATED_METHODS
from admit.oidc_provider.models import AppClient
from admit.oidc_provider.userinfo import verified_access_token
from admit.shared.context import Context

ACCESS, REFRESH = "access_token", "refresh_token"


@dataclass(frozen=True)
class KnownToken:
    """A token Admit issued: what it is, whose, whether it still works, what introspection says."""

    kind: str
    organization_id: str
    client_id: str
    key: str  # an access token's jti; a refresh token's family
    active: bool
    claims: dict[str, Any] = field(compare=False)

    def check_client(self, client: AppClient) -> bool:
        return self.client_id == client.client_id

    def is_expired(self) -> bool:
        return not self.active  # an expired access token is not found at all

    def is_revoked(self) -> bool:
        return not self.active


def find(ctx: Context, token: str) -> KnownToken | None:
    if not isinstance(token, str):
        return None
    if token.startswith(f"adm_{refresh.REFRESH.value}_"):
        return _refresh_token(ctx, token)
    return _access_token(ctx, token)


def _access_token(ctx: Context, token: str) -> KnownToken | None:
    try:
        claims = verified_access_token(ctx, token)
    except InvalidCredentials:
        return None
    with ctx.uow() as uow:
        issued = uow.oidc_tokens.by_jti(claims["jti"])
        if issued is None:  # its app was removed a moment ago
            return None
        person = person_claims(uow, claims["sub"], claims.get("workspace_id"), issued.organization_id, [])
    about = {**claims, "token_type": "Bearer"}
    return KnownToken(ACCESS, issued.organization_id, issued.client_id, issued.id, person is not None, about)


def _refresh_token(ctx: Context, token: str) -> KnownToken | None:
    now = ctx.clock.now()
    with ctx.uow() as uow:
        row = refresh.find(uow, token)
        if row is None:
            return None
        person = person_claims(uow, row.account_id, row.workspace_id, row.organization_id, [])
    usable = row.used_at is None and row.revoked_at is None and now < row.expires_at
    about = {
        "iss": ctx.base_url,
        "sub": row.account_id,
        "client_id": row.client_id,
        "scope": row.scope,
        "iat": int(row.created_at.timestamp()),
        "exp": int(row.expires_at.timestamp()),
    }
    return KnownToken(REFRESH, row.organization_id, row.client_id, row.family_id, usable and person is not None, about)


def check_params(request: Any, client: AppClient) -> None:
    """A ``token`` is required; the hint is ignored (each kind of token is recognised anyway)."""
    if not request.form.get("token"):
        raise InvalidRequestError("the token parameter is required")


def revoke(ctx: Context, token: KnownToken) -> None:
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        if token.kind == REFRESH:
            refresh.revoke_family(uow, token.organization_id, token.key, now)
        else:
            uow.oidc_tokens.revoke(token.organization_id, token.key, now)
        uow.commit()


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = list(AUTHENTICATED_METHODS)
    check_params = staticmethod(check_params)

    def authenticate_token(self, request: Any, client: AppClient) -> KnownToken | None:
        """The token, if it is the caller's (another app's token is unknown to it: 200, no change)."""
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        return token if token is not None and token.check_client(client) else None

    def query_token(self, token_string: str, token_type_hint: str | None) -> KnownToken | None:
        return find(self.server.ctx, token_string)

    def revoke_token(self, token: KnownToken, request: Any) -> None:
        revoke(self.server.ctx, token)


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = list(AUTHENTICATED_METHODS)
    check_params = staticmethod(check_params)

    def query_token(self, token_string: str, token_type_hint: str | None) -> KnownToken | None:
        return find(self.server.ctx, token_string)

    def check_permission(self, token: KnownToken, client: AppClient, request: Any) -> bool:
        return token.check_client(client)

    def introspect_token(self, token: KnownToken) -> dict[str, Any]:
        return {"active": True, **token.claims}
