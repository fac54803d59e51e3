"""The person's side of access codes: type the code at ``/code``, see the workspace and your name,
choose a password (and a username when the member has none), and you are in.

Guessing is bounded three ways (README, "Access codes"): every wrong code counts against the
client address (a few free tries, then waits that double up to 15 minutes); a wrong secret given
with a live code's lookup key counts against that code, whose 10th withdraws it (``locked``), and
against its workspace (at most ``WORKSPACE_FAILURES`` an hour, then the workspace's codes wait for
the next hour). A wrong code and a dead one get the same answer; only the holder of the whole
code learns that it was used, withdrawn or expired. A code is consumed by its redemption (a
conditional update: two redemptions race to one winner) and is never a sign-in credential.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from admit.domain import access_codes as codes
from admit.domain import throttling
from admit.domain.errors import Conflict, LinkGone, SecretAlreadyUsed, SecretRejected, TooManyAttempts, ValidationFailed
from admit.domain.events import EventType
from admit.domain.identifiers import IdentifierKind, normalise_username
from admit.domain.invitations import InvitationState
from admit.domain.members import MemberStatus
from admit.domain.passwords import PasswordPolicy
from admit.domain.ports import UnitOfWork
from admit.domain.records import Record
from admit.flows.invitation.claims import claim_with_password
from admit.flows.signin.sessions import open_session
from admit.shared.context import SYSTEM, Actor, ActorKind, Context, record

WORKSPACE_FAILURES = 200  # wrong secrets against one workspace's codes in one hour
REJECTED = "this access code is not valid; check it, or ask your administrator for a new one"


@dataclass(frozen=True, slots=True)
class CodeFacts:
    """What the holder of a valid code may see before choosing a password."""

    workspace_id: str
    workspace_name: str
    first_name: str | None
    last_name: str | None
    email: str | None
    username: str | None
    needs_username: bool  # the member has no email and no username: the person chooses one
    password_policy: str
    expires_at: datetime
    app_url: str | None  # where joining leads (through /go)


def address_key(client_address: str) -> str:
    return f"code-addr:{hashlib.sha256(client_address.encode()).hexdigest()[:40]}"


def workspace_key(workspace_id: str, now: datetime) -> str:
    return f"code-ws:{workspace_id}:{now:%Y%m%d%H}"


def check(ctx: Context, code: object, client_address: str) -> CodeFacts:
    """The workspace and person a code is for, or ``SecretRejected`` (the same for an unknown
    code and a wrong secret; every failure counted), ``LinkGone`` for the holder of a code that
    is used, withdrawn or expired, ``TooManyAttempts`` while throttled, ``ValidationFailed`` for
    what cannot be a code at all (not counted: it can match nothing)."""
    raw = codes.normalise(code)
    presented = codes.digest(ctx.secret_key, raw)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        throttle = uow.throttles.get(address_key(client_address))
        throttling.ensure_allowed(throttle.blocked_until if throttle else None, now)
        row = uow.access_codes.live_by_lookup(codes.lookup_key(raw), lock=True)
        if row is not None:
            busy = uow.throttles.get(workspace_key(row.workspace_id, now))
            throttling.ensure_allowed(busy.blocked_until if busy else None, now)
        if row is None or not codes.same(row.digest, presented):
            dead = uow.access_codes.by_digest(presented) if row is None else None
            _count_failure(uow, client_address, row, now)
            uow.commit()
            if dead is not None and dead.redeemed_at is not None:
                raise SecretAlreadyUsed("this access code has already been used", code="code_used")
            if dead is not None:
                raise LinkGone(
                    "this access code was withdrawn; ask your administrator for a new one", code="code_withdrawn"
                )
            raise SecretRejected(REJECTED)
        facts = _facts(uow, row, now)
        if throttle is not None:
            uow.throttles.clear(address_key(client_address))
        uow.commit()
    return facts


def _count_failure(uow: UnitOfWork, client_address: str, row: Record | None, now: datetime) -> None:
    key = address_key(client_address)
    wait = throttling.wait_after(uow.throttles.add_failure(key, now))
    uow.throttles.block_until(key, now + wait if wait else None)
    if row is None:
        return
    bucket = workspace_key(row.workspace_id, now)
    if uow.throttles.add_failure(bucket, now) >= WORKSPACE_FAILURES:
        uow.throttles.block_until(bucket, now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))
    if uow.access_codes.add_failure(row.id) >= codes.MAX_FAILURES and uow.access_codes.end(
        row.id, now, redeemed=False, reason="locked"
    ):
        record(
            uow, SYSTEM, EventType.ACCESS_CODE_LOCKED, "member", row.member_id, now,
            organization_id=row.organization_id, workspace_id=row.workspace_id, code_id=row.id,
            failures=codes.MAX_FAILURES,
        )  # fmt: skip


def _facts(uow: UnitOfWork, row: Record, now: datetime) -> CodeFacts:
    workspace = uow.workspaces.get(row.organization_id, row.workspace_id)
    member = uow.members.get(row.organization_id, row.member_id)
    invitation = uow.invitations.get(row.organization_id, row.invitation_id)
    assert workspace is not None and member is not None
    if workspace.sso_required:
        raise Conflict(
            "this workspace requires single sign-on: sign in with your organization's identity provider",
            code="sso_required",
        )
    if now >= row.expires_at:
        raise LinkGone("this access code has expired; ask your administrator for a new one", code="code_expired")
    if (
        invitation is None
        or invitation.state != InvitationState.PENDING
        or now >= invitation.expires_at
        or member.status != MemberStatus.INVITED
    ):
        raise LinkGone("this access code is no longer valid; ask your administrator for a new one", code="code_gone")
    return CodeFacts(
        workspace.id, workspace.name, member.first_name, member.last_name, member.email, member.username,
        not member.email and not member.username, workspace.password_policy, row.expires_at, workspace.app_url,
    )  # fmt: skip


def redeem(
    ctx: Context, code: object, *, password: str | None, username: str | None = None, client_address: str
) -> dict[str, Any]:
    """Redeem a code: the member's account with this password (and username, when the member has
    none), the member active, the code consumed, and a session (``session``), in one transaction."""
    facts = check(ctx, code, client_address)
    chosen = None
    if facts.needs_username:
        if not isinstance(username, str) or not username.strip():
            raise ValidationFailed("choose a username to sign in with", field="username", code="username_required")
        chosen = normalise_username(username)
    if not isinstance(password, str) or not password:
        raise ValidationFailed("choose a password to create your account", field="password", code="password_required")
    context = [
        v for v in (facts.email, facts.username, chosen, facts.first_name, facts.last_name, facts.workspace_name) if v
    ]
    PasswordPolicy.named(facts.password_policy).check(password, context)
    raw = codes.normalise(code)
    with ctx.uow() as uow:
        held = [
            (k, v)
            for k, v in (
                (IdentifierKind.EMAIL.value, facts.email),
                (IdentifierKind.USERNAME.value, facts.username or chosen),
            )
            if v
        ]
        if uow.accounts.by_identifiers(held) is not None:
            if chosen is not None:
                raise Conflict("this username is taken; choose another", field="username", code="username_taken")
            raise Conflict("you already have an account: sign in, then accept the invitation", code="sign_in_required")
    password_hash = ctx.hasher.hash(password)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = uow.access_codes.live_by_lookup(codes.lookup_key(raw), lock=True)
        if row is None or not codes.same(row.digest, codes.digest(ctx.secret_key, raw)):
            raise SecretAlreadyUsed("this access code has already been used or was withdrawn", code="code_used")
        if not uow.access_codes.end(row.id, now, redeemed=True):
            raise SecretAlreadyUsed("this access code has already been used or was withdrawn", code="code_used")
        invitation = uow.invitations.get(row.organization_id, row.invitation_id, lock=True)
        assert invitation is not None
        if chosen is not None and not uow.members.move(
            row.organization_id, row.member_id, MemberStatus.INVITED, username=chosen, updated_at=now
        ):
            raise Conflict("this membership changed meanwhile", code="member_changed")
        result = claim_with_password(uow, invitation, password_hash, now)
        session = open_session(uow, ctx.random, result["account_id"], now)
        record(
            uow, Actor(ActorKind.ACCOUNT, id=result["account_id"]), EventType.ACCESS_CODE_REDEEMED, "member",
            row.member_id, now, organization_id=row.organization_id, workspace_id=row.workspace_id, code_id=row.id,
        )  # fmt: skip
        uow.commit()
    return {**result, "session": session, "username": chosen}


__all__ = ["REJECTED", "CodeFacts", "TooManyAttempts", "check", "redeem"]
