"""Changing one's own password: required at the first sign-in of an account that an import
created with an initial one-time password (``must_change_password``), and available to anyone
signed in with a password. The current password is checked (with the sign-in back-off), the new
one follows the default policy, every session of the account is signed out and a fresh one is
returned for this browser."""

from __future__ import annotations

from typing import NoReturn

from admit.domain import secrets, throttling
from admit.domain.errors import InvalidCredentials, ValidationFailed, WeakPassword
from admit.domain.events import EventType
from admit.domain.passwords import PasswordPolicy
from admit.flows.signin.sessions import count_failure, start_session, throttle_key
from admit.oidc_provider import backchannel
from admit.shared.context import Actor, ActorKind, Context, record

POLICY = "length"  # an account's own password follows the default policy
SAME_PASSWORD = "Choose a password different from your current one"


def policy() -> PasswordPolicy:
    return PasswordPolicy.named(POLICY)


def must_change(ctx: Context, account_id: str) -> bool:
    """Whether the account still signs in with a password an administrator chose for it."""
    with ctx.uow() as uow:
        account = uow.accounts.get(account_id)
    return bool(account is not None and account.must_change_password)


def change_password(ctx: Context, account_id: str, current: str, new: str) -> str:
    """Replace the password; returns a new session token (all others are signed out).

    ``InvalidCredentials`` when the current password is wrong (guesses back off as at sign-in),
    ``WeakPassword`` when the new one breaks the policy or repeats the current one."""
    key = throttle_key("password-change", account_id)
    with ctx.uow() as uow:
        throttle = uow.throttles.get(key)
        throttling.ensure_allowed(throttle.blocked_until if throttle else None, ctx.clock.now())
        account = uow.accounts.get(account_id)
        identifiers = [value for _, value in uow.accounts.identifiers(account_id)]
    if account is None or account.password_hash is None:
        raise ValidationFailed("this account signs in without a password", field="current_password")
    if not ctx.hasher.verify(account.password_hash, current):
        _failed(ctx, key)
    context = [*identifiers, account.first_name or "", account.last_name or ""]
    policy().check(new, context)
    if new == current:
        raise WeakPassword([SAME_PASSWORD])
    password_hash = ctx.hasher.hash(new)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        uow.accounts.set_password_hash(account_id, password_hash, must_change=False)
        uow.secrets.revoke_for(account_id, secrets.SecretPurpose.SESSION.value, now)
        backchannel.account_signed_out(uow, account_id, now)  # every session ended: their apps too
        uow.throttles.clear(key)
        record(
            uow,
            Actor(ActorKind.ACCOUNT, id=account_id),
            EventType.ACCOUNT_PASSWORD_CHANGED,
            "account",
            account_id,
            now,
            organization_id=None,
            initial_password=bool(account.must_change_password),
        )
        uow.commit()
    return start_session(ctx, account_id)


def _failed(ctx: Context, key: str) -> NoReturn:
    count_failure(ctx, key)
    raise InvalidCredentials("the current password is not correct", field="current_password")
