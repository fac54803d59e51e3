"""Adding a sign-in identifier (an email address, a phone number) to one's own account, verified
by a six-digit code sent to it: the rules both :mod:`admit.flows.settings.emails` and
:mod:`admit.flows.settings.phones` follow, each with its :class:`Kind`.

The code is a typed secret of the kind's own purpose, stored only as a digest bound to the flow's
handle and the identifier, single use, with ``CODE_ATTEMPTS`` wrong tries. The flow belongs to
the signed-in account; its handle stays with the browser or client that asked. Sending is
throttled per identifier and per account (and an SMS counts against the SMS rate limits, in
``enqueue``). Asking never tells whether the identifier belongs to someone else (the code is sent
either way); only the person who received the code learns that it cannot be added."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from admit.domain import secrets, throttling
from admit.domain.errors import Conflict, PermissionDenied, SecretRejected, ValidationFailed
from admit.domain.events import EventType
from admit.domain.ports import UnitOfWork
from admit.domain.secrets import FlowKind, SecretPurpose
from admit.flows.signin.sessions import throttle_key
from admit.shared import flow_state
from admit.shared.context import Actor, ActorKind, Context, record
from admit.shared.messages import enqueue


@dataclass(frozen=True)
class Kind:
    identifier: str  # IdentifierKind's value, and the field errors name and the flow keeps
    noun: str  # "address", "number": what the person is told
    flow: FlowKind
    purpose: SecretPurpose
    message: str  # the message kind carrying the code
    channel: str
    event: EventType
    throttle: str  # the throttles' prefix


def _account(uow: UnitOfWork, account_id: str) -> Any:
    account = uow.accounts.get(account_id)
    if account is None or account.status != "active":
        raise PermissionDenied("sign in first", code="sign_in_required")
    return account


def start(ctx: Context, kind: Kind, account_id: str, value: str, *, replaces: str | None = None) -> str:
    """Send a code to ``value`` (normalised already) for the signed-in account and return the
    flow's handle (a flow this caller held before, ``replaces``, ends)."""
    now = ctx.clock.now()
    code = ctx.random.digits(secrets.CODE_DIGITS)
    lifetime = secrets.fixed_lifetime(kind.purpose)
    with ctx.uow(write=True) as uow:
        account = _account(uow, account_id)
        if (kind.identifier, value) in set(uow.accounts.identifiers(account_id)):
            raise ValidationFailed(
                f"your account already signs in with this {kind.noun}", field=kind.identifier, code="already_yours"
            )
        for key in (throttle_key(f"{kind.throttle}-send", value), throttle_key(f"{kind.throttle}-account", account_id)):
            throttle = uow.throttles.get(key)
            throttling.ensure_allowed(throttle.blocked_until if throttle else None, now)
            wait = throttling.wait_after(uow.throttles.add_failure(key, now))
            uow.throttles.block_until(key, now + wait if wait else None)
        old = flow_state.find(uow, replaces, kind.flow, now, lock=True)
        if old is not None and old.account_id == account_id:
            flow_state.end(uow, old, now)
        data = {kind.identifier: value}
        handle, flow_id = flow_state.start(uow, ctx.random, now, kind.flow, data, account_id=account_id)
        uow.secrets.add(
            purpose=kind.purpose.value,
            digest=secrets.code_digest(handle, value, code),
            subject_id=flow_id,
            created_at=now,
            expires_at=now + lifetime,
        )
        enqueue(  # an SMS is counted against the SMS rate limits: a refusal rolls all of this back
            uow,
            kind=kind.message,
            channel=kind.channel,
            recipient=value,
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


def pending(ctx: Context, kind: Kind, account_id: str, handle: str | None) -> str | None:
    """The identifier this account's flow waits to confirm, or None (no live flow of this account)."""
    with ctx.uow() as uow:
        found = flow_state.find(uow, handle, kind.flow, ctx.clock.now())
    if found is None or found.account_id != account_id:
        return None
    return str(found.data[kind.identifier])


def confirm(ctx: Context, kind: Kind, account_id: str, handle: str | None, code: Any) -> str:
    """Accept the code once: the identifier becomes one the account signs in with (returned).
    ``InvalidCode`` with the tries left; ``SecretRejected`` when the flow or code expired, was
    used or had too many wrong tries (ask for a new one); ``Conflict`` when another account
    signs in with it (said only to whoever received the code)."""
    now = ctx.clock.now()
    typed = code.strip()[:20] if isinstance(code, str) else ""
    with ctx.uow(write=True) as uow:
        _account(uow, account_id)
        found = flow_state.find(uow, handle, kind.flow, now, lock=True)
        if found is None or found.account_id != account_id or handle is None:
            raise SecretRejected("this code has expired; ask for a new one", code="code_expired")
        secret = uow.secrets.live_for(found.id, kind.purpose.value, lock=True)
        if secret is None or secret.expires_at is None or now >= secret.expires_at:
            raise SecretRejected("this code has expired; ask for a new one", code="code_expired")
        value = str(found.data[kind.identifier])
        flow_state.accept_code(uow, secret, handle, value, typed, now, code="code_expired")
        flow_state.end(uow, found, now)
        owner = uow.accounts.by_identifiers([(kind.identifier, value)])
        if owner is not None and owner.id != account_id:
            uow.commit()
            raise Conflict(
                f"another account already signs in with this {kind.noun}", field=kind.identifier, code="account_exists"
            )
        if owner is None:
            uow.accounts.add_identifier(account_id, kind.identifier, value, now)
            actor = Actor(ActorKind.ACCOUNT, id=account_id)
            record(uow, actor, kind.event, "account", account_id, now, organization_id=None)
        uow.commit()
    return value


def identifiers(ctx: Context, account_id: str) -> list[str]:
    """What the account signs in with (its email addresses, username and phone number)."""
    with ctx.uow() as uow:
        return [value for _, value in uow.accounts.identifiers(account_id)]
