"""Adding an email address to one's own account (a username + phone person who later has an
address signs in with it too). The address is verified by a six-digit code sent to it: the code
is a typed secret of its own purpose (``EMAIL_VERIFICATION``), stored only as a digest bound to
the flow's handle and the address, single use, with ``CODE_ATTEMPTS`` wrong tries. The flow
(``add_email``) belongs to the signed-in account; its handle stays with the browser or client
that asked. Asking never tells whether the address belongs to someone else (the code is sent
either way); only the person who received the code learns that it cannot be added."""

from __future__ import annotations

from typing import Any

from admit.domain import secrets, throttling
from admit.domain.errors import Conflict, PermissionDenied, SecretRejected, ValidationFailed
from admit.domain.events import EventType
from admit.domain.identifiers import IdentifierKind, normalise_email
from admit.domain.ports import UnitOfWork
from admit.domain.secrets import FlowKind
from admit.flows.signin.sessions import throttle_key
from admit.shared import flow_state
from admit.shared.context import Actor, ActorKind, Context, record
from admit.shared.messages import enqueue

VERIFY = secrets.SecretPurpose.EMAIL_VERIFICATION
EMAIL = IdentifierKind.EMAIL.value


def _account(uow: UnitOfWork, account_id: str) -> Any:
    account = uow.accounts.get(account_id)
    if account is None or account.status != "active":
        raise PermissionDenied("sign in first", code="sign_in_required")
    return account


def start(ctx: Context, account_id: str, address: Any, *, replaces: str | None = None) -> str:
    """Send a code to ``address`` for the signed-in account and return the flow's handle (a flow
    this caller held before, ``replaces``, ends). Sending is throttled per address and account."""
    if not isinstance(address, str) or not address.strip():
        raise ValidationFailed("enter the email address to add", field="email", code="email_required")
    email = normalise_email(address)
    now = ctx.clock.now()
    code = ctx.random.digits(secrets.CODE_DIGITS)
    lifetime = secrets.fixed_lifetime(VERIFY)
    with ctx.uow(write=True) as uow:
        account = _account(uow, account_id)
        if (EMAIL, email) in set(uow.accounts.identifiers(account_id)):
            raise ValidationFailed(
                "your account already signs in with this address", field="email", code="already_yours"
            )
        for key in (throttle_key("add-email-send", email), throttle_key("add-email-account", account_id)):
            throttle = uow.throttles.get(key)
            throttling.ensure_allowed(throttle.blocked_until if throttle else None, now)
            wait = throttling.wait_after(uow.throttles.add_failure(key, now))
            uow.throttles.block_until(key, now + wait if wait else None)
        old = flow_state.find(uow, replaces, FlowKind.ADD_EMAIL, now, lock=True)
        if old is not None and old.account_id == account_id:
            flow_state.end(uow, old, now)
        handle, flow_id = flow_state.start(
            uow, ctx.random, now, FlowKind.ADD_EMAIL, {"email": email}, account_id=account_id
        )
        uow.secrets.add(
            purpose=VERIFY.value,
            digest=secrets.code_digest(handle, email, code),
            subject_id=flow_id,
            created_at=now,
            expires_at=now + lifetime,
        )
        enqueue(
            uow,
            kind="email_verification",
            channel="email",
            recipient=email,
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
    """The address this account's flow waits to confirm, or None (no live flow of this account)."""
    with ctx.uow() as uow:
        found = flow_state.find(uow, handle, FlowKind.ADD_EMAIL, ctx.clock.now())
    if found is None or found.account_id != account_id:
        return None
    return str(found.data["email"])


def confirm(ctx: Context, account_id: str, handle: str | None, code: Any) -> str:
    """Accept the code once: the address becomes one the account signs in with (returned).
    ``InvalidCode`` with the tries left; ``SecretRejected`` when the flow or code expired, was
    used or had too many wrong tries (ask for a new one); ``Conflict`` when another account
    signs in with the address (said only to whoever received the code)."""
    now = ctx.clock.now()
    typed = code.strip()[:20] if isinstance(code, str) else ""
    with ctx.uow(write=True) as uow:
        _account(uow, account_id)
        found = flow_state.find(uow, handle, FlowKind.ADD_EMAIL, now, lock=True)
        if found is None or found.account_id != account_id or handle is None:
            raise SecretRejected("this code has expired; ask for a new one", code="code_expired")
        secret = uow.secrets.live_for(found.id, VERIFY.value, lock=True)
        if secret is None or secret.expires_at is None or now >= secret.expires_at:
            raise SecretRejected("this code has expired; ask for a new one", code="code_expired")
        email = str(found.data["email"])
        flow_state.accept_code(uow, secret, handle, email, typed, now, code="code_expired")
        flow_state.end(uow, found, now)
        owner = uow.accounts.by_identifiers([(EMAIL, email)])
        if owner is not None and owner.id != account_id:
            uow.commit()
            raise Conflict("another account already signs in with this address", field="email", code="account_exists")
        if owner is None:
            uow.accounts.add_identifier(account_id, EMAIL, email, now)
            actor = Actor(ActorKind.ACCOUNT, id=account_id)
            record(uow, actor, EventType.ACCOUNT_EMAIL_ADDED, "account", account_id, now, organization_id=None)
        uow.commit()
    return email


def identifiers(ctx: Context, account_id: str) -> list[str]:
    """What the account signs in with (its email addresses, username and phone number)."""
    with ctx.uow() as uow:
        return [value for _, value in uow.accounts.identifiers(account_id)]
