"""Adding a phone number to one's own account (issue 16: a number the directory now lists for the
person, which SCIM does not add by itself under the workspace's ``verify`` policy). The number
is verified by a six-digit code texted to it, as :mod:`admit.flows.settings.emails` verifies an
address: the code is a typed secret of its own purpose (``PHONE_VERIFICATION``), stored only as a
digest bound to the flow's handle and the number, single use, with ``CODE_ATTEMPTS`` wrong tries;
sending is throttled per number and account, and every SMS counts against the SMS rate limits.
The number is read as sign-in reads one (``normalise_phone`` with the instance's phone region).
Asking never tells whether the number belongs to someone else (the code is sent either way);
only the person who received the code learns that it cannot be added."""

from __future__ import annotations

from typing import Any

from admit.domain import secrets, throttling
from admit.domain.errors import Conflict, PermissionDenied, SecretRejected, ValidationFailed
from admit.domain.events import EventType
from admit.domain.identifiers import IdentifierKind, normalise_phone
from admit.domain.ports import UnitOfWork
from admit.domain.secrets import FlowKind
from admit.flows.signin.sessions import throttle_key
from admit.shared import flow_state
from admit.shared.context import Actor, ActorKind, Context, record
from admit.shared.messages import enqueue

VERIFY = secrets.SecretPurpose.PHONE_VERIFICATION
PHONE = IdentifierKind.PHONE.value
MAX_TYPED = 40  # characters of a typed number worth reading


def _account(uow: UnitOfWork, account_id: str) -> Any:
    account = uow.accounts.get(account_id)
    if account is None or account.status != "active":
        raise PermissionDenied("sign in first", code="sign_in_required")
    return account


def _number(ctx: Context, typed: Any) -> str:
    if not isinstance(typed, str) or not typed.strip():
        raise ValidationFailed("enter the phone number to add", field="phone", code="phone_required")
    if len(typed) > MAX_TYPED:
        raise ValidationFailed(f"a phone number is at most {MAX_TYPED} characters", field="phone")
    return normalise_phone(typed, region=ctx.phone_region)


def start(ctx: Context, account_id: str, number: Any, *, replaces: str | None = None) -> str:
    """Text a code to ``number`` for the signed-in account and return the flow's handle (a flow
    this caller held before, ``replaces``, ends). Sending is throttled per number and account
    (``TooManyAttempts``) and counted against the SMS rate limits (``RateLimited``)."""
    phone = _number(ctx, number)
    now = ctx.clock.now()
    code = ctx.random.digits(secrets.CODE_DIGITS)
    lifetime = secrets.fixed_lifetime(VERIFY)
    with ctx.uow(write=True) as uow:
        account = _account(uow, account_id)
        if (PHONE, phone) in set(uow.accounts.identifiers(account_id)):
            raise ValidationFailed(
                "your account already signs in with this number", field="phone", code="already_yours"
            )
        for key in (throttle_key("add-phone-send", phone), throttle_key("add-phone-account", account_id)):
            throttle = uow.throttles.get(key)
            throttling.ensure_allowed(throttle.blocked_until if throttle else None, now)
            wait = throttling.wait_after(uow.throttles.add_failure(key, now))
            uow.throttles.block_until(key, now + wait if wait else None)
        old = flow_state.find(uow, replaces, FlowKind.ADD_PHONE, now, lock=True)
        if old is not None and old.account_id == account_id:
            flow_state.end(uow, old, now)
        handle, flow_id = flow_state.start(
            uow, ctx.random, now, FlowKind.ADD_PHONE, {"phone": phone}, account_id=account_id
        )
        uow.secrets.add(
            purpose=VERIFY.value,
            digest=secrets.code_digest(handle, phone, code),
            subject_id=flow_id,
            created_at=now,
            expires_at=now + lifetime,
        )
        enqueue(  # counted against the SMS rate limits: a refusal rolls all of this back
            uow,
            kind="phone_verification",
            channel="sms",
            recipient=phone,
            language=account.language or "en",
            subject_id=flow_id,
            organization_id=None,
            workspace_id=None,
            now=now,
            payload={
                "code": code,
                "first_name": account.first_name,
                "expires_minutes": int(lifetime.total_seconds() // 60),
            },
        )
        uow.commit()
    return handle


def pending(ctx: Context, account_id: str, handle: str | None) -> str | None:
    """The number this account's flow waits to confirm, or None (no live flow of this account)."""
    with ctx.uow() as uow:
        found = flow_state.find(uow, handle, FlowKind.ADD_PHONE, ctx.clock.now())
    if found is None or found.account_id != account_id:
        return None
    return str(found.data["phone"])


def confirm(ctx: Context, account_id: str, handle: str | None, code: Any) -> str:
    """Accept the code once: the number becomes one the account signs in with (returned).
    ``InvalidCode`` with the tries left; ``SecretRejected`` when the flow or code expired, was
    used or had too many wrong tries (ask for a new one); ``Conflict`` when another account
    signs in with the number (said only to whoever received the code)."""
    now = ctx.clock.now()
    typed = code.strip()[:20] if isinstance(code, str) else ""
    with ctx.uow(write=True) as uow:
        _account(uow, account_id)
        found = flow_state.find(uow, handle, FlowKind.ADD_PHONE, now, lock=True)
        if found is None or found.account_id != account_id or handle is None:
            raise SecretRejected("this code has expired; ask for a new one", code="code_expired")
        secret = uow.secrets.live_for(found.id, VERIFY.value, lock=True)
        if secret is None or secret.expires_at is None or now >= secret.expires_at:
            raise SecretRejected("this code has expired; ask for a new one", code="code_expired")
        phone = str(found.data["phone"])
        flow_state.accept_code(uow, secret, handle, phone, typed, now, code="code_expired")
        flow_state.end(uow, found, now)
        owner = uow.accounts.by_identifiers([(PHONE, phone)])
        if owner is not None and owner.id != account_id:
            uow.commit()
            raise Conflict("another account already signs in with this number", field="phone", code="account_exists")
        if owner is None:
            uow.accounts.add_identifier(account_id, PHONE, phone, now)
            actor = Actor(ActorKind.ACCOUNT, id=account_id)
            record(uow, actor, EventType.ACCOUNT_PHONE_ADDED, "account", account_id, now, organization_id=None)
        uow.commit()
    return phone
