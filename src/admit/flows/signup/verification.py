"""Email verification by a six-digit code (the "Sign up" journeys): the code goes to the invited
address by email; it belongs to a sign-up flow whose handle only the browser or API client that
asked holds; a few wrong guesses withdraw it. The verified address is recorded in the flow, on
the server, bound to the invitation (the claim checks it: ``claims.claim_and_sign_in``)."""

from __future__ import annotations

from datetime import datetime

from admit.domain import secrets, throttling
from admit.domain.errors import Conflict, SecretRejected
from admit.domain.identifiers import normalise_email
from admit.domain.ports import UnitOfWork
from admit.domain.secrets import FlowKind
from admit.flows.invitation import claims
from admit.flows.signin.sessions import throttle_key
from admit.i18n import pick_language
from admit.shared import flow_state
from admit.shared.context import Context
from admit.shared.messages import enqueue

VERIFY = secrets.SecretPurpose.EMAIL_VERIFICATION


def start(ctx: Context, token: str, *, replaces: str | None = None) -> str:
    """Email a code to the address an invitation was sent to, for a sign-up, and return the
    handle of the new sign-up flow (the caller keeps it: the browser in a cookie, an API client
    as a token). A flow the caller held before (``replaces``) ends. ``Conflict`` when the
    invitation's welcome is not a sign-up."""
    info = claims.inspect_token(ctx, token)
    if info["mode"] not in claims.SIGN_UP:
        raise Conflict("this invitation does not ask for a sign-up", code="not_a_sign_up")
    member, workspace = info["member"], info["workspace"]
    return send_code(
        ctx,
        info["invitation"].email,
        language=pick_language(member.get("language"), workspace["default_language"]),
        first_name=member.get("first_name"),
        organization_id=member["organization_id"],
        workspace_id=member["workspace_id"],
        invitation_id=info["invitation"].id,
        replaces=replaces,
    )


def send_code(
    ctx: Context,
    address: str,
    *,
    language: str,
    first_name: str | None = None,
    organization_id: str | None = None,
    workspace_id: str | None = None,
    invitation_id: str | None = None,
    replaces: str | None = None,
) -> str:
    """Email a new code to ``address`` and return the handle of the sign-up flow it belongs to.
    Sending is throttled per address: a few codes, then growing waits."""
    address = normalise_email(address)
    code = ctx.random.digits(secrets.CODE_DIGITS)
    now = ctx.clock.now()
    lifetime = secrets.fixed_lifetime(VERIFY)
    with ctx.uow(write=True) as uow:
        _count_code_sent(uow, address, now)
        handle, flow_id = _new_flow(ctx, uow, address, replaces, now, organization_id, invitation_id)
        expires = now + lifetime
        digest = secrets.code_digest(handle, address, code)
        owner = {"organization_id": organization_id, "subject_id": flow_id}
        uow.secrets.add(purpose=VERIFY.value, digest=digest, **owner, created_at=now, expires_at=expires)
        payload = {"code": code, "first_name": first_name, "expires_minutes": int(lifetime.total_seconds() // 60)}
        enqueue(
            uow,
            kind="email_verification",
            channel="email",
            recipient=address,
            language=language,
            subject_id=flow_id,
            organization_id=organization_id,
            workspace_id=workspace_id,
            now=now,
            payload=payload,
        )
        uow.commit()
    return handle


def _new_flow(
    ctx: Context,
    uow: UnitOfWork,
    address: str,
    replaces: str | None,
    now: datetime,
    organization_id: str | None,
    invitation_id: str | None,
) -> tuple[str, str]:
    """A sign-up flow for ``address``, ending the one it replaces."""
    old = flow_state.find(uow, replaces, FlowKind.SIGN_UP, now, lock=True)
    if old is not None:
        flow_state.end(uow, old, now)
    state = {"email": address, "verified": False}
    return flow_state.start(
        uow, ctx.random, now, FlowKind.SIGN_UP, state, organization_id=organization_id, invitation_id=invitation_id
    )


def _count_code_sent(uow: UnitOfWork, address: str, now: datetime) -> None:
    """Refuse while the address is throttled; otherwise count this code, and wait longer after each."""
    key = throttle_key("verify-send", address)
    throttle = uow.throttles.get(key)
    throttling.ensure_allowed(throttle.blocked_until if throttle else None, now)
    sent = uow.throttles.add_failure(key, now)
    wait = throttling.wait_after(sent)
    uow.throttles.block_until(key, now + wait if wait else None)


def check_code(ctx: Context, flow: str, code: str) -> str:
    """Accept the code of a sign-up flow once and record, in the flow, that its address is
    verified (returned); or raise ``InvalidCode`` (attempts left) or ``SecretRejected`` (the
    flow or code expired, was used, or had too many wrong guesses: ask for a new one). A code
    works only with the handle of the flow that asked for it."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        found = flow_state.find(uow, flow, FlowKind.SIGN_UP, now, lock=True)
        secret = uow.secrets.live_for(found.id, VERIFY.value, lock=True) if found is not None else None
        if found is None or secret is None or secret.expires_at is None or now >= secret.expires_at:
            raise SecretRejected("this code has expired; ask for a new one")
        address = found.data["email"]
        flow_state.accept_code(uow, secret, flow, address, code, now)
        flow_state.update(uow, found, {**found.data, "verified": True})
        uow.commit()
    return str(address)


def progress(ctx: Context, invitation_id: str, flow: str | None) -> str | None:
    """How far the sign-up flow ``flow`` of this invitation is: ``code_sent``, ``verified``, or
    None (no live sign-up flow of this invitation)."""
    if not flow:  # nothing to look up: no transaction (every welcome page asks)
        return None
    with ctx.uow() as uow:
        found = flow_state.find(uow, flow, FlowKind.SIGN_UP, ctx.clock.now())
    if found is None or found.invitation_id != invitation_id:
        return None
    return "verified" if found.data.get("verified") is True else "code_sent"
