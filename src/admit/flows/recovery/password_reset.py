"""Forgot password: a reset link for an account, asked for with any identifier the sign-in takes
(email address, username, phone number), or — for someone invited by email who never set a
password (the Smartsheet case) — to choose one, which creates the account and completes the
claim. The link goes by email to the address typed, or to the account's address; to an account
without one, by SMS to its phone number (the one typed, else its own). The answer is the same
whether or not the identifier is known, and asking is throttled per identifier."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from admit.admin import rate_limits
from admit.domain import secrets, throttling
from admit.domain.errors import PermissionDenied, SecretRejected, ValidationFailed
from admit.domain.events import EventType
from admit.domain.identifiers import IdentifierKind, candidates
from admit.domain.login_policy import LoginPolicy
from admit.domain.passwords import PasswordPolicy
from admit.domain.ports import UnitOfWork
from admit.domain.records import Record
from admit.flows.invitation.claims import claim_with_password
from admit.flows.signin.sessions import throttle_key
from admit.oidc_provider import backchannel
from admit.shared.context import Actor, ActorKind, Context, record
from admit.shared.messages import enqueue

log = logging.getLogger("admit.recovery")

RESET = secrets.SecretPurpose.PASSWORD_RESET
ACCOUNT_POLICY = "length"  # an account's own password follows the default policy


def request_reset(ctx: Context, identifier: str) -> None:
    """Send a reset link when the identifier names a password account (or, for an email
    address, a pending invitation). ``ValidationFailed`` when it cannot be an identifier at all."""
    pairs = candidates(identifier, region=ctx.phone_region)
    if not pairs:
        raise ValidationFailed("enter the email address, username or phone number you sign in with", field="identifier")
    key = throttle_key("reset", "|".join(f"{kind}:{value}" for kind, value in pairs))
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        throttle = uow.throttles.get(key)
        throttling.ensure_allowed(throttle.blocked_until if throttle else None, now)
        requests = uow.throttles.add_failure(key, now)  # counts requests, known identifier or not
        wait = throttling.wait_after(requests)
        uow.throttles.block_until(key, now + wait if wait else None)
        found = _target_for(uow, pairs, now)
        if found is not None and _may_send(uow, *found, now):
            channel, recipient, target = found
            _send_link(ctx, uow, channel, recipient, target, now)
        uow.commit()


def _may_send(uow: UnitOfWork, channel: str, recipient: str, target: dict[str, Any], now: datetime) -> bool:
    """Whether the link may go out: a text message past the SMS limits is not sent, and the
    person reads the same page as always (a refusal here would tell that the number has an
    account). Charged here, before the previous link is revoked."""
    if channel != "sms":
        return True
    try:
        rate_limits.charge_text(uow, target["organization_id"], target["workspace_id"], recipient, now)
    except rate_limits.RateLimited:
        log.warning("password reset by text message not sent: the SMS limits are reached")
        return False
    return True


def _target_for(uow: UnitOfWork, pairs: list[tuple[str, str]], now: datetime) -> tuple[str, str, dict[str, Any]] | None:
    """(channel, recipient, whose password) for the identifier, or None."""
    account = uow.accounts.by_identifiers(pairs)
    if account is not None:
        return _account_target(uow, account, dict(pairs))
    address = dict(pairs).get(IdentifierKind.EMAIL.value)
    pending = uow.invitations.pending_for_emails([address], now) if address else []
    if not address or not pending:
        return None
    invitation = pending[-1]  # the newest
    member = uow.members.get(invitation.organization_id, invitation.member_id)
    workspace = uow.workspaces.get(invitation.organization_id, invitation.workspace_id)
    assert member is not None and workspace is not None
    if not LoginPolicy.of(workspace.login_methods, workspace.sso_required).password_allowed:
        return None  # the workspace lets people in through its identity providers only
    target = {
        "subject": invitation.id,
        "organization_id": invitation.organization_id,
        "workspace_id": invitation.workspace_id,
        "language": member.language,
        "first_name": member.first_name,
    }
    return "email", address, target


def _account_target(uow: UnitOfWork, account: Any, typed: dict[str, str]) -> tuple[str, str, dict[str, Any]] | None:
    """An account's link goes to the address typed, else its own address; to an account without
    one, by SMS to the number typed, else its own."""
    if account.credential_kind != "password" or uow.external_accounts.sso_memberships(account.id):
        return None  # no password for an account whose workspace requires SSO (same answer)
    target = {
        "subject": account.id,
        "organization_id": None,
        "workspace_id": None,
        "language": account.language,
        "first_name": account.first_name,
    }
    held = uow.accounts.identifiers(account.id)
    emails = [value for kind, value in held if kind == IdentifierKind.EMAIL.value]
    phones = [value for kind, value in held if kind == IdentifierKind.PHONE.value]
    email, phone = typed.get(IdentifierKind.EMAIL.value), typed.get(IdentifierKind.PHONE.value)
    if email in emails or emails:
        return "email", email if email in emails else emails[0], target
    if phones:
        return "sms", phone if phone in phones else phones[0], target
    return None


def _send_link(
    ctx: Context, uow: UnitOfWork, channel: str, recipient: str, target: dict[str, Any], now: datetime
) -> None:
    uow.secrets.revoke_for(target["subject"], RESET.value, now)  # only the newest link works
    issued = secrets.issue(RESET, ctx.random)
    expires = secrets.expiry(RESET, now)
    uow.secrets.add(
        purpose=RESET.value,
        digest=issued.digest,
        organization_id=target["organization_id"],
        subject_id=target["subject"],
        created_at=now,
        expires_at=expires,
    )
    lifetime = secrets.fixed_lifetime(RESET)
    enqueue(
        uow,
        kind="password_reset",
        charged=True,  # see _may_send
        channel=channel,
        recipient=recipient,
        language=target["language"] or "en",
        subject_id=target["subject"],
        organization_id=target["organization_id"],
        workspace_id=target["workspace_id"],
        now=now,
        payload={
            "link": ctx.link(f"/reset/{issued.plaintext}"),
            "first_name": target["first_name"],
            "expires_minutes": int(lifetime.total_seconds() // 60),
        },
    )


def inspect_reset(ctx: Context, token: str) -> dict[str, Any]:
    """What the reset page needs: whose password, under which policy. ``SecretRejected`` if dead."""
    digest = secrets.digest_for(token, RESET)
    with ctx.uow() as uow:
        secret = _live(uow, digest, ctx.clock.now(), lock=False)
        return _subject(uow, secret)


def reset_password(ctx: Context, token: str, password: str) -> dict[str, Any]:
    """Set the password (an account), or create the account and accept the invitation (a claim).
    Every session of a reset account is signed out."""
    digest = secrets.digest_for(token, RESET)
    facts = inspect_reset(ctx, token)
    PasswordPolicy.named(facts["policy"]).check(password, facts["context"])
    password_hash = ctx.hasher.hash(password)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        secret = _live(uow, digest, now, lock=True)
        if facts["invitation"] is not None:
            invitation = uow.invitations.get(secret.organization_id, secret.subject_id, lock=True)
            assert invitation is not None
            result = claim_with_password(uow, invitation, password_hash, now)
        else:
            if uow.external_accounts.sso_memberships(secret.subject_id):
                raise PermissionDenied(
                    "your organization requires single sign-on: sign in through its identity provider",
                    code="sso_required",
                )
            result = _reset_account(uow, secret.subject_id, password_hash, now)
        uow.secrets.consume(secret.id, now)
        uow.commit()
    return result


def _reset_account(uow: UnitOfWork, account_id: str, password_hash: str, now: datetime) -> dict[str, Any]:
    uow.accounts.set_password_hash(account_id, password_hash)
    uow.secrets.revoke_for(account_id, secrets.SecretPurpose.SESSION.value, now)
    backchannel.account_signed_out(uow, account_id, now)  # every session ended: their apps too
    record(
        uow,
        Actor(ActorKind.ACCOUNT, id=account_id),
        EventType.ACCOUNT_PASSWORD_RESET,
        "account",
        account_id,
        now,
        organization_id=None,
    )
    return {"account_id": account_id, "workspace_id": None}


def _live(uow: UnitOfWork, digest: str, now: datetime, *, lock: bool) -> Record:
    secret = uow.secrets.by_digest(digest, lock=lock)
    if secret is None:
        raise SecretRejected("this link is not valid")
    secrets.ensure_usable(
        purpose=secrets.SecretPurpose(secret.purpose),
        expected=RESET,
        expires_at=secret.expires_at,
        consumed_at=secret.consumed_at,
        revoked_at=secret.revoked_at,
        now=now,
    )
    return secret


def _subject(uow: UnitOfWork, secret: Record) -> dict[str, Any]:
    if secret.organization_id is None:
        account = uow.accounts.get(secret.subject_id)
        assert account is not None
        identifiers = [value for _, value in uow.accounts.identifiers(account.id)]
        return {
            "invitation": None,
            "workspace": None,
            "policy": ACCOUNT_POLICY,
            "email": identifiers[0],
            "context": [*identifiers, account.first_name or "", account.last_name or ""],
        }
    invitation = uow.invitations.get(secret.organization_id, secret.subject_id)
    assert invitation is not None
    workspace = uow.workspaces.get(invitation.organization_id, invitation.workspace_id)
    assert workspace is not None
    return {
        "invitation": dict(invitation._mapping),
        "workspace": dict(workspace._mapping),
        "policy": workspace.password_policy,
        "email": invitation.email,
        "context": [invitation.email or "", workspace.name],
    }
