"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a person's sessions with
apps end in Admit, each app that received tokens for them and registered a
``backchannel_logout_uri`` is sent a logout token.

What Admit knows of an app's session: an *app session* is recorded when an app exchanges a code,
for the Admit session (the browser's sign-in) and the workspace the code was issued in; its id is
the ``sid`` of the ID token and of the logout token (one per app, Admit session and workspace, so
that an app can end exactly the session it opened for that workspace).

The triggers, each called by the use case in the transaction of the change, so every door (pages,
API, CLI) sends them:

- :func:`sessions_ended`: a sign-out (the sign-out page, RP-initiated logout, ``DELETE
  /sessions/current``). The apps' sessions begun in that Admit session are told and forgotten;
  the tokens issued in it (refresh token families and their access tokens) are revoked.
- :func:`account_signed_out`: every session of the account ended (a password change or reset):
  the same for all of the account's apps' sessions and tokens.
- :func:`membership_ended`: a member suspended or removed: their apps' sessions in that workspace
  are told and forgotten, and every token issued to them for that workspace is revoked.
- :func:`role_changed`: the apps' sessions in that workspace are told (their tokens carry the old
  role) but kept, and refresh tokens keep working: a refresh reads the new role.

Each logout is a message in the outbox (channel ``logout``), enqueued with the change and
delivered by the outbox worker: claimed once across processes, retried with backoff, abandoned
after the last attempt. The token is signed when it is sent (:func:`logout_token`), so a retry
carries a fresh ``iat``/``exp`` (two minutes) and ``jti``; nothing secret is stored."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from joserfc import jwt

from admit.domain import secrets
from admit.domain.ports import UnitOfWork
from admit.domain.records import Record
from admit.oidc_provider import keys
from admit.shared.context import Context
from admit.shared.messages import enqueue

if TYPE_CHECKING:
    from admit.oidc_provider.models import AppClient, Grantee

EVENT = "http://schemas.openid.net/event/backchannel-logout"
CHANNEL = "logout"  # the outbox channel
KIND = "backchannel_logout"
TOKEN_TYPE = "logout+jwt"
LOGOUT_TOKEN_LIFETIME = timedelta(minutes=2)
# An app's session is worth telling about while the Admit session or a refresh token family begun
# in it may live.
APP_SESSION_LIFETIME = max(
    secrets.fixed_lifetime(secrets.SecretPurpose.SESSION), secrets.fixed_lifetime(secrets.SecretPurpose.REFRESH_TOKEN)
)


def sid_for(session_id: str, client_id: str, workspace_id: str | None) -> str:
    """The ``sid`` of an app's session: the same for every code the app gets through one Admit
    session for one workspace; it tells nothing about the Admit session's id."""
    return hashlib.sha256(f"sid|{session_id}|{client_id}|{workspace_id or ''}".encode()).hexdigest()[:32]


def record_app_session(uow: UnitOfWork, client: AppClient, user: Grantee, now: datetime) -> None:
    """The app received tokens through this Admit session (at the code exchange)."""
    if user.session_id is None:
        return
    uow.oidc_app_sessions.record(
        id=sid_for(user.session_id, client.client_id, user.workspace_id),
        organization_id=client.organization_id,
        client_id=client.client_id,
        account_id=user.account_id,
        workspace_id=user.workspace_id,
        session_id=user.session_id,
        created_at=now,
        expires_at=now + APP_SESSION_LIFETIME,
    )


def sessions_ended(uow: UnitOfWork, session_ids: Sequence[str], now: datetime) -> int:
    """These Admit sessions ended: their apps are told; how many logout tokens are queued."""
    ended = uow.oidc_app_sessions.of_sessions(session_ids)
    uow.oidc_codes.revoke_issued_in(session_ids, now)
    return _logged_out(uow, ended, now)


def account_signed_out(uow: UnitOfWork, account_id: str, now: datetime) -> int:
    """Every session of the account ended (its password changed): all its apps are told."""
    ended = uow.oidc_app_sessions.of_account(account_id)
    uow.oidc_codes.revoke_issued_to(account_id, now)
    return _logged_out(uow, ended, now)


def membership_ended(
    uow: UnitOfWork, organization_id: str, workspace_id: str, account_id: str | None, now: datetime
) -> int:
    """The account is no longer an active member of the workspace (suspended, removed)."""
    if account_id is None:
        return 0
    ended = uow.oidc_app_sessions.of_account(account_id, organization_id=organization_id, workspace_id=workspace_id)
    uow.oidc_codes.revoke_issued_to(account_id, now, organization_id=organization_id, workspace_id=workspace_id)
    return _logged_out(uow, ended, now)


def role_changed(
    uow: UnitOfWork, organization_id: str, workspace_id: str, account_id: str | None, now: datetime
) -> int:
    """The member's role changed: their apps' sessions in the workspace carry the old one."""
    if account_id is None:
        return 0
    told = uow.oidc_app_sessions.of_account(account_id, organization_id=organization_id, workspace_id=workspace_id)
    return _notify(uow, told, now)


def _logged_out(uow: UnitOfWork, ended: Sequence[Record], now: datetime) -> int:
    told = _notify(uow, ended, now)
    uow.oidc_app_sessions.remove([row.id for row in ended])
    return told


def _notify(uow: UnitOfWork, app_sessions: Sequence[Record], now: datetime) -> int:
    """One logout message per app session whose app registered a back-channel logout URI."""
    told = 0
    for row in app_sessions:
        if not row.backchannel_logout_uri:
            continue
        enqueue(
            uow,
            kind=KIND,
            channel=CHANNEL,
            recipient=row.client_id,
            language="en",
            subject_id=row.account_id,
            organization_id=row.organization_id,
            workspace_id=row.workspace_id,
            payload={"uri": row.backchannel_logout_uri, "aud": row.client_id, "sub": row.account_id, "sid": row.id},
            now=now,
        )
        told += 1
    return told


def logout_token(ctx: Context, payload: Mapping[str, Any]) -> str:
    """The logout token for a queued message, signed now with the current key: ``typ:
    logout+jwt``; ``iss``, ``aud`` (the app), ``iat``, ``exp`` (two minutes), a fresh ``jti``,
    ``sub``, ``sid`` and the back-channel logout event; never a ``nonce``."""
    now = int(ctx.clock.now().timestamp())
    claims: dict[str, Any] = {
        "iss": ctx.base_url,
        "aud": str(payload["aud"]),
        "iat": now,
        "exp": now + int(LOGOUT_TOKEN_LIFETIME.total_seconds()),
        "jti": ctx.random.token(16),
        "sub": str(payload["sub"]),
        "sid": str(payload["sid"]),
        "events": {EVENT: {}},
    }
    key = keys.signing_key(ctx)
    return jwt.encode({"alg": keys.ALGORITHM, "kid": key.kid, "typ": TOKEN_TYPE}, claims, key.key)


def signer(ctx: Context) -> Callable[[Mapping[str, Any]], str]:
    """What the outbox worker's logout transport signs with."""
    return functools.partial(logout_token, ctx)
