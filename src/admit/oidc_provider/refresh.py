"""Refresh tokens, rotated on every use, in families.

The rule: a confidential app registered for the ``refresh_token`` grant gets a refresh token
(``adm_rft_…``, 256 random bits, stored as a digest) with every code exchange; that starts a
family, which lives 30 days from then (absolute: rotation does not extend it). Each refresh
exchanges the token once, for a new access token and the family's next refresh token. A token
presented again after its exchange is a replay (a thief or the app racing itself): the whole
family is revoked, with the access tokens issued in it, and the answer is ``invalid_grant``;
except within ``RACE_GRACE`` of its exchange, when it is the app racing itself: that request gets
``invalid_grant`` and the family lives on (the racing request holds its next token). Each refresh
answers an ID token too when the scope has ``openid`` (:mod:`.id_tokens`).

A refresh token works for the app it was issued to only (another app's token is refused and left
alone), and only while the person is an active member of the family's workspace: each refresh
reads the claims afresh (a new role shows in the new access token); a person suspended or removed
since gets ``invalid_grant`` and the family is revoked. A replayed authorization code revokes the
families it began."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidScopeError  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.grants import RefreshTokenGrant  # type: ignore[import-untyped]

from admit.domain import secrets
from admit.domain.errors import SecretRejected
from admit.domain.events import EventType
from admit.domain.ports import UnitOfWork
from admit.domain.records import Record
from admit.oidc_provider import id_tokens
from admit.oidc_provider.claims import person_claims
from admit.oidc_provider.clients import AUTHENTICATED_METHODS
from admit.oidc_provider.models import AppClient, Family, Grantee, IssuedRefreshToken
from admit.shared.context import SYSTEM, Context, record

REFRESH = secrets.SecretPurpose.REFRESH_TOKEN
LIFETIME = secrets.fixed_lifetime(REFRESH)
# A token presented again this soon after its exchange is an app racing itself (two tabs, a retry
# after a timeout): that request is refused, and the family kept. Later, it is a replay.
RACE_GRACE = timedelta(seconds=10)


def family_for(ctx: Context, user: Grantee, scope: str, now: datetime) -> Family:
    """The family a new refresh token joins: the refreshed token's, or a new one."""
    return user.family or Family(ctx.random.token(16), scope, now + LIFETIME)


def store(ctx: Context, uow: UnitOfWork, client: AppClient, user: Grantee, family: Family) -> str:
    """A new refresh token of the family, recorded as its digest; the plaintext, shown once."""
    secret = secrets.issue(REFRESH, ctx.random)
    uow.oidc_refresh_tokens.add(
        digest=secret.digest,
        family_id=family.id,
        organization_id=client.organization_id,
        client_id=client.client_id,
        account_id=user.account_id,
        workspace_id=user.workspace_id,
        code_id=user.code_id,
        session_id=user.session_id,
        scope=family.scope,
        auth_time=user.auth_time,
        created_at=ctx.clock.now(),
        expires_at=family.expires_at,
    )
    return secret.plaintext


def revoke_family(uow: UnitOfWork, organization_id: str, family_id: str, now: datetime) -> int:
    """Every refresh token of the family and every access token issued in it; how many access tokens."""
    uow.oidc_refresh_tokens.revoke_family(organization_id, family_id, now)
    return uow.oidc_tokens.revoke_family(organization_id, family_id, now)


def find(uow: UnitOfWork, token: str) -> Record | None:
    """The stored refresh token this plaintext is, if any (digests compared in constant time)."""
    try:
        digest = secrets.digest_for(token, REFRESH)
    except SecretRejected:
        return None
    row = uow.oidc_refresh_tokens.by_digest(digest)
    return row if row is not None and secrets.same_digest(row.digest, digest) else None


def _within(requested: str | None, granted: str) -> bool:
    return not requested or set(requested.split()) <= set(granted.split())


class RefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
    """Authlib's refresh grant with Admit's families: the token is exchanged (marked used) when
    it is looked up, so two requests with one token cannot both succeed."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTHENTICATED_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True

    @property
    def ctx(self) -> Context:
        return self.server.ctx  # type: ignore[no-any-return]

    def authenticate_refresh_token(self, refresh_token: str) -> IssuedRefreshToken | None:
        """The token, exchanged now; None for an unknown, expired, revoked or other app's token.
        A token exchanged before is a replay: its family is revoked."""
        client, now = self.request.client, self.ctx.clock.now()
        with self.ctx.uow(write=True) as uow:
            row = find(uow, refresh_token)
            if row is None or row.client_id != client.client_id or row.revoked_at is not None or now >= row.expires_at:
                return None
            if not _within(self.request.payload.scope, row.scope):
                raise InvalidScopeError("the scope asked for is wider than the refresh token's")
            if not uow.oidc_refresh_tokens.use(row.organization_id, row.id, now):
                if row.used_at is None or now - row.used_at <= RACE_GRACE:
                    return None  # exchanged a moment ago (just now, if it was unused as read)
                revoked = revoke_family(uow, row.organization_id, row.family_id, now)
                record(
                    uow, SYSTEM, EventType.CLIENT_REFRESH_TOKEN_REPLAYED, "client", client.client_id, now,
                    organization_id=row.organization_id, revoked_tokens=revoked,
                )  # fmt: skip
                uow.commit()
                return None
            uow.commit()
        return IssuedRefreshToken(row)

    def authenticate_user(self, refresh_token: IssuedRefreshToken) -> Grantee:
        """The family's person, if still active in its workspace; otherwise the family ends."""
        row, now = refresh_token.row, self.ctx.clock.now()
        with self.ctx.uow(write=True) as uow:
            if person_claims(uow, row.account_id, row.workspace_id, row.organization_id, []) is None:
                revoke_family(uow, row.organization_id, row.family_id, now)
                uow.commit()
                raise InvalidGrantError("the person is no longer an active member of this workspace")
        family = Family(row.family_id, row.scope, row.expires_at)
        return Grantee(
            row.account_id, row.workspace_id, row.auth_time,
            code_id=row.code_id, family=family, session_id=row.session_id,
        )  # fmt: skip

    def issue_token(self, user: Grantee, refresh_token: IssuedRefreshToken) -> dict[str, Any]:
        """The new access and refresh tokens, and an ID token when the scope has ``openid``."""
        token: dict[str, Any] = super().issue_token(user, refresh_token)
        if "openid" in id_tokens.scopes_of(token):
            token["id_token"] = id_tokens.sign(self.ctx, self.request.client, user, token, with_nonce=False)
        return token

    def revoke_old_credential(self, refresh_token: Any) -> None:
        """Nothing to do: the token was exchanged when it was looked up."""
