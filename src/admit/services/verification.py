"""Email verification by a six-digit code (the "Sign up" journeys): the code goes to the address
by email; the browser holds the challenge it belongs to; a few wrong guesses withdraw it."""

from __future__ import annotations

from admit.domain import secrets, throttling
from admit.domain.errors import InvalidCode, SecretRejected
from admit.domain.identifiers import normalise_email
from admit.services.context import Context
from admit.services.messages import enqueue
from admit.services.sessions import throttle_key

VERIFY = secrets.SecretPurpose.EMAIL_VERIFICATION


def send_code(
    ctx: Context,
    address: str,
    *,
    language: str,
    first_name: str | None = None,
    organization_id: str | None = None,
    workspace_id: str | None = None,
) -> str:
    """Email a new code to ``address`` and return the challenge the caller keeps (in the
    person's browser). Sending is throttled per address: a few codes, then growing waits."""
    address = normalise_email(address)
    key = throttle_key("verify-send", address)
    challenge = ctx.random.token(secrets.CHALLENGE_BYTES)
    code = ctx.random.digits(secrets.CODE_DIGITS)
    now = ctx.clock.now()
    lifetime = secrets.LIFETIMES[VERIFY]
    assert lifetime is not None
    with ctx.uow(write=True) as uow:
        throttle = uow.throttles.get(key)
        throttling.ensure_allowed(throttle.blocked_until if throttle else None, now)
        sent = uow.throttles.add_failure(key, now)  # counts codes sent to this address
        wait = throttling.wait_after(sent)
        uow.throttles.block_until(key, now + wait if wait else None)
        uow.secrets.add(
            purpose=VERIFY.value,
            digest=secrets.code_digest(challenge, address, code),
            organization_id=organization_id,
            subject_id=secrets.challenge_key(challenge),
            created_at=now,
            expires_at=now + lifetime,
        )
        enqueue(
            uow,
            kind="email_verification",
            channel="email",
            recipient=address,
            language=language,
            subject_id=secrets.challenge_key(challenge),
            organization_id=organization_id,
            workspace_id=workspace_id,
            now=now,
            payload={"code": code, "first_name": first_name, "expires_minutes": int(lifetime.total_seconds() // 60)},
        )
        uow.commit()
    return challenge


def check_code(ctx: Context, challenge: str, address: str, code: str) -> None:
    """Accept the code once, or raise ``InvalidCode`` (attempts left) or ``SecretRejected`` (the
    code expired, was used, or had too many wrong guesses: ask for a new one)."""
    address = normalise_email(address)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        secret = uow.secrets.live_for(secrets.challenge_key(challenge), VERIFY.value, lock=True)
        if secret is None or secret.expires_at is None or now >= secret.expires_at:
            raise SecretRejected("this code has expired; ask for a new one")
        if not secrets.same_digest(secret.digest, secrets.code_digest(challenge, address, code)):
            uow.secrets.count_attempt(secret.id)
            left = secrets.CODE_ATTEMPTS - secret.attempts - 1
            if left <= 0:
                uow.secrets.revoke(secret.id, now)
            uow.commit()
            if left <= 0:
                raise SecretRejected("too many wrong codes; ask for a new one")
            raise InvalidCode(left)
        uow.secrets.consume(secret.id, now)
        uow.commit()
