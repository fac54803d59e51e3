"""Idempotency keys of the REST API (as Stripe has them): a client sends ``Idempotency-Key`` with a
POST, PATCH, PUT or DELETE, and a retry with the same key gets the first answer again instead of
doing the work twice, whichever process it reaches.

The rules, all here (the ASGI middleware in ``entrypoints/web/idempotency.py`` only carries them
out for ``/api/v1``):

- A key is 1 to 255 printable ASCII characters; anything else is refused with 400.
- Keys belong to the caller: the bearer token (its SHA-256 digest, which is also how Admit stores
  it), so two tokens never see each other's answers. A request without a token ignores the key.
- The key's row is inserted "in flight" in a transaction of its own before the request runs; the
  primary key (caller, key) decides between two processes that get the same retry at once: the
  second answers 409 ``idempotency_in_flight``. A key still in flight after ``STALE`` (5 minutes,
  ``ADMIT_IDEMPOTENCY_STALE_SECONDS``: its process died mid-request, and its transaction with it)
  is taken over by the next retry of the same request.
- The row remembers a hash of the method, path and body; the same key with another request answers
  422 ``idempotency_key_reused``.
- When the request finishes below 500, its status, content type and body are stored and every
  retry gets them back with ``Idempotent-Replayed: true``. A 5xx answer (or a crash), or a 401 (the
  token was not valid: nobody's key), forgets the key, so the client may try again with it.
- Keys are kept for ``KEEP`` (24 hours) and then deleted by the periodic work (:func:`expire`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from admit.shared.context import Context

KEEP = timedelta(hours=24)
STALE = timedelta(minutes=5)  # an API request still "in flight" after this died with its process
_stale = [STALE]


def configure(stale: timedelta = STALE) -> None:
    """How long a key stays "in flight" before a retry may take it over (set by admit.bootstrap):
    longer than any request takes, or a slow first request and its retry could both run."""
    if stale <= timedelta(0):
        raise ValueError("the idempotency stale time must be positive")
    _stale[0] = stale


MAX_KEY = 255
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Decision(StrEnum):
    RUN = "run"  # first time: run the request, then finish() or forget()
    REPLAY = "replay"  # answer with the stored response
    IN_FLIGHT = "in_flight"  # 409: the first request has not finished
    REUSED = "reused"  # 422: the key came with another request


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    status: int = 0
    content_type: str | None = None
    body: bytes = b""


def valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY and all(" " <= ch <= "~" for ch in key)


def caller_of(bearer_token: str) -> str:
    """Whose keys these are: the token's digest (never the token itself)."""
    return "t:" + hashlib.sha256(bearer_token.encode("utf-8")).hexdigest()


def request_hash(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode("utf-8", "replace"), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def begin(ctx: Context, caller: str, key: str, hashed: str) -> Outcome:
    """Claim ``key`` for this request, or say what to answer instead (see the module docstring)."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        if uow.idempotency_keys.begin(caller, key, hashed, now, now + KEEP) or uow.idempotency_keys.take_over(
            caller, key, hashed, now, now - _stale[0]
        ):
            uow.commit()
            return Outcome(Decision.RUN)
        row = uow.idempotency_keys.get(caller, key)
    if row is None:  # expired and deleted in between: a rare race, treated as a retry in flight
        return Outcome(Decision.IN_FLIGHT)
    if row.request_hash != hashed:
        return Outcome(Decision.REUSED)
    if row.state != "done":
        return Outcome(Decision.IN_FLIGHT)
    return Outcome(Decision.REPLAY, int(row.status), row.content_type, bytes(row.body or b""))


def finish(ctx: Context, caller: str, key: str, status: int, content_type: str | None, body: bytes) -> None:
    """Store the first answer (or forget the key when the server failed: the client may retry)."""
    with ctx.uow(write=True) as uow:
        if status >= 500 or status == 401:  # a failure, or no caller after all
            uow.idempotency_keys.forget(caller, key)
        else:
            uow.idempotency_keys.finish(caller, key, status, content_type, body)
        uow.commit()


def forget(ctx: Context, caller: str, key: str) -> None:
    with ctx.uow(write=True) as uow:
        uow.idempotency_keys.forget(caller, key)
        uow.commit()


def expire(ctx: Context) -> int:
    """Delete keys older than ``KEEP`` (periodic work)."""
    with ctx.uow(write=True) as uow:
        count = uow.idempotency_keys.expire(ctx.clock.now())
        uow.commit()
    return count
