"""Signing in with any identifier + password, sessions, and scoped API tokens."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from admit.domain import secrets, throttling
from admit.domain.errors import InvalidCredentials, NotFound, PasswordChangeRequired, PermissionDenied, SecretRejected
from admit.domain.events import EventType
from admit.domain.identifiers import candidates
from admit.domain.ports import RandomSource, UnitOfWork
from admit.domain.records import Account
from admit.domain.roles import Role, parse_role
from admit.oidc_provider import backchannel
from admit.shared import metrics
from admit.shared.context import Actor, ActorKind, Context, record

SESSION = secrets.SecretPurpose.SESSION
API_TOKEN = secrets.SecretPurpose.API_TOKEN


def sign_in(ctx: Context, identifier: str, password: str, *, break_glass: bool = False) -> tuple[str, PublicAccount]:
    """Return (session token, account). Unknown identifiers cost the same time as wrong passwords
    and get the same answer. A member of a workspace that requires single sign-on is refused
    after the password was checked, unless an owner asks for the audited break-glass sign-in."""
    key = throttle_key("sign-in", identifier)
    with ctx.uow() as uow:
        throttle = uow.throttles.get(key)
        throttling.ensure_allowed(throttle.blocked_until if throttle else None, ctx.clock.now())
        account = uow.accounts.by_identifiers(candidates(identifier, region=ctx.phone_region))
    stored = account.password_hash if account is not None else None
    if account is None or stored is None or account.status != "active":
        ctx.hasher.burn(password)
        _failed(ctx, key)
    elif not ctx.hasher.verify(stored, password):
        _failed(ctx, key)
    if throttle is not None:
        with ctx.uow(write=True) as uow:
            uow.throttles.clear(key)
            uow.commit()
    ensure_password_paths(ctx, account.id, break_glass=break_glass)
    if ctx.hasher.needs_rehash(stored):
        rehashed = ctx.hasher.hash(password)
        with ctx.uow(write=True) as uow:
            uow.accounts.set_password_hash(account.id, rehashed)
            uow.commit()
    return start_session(ctx, account.id), public_account(account)


@dataclass(frozen=True, slots=True)
class PublicAccount:
    """An account as any door may see it: every column but the password hash."""

    id: str
    credential_kind: str
    external_issuer: str | None
    external_subject: str | None
    external_email: str | None
    first_name: str | None
    last_name: str | None
    language: str | None
    status: str
    must_change_password: bool
    created_at: datetime


def public_account(account: Account) -> PublicAccount:
    """The account without its password hash."""
    return PublicAccount(
        id=account.id,
        credential_kind=account.credential_kind,
        external_issuer=account.external_issuer,
        external_subject=account.external_subject,
        external_email=account.external_email,
        first_name=account.first_name,
        last_name=account.last_name,
        language=account.language,
        status=account.status,
        must_change_password=account.must_change_password,
        created_at=account.created_at,
    )


def ensure_password_paths(ctx: Context, account_id: str, *, break_glass: bool = False) -> None:
    """Refuse a password path to an account that is a member (accepted: the Smartsheet rule) of a
    workspace requiring SSO; an owner of every such workspace may break the glass, audited."""
    with ctx.uow() as uow:
        memberships = uow.external_accounts.sso_memberships(account_id)
    if not memberships:
        return
    if not break_glass or any(m.role != Role.OWNER.value for m in memberships):
        raise PermissionDenied(
            "your organization requires single sign-on: sign in through its identity provider", code="sso_required"
        )
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        for membership in memberships:
            record(
                uow,
                Actor(ActorKind.ACCOUNT, id=account_id),
                EventType.ACCOUNT_BREAK_GLASS_SIGN_IN,
                "account",
                account_id,
                now,
                organization_id=membership.organization_id,
                workspace_id=membership.workspace_id,
            )
        uow.commit()


def throttle_key(purpose: str, identifier: str) -> str:
    """The throttle for guesses at one identifier, known account or not (no enumeration)."""
    return f"{purpose}:{hashlib.sha256(identifier.strip().casefold().encode()).hexdigest()[:40]}"


def count_failure(ctx: Context, key: str) -> None:
    """Count a wrong password against ``key``; after a few, further guesses must wait."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        failures = uow.throttles.add_failure(key, now)
        wait = throttling.wait_after(failures)
        uow.throttles.block_until(key, now + wait if wait else None)
        uow.commit()


def _failed(ctx: Context, key: str) -> NoReturn:
    """Count a failed sign-in and refuse it."""
    metrics.SIGN_IN_FAILURES.inc()
    count_failure(ctx, key)
    raise InvalidCredentials("the identifier or password is not correct")


def start_session(ctx: Context, account_id: str) -> str:
    """A new session for an account that has just proven who it is; returns the token (once)."""
    with ctx.uow(write=True) as uow:
        token = open_session(uow, ctx.random, account_id, ctx.clock.now())
        uow.commit()
    return token


def open_session(uow: UnitOfWork, random: RandomSource, account_id: str, now: datetime) -> str:
    """``start_session`` in the caller's transaction (a claim that signs in at once)."""
    issued = secrets.issue(SESSION, random)
    uow.secrets.add(
        purpose=SESSION.value,
        digest=issued.digest,
        organization_id=None,
        subject_id=account_id,
        created_at=now,
        expires_at=secrets.expiry(SESSION, now),
    )
    record(
        uow,
        Actor(ActorKind.ACCOUNT, id=account_id),
        EventType.ACCOUNT_SIGNED_IN,
        "account",
        account_id,
        now,
        organization_id=None,
    )
    return issued.plaintext


@dataclass(frozen=True)
class LiveSession:
    """A live session: its secret's id, its account, when it began, and whether the account
    must still replace an administrator's one-time password."""

    id: str
    account_id: str
    started: datetime
    must_change_password: bool


def live_session(ctx: Context, token: str) -> LiveSession:
    """The live session behind a session token (one read); ``SecretRejected`` otherwise."""
    digest = secrets.digest_for(token, SESSION)
    with ctx.uow() as uow:
        row = uow.secrets.by_digest(digest)
        account = uow.accounts.get(row.subject_id) if row is not None else None
    if row is None or account is None:
        raise SecretRejected("the session is not valid; sign in again")
    secrets.ensure_usable(
        purpose=secrets.SecretPurpose(row.purpose),
        expected=SESSION,
        expires_at=row.expires_at,
        consumed_at=row.consumed_at,
        revoked_at=row.revoked_at,
        now=ctx.clock.now(),
    )
    return LiveSession(str(row.id), str(row.subject_id), row.created_at, bool(account.must_change_password))


def authenticate_session(ctx: Context, token: str, *, initial_password_ok: bool = False) -> str:
    """The account id behind a live session token.

    An account that still has an administrator's one-time password is refused with
    ``PasswordChangeRequired`` unless the caller is changing it or signing out
    (``initial_password_ok``): every door (pages, API) authenticates here, so none can skip it."""
    session = live_session(ctx, token)
    if session.must_change_password and not initial_password_ok:
        raise PasswordChangeRequired()
    return session.account_id


def sign_out(ctx: Context, token: str) -> None:
    """End the session; the apps signed in through it are sent a back-channel logout, and the
    tokens they were issued in it are revoked (in the same transaction)."""
    digest = secrets.digest_for(token, SESSION)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = uow.secrets.by_digest(digest)
        if row is not None and row.purpose == SESSION.value and row.revoked_at is None:
            uow.secrets.revoke(row.id, now)
            backchannel.sessions_ended(uow, [row.id], now)
            record(
                uow,
                Actor(ActorKind.ACCOUNT, id=row.subject_id),
                EventType.ACCOUNT_SIGNED_OUT,
                "account",
                row.subject_id,
                now,
                organization_id=None,
            )
        uow.commit()


def create_api_token(
    ctx: Context,
    actor: Actor,
    *,
    name: str,
    role: str = "admin",
    organization_id: str | None = None,
    workspace_id: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """An API token, shown once. Without an organization it is an instance-wide operator token."""
    if actor.kind is not ActorKind.OPERATOR:
        raise PermissionDenied("only an operator can create API tokens")
    granted = parse_role(role)
    issued = secrets.issue(API_TOKEN, ctx.random)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        _ensure_scope_exists(uow, organization_id, workspace_id)
        values: dict[str, Any] = {
            "organization_id": organization_id,
            "workspace_id": workspace_id,
            "name": name,
            "role": granted.value,
            "digest": issued.digest,
            "created_at": now,
        }
        values["id"] = uow.api_tokens.add(**values)
        record(
            uow,
            actor,
            EventType.API_TOKEN_CREATED,
            "api_token",
            values["id"],
            now,
            organization_id=organization_id,
            workspace_id=workspace_id,
            role=granted.value,
        )
        uow.commit()
    del values["digest"]
    return issued.plaintext, values


def _ensure_scope_exists(uow: UnitOfWork, organization_id: str | None, workspace_id: str | None) -> None:
    if organization_id is not None and uow.organizations.get(organization_id) is None:
        raise NotFound("organization not found", field="organization_id")
    if workspace_id is not None and uow.workspaces.get(organization_id, workspace_id) is None:
        raise NotFound("workspace not found", field="workspace_id")


def authenticate_api_token(ctx: Context, token: str) -> Actor:
    digest = secrets.digest_for(token, API_TOKEN)
    with ctx.uow() as uow:
        row = uow.api_tokens.by_digest(digest)
    if row is None or row.revoked_at is not None or not secrets.same_digest(row.digest, digest):
        raise InvalidCredentials("the API token is not valid")
    if row.organization_id is None:
        return Actor(ActorKind.OPERATOR, id=row.id, role=Role.OWNER, name=row.name)
    return Actor(
        ActorKind.API_TOKEN,
        id=row.id,
        organization_id=row.organization_id,
        workspace_id=row.workspace_id,
        role=Role(row.role),
        name=row.name,
    )
