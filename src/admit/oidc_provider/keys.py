"""The provider's signing keys: RSA (RS256), stored with the private key encrypted at rest (the
sealing used for identity providers' client secrets).

A key is ``next`` (published in the JWKS, not signing yet), then ``current`` (signs), then
``retired`` (published until every token it signed has expired, then deleted). The first use
creates a current key and a next one; each rotation retires the current key, promotes the next
(published since the previous rotation, so relying parties that cache the JWKS know it) and
creates a new next one.

Each process keeps the stored keys it read for ``KEYS_FRESH_FOR`` (they are on every token's
path): a rotation made by another process is seen within that time. Nothing depends on seeing it
sooner: the promoted key was published since the previous rotation, the retired one stays
published until its tokens expire, and a token signed by a key this process has not read yet
makes it read the keys again (:func:`verification_keys`)."""

from __future__ import annotations

import base64
import functools
import json
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from joserfc.jwk import KeySet, RSAKey

from admit.adapters.identity.sealing import seal, unseal
from admit.domain.events import EventType
from admit.domain.ports import UnitOfWork
from admit.domain.records import Record
from admit.shared.context import Actor, Context, record

ALGORITHM = "RS256"
KEY_BITS = 2048
TOKEN_LIFETIME = timedelta(hours=1)  # ID and access tokens
CLOCK_SKEW = timedelta(minutes=5)  # a retired key stays published a little longer
KEYS_FRESH_FOR = 30.0  # seconds a process reuses the stored keys it read


@dataclass(frozen=True)
class SigningKey:
    kid: str
    key: RSAKey

    def __repr__(self) -> str:  # never the private key in logs
        return f"SigningKey(kid={self.kid!r})"


def _new_key(ctx: Context, uow: UnitOfWork, state: str) -> str:
    now = ctx.clock.now()
    key = RSAKey.generate_key(KEY_BITS, auto_kid=False)
    kid = ctx.random.token(12)
    uow.signing_keys.add(
        id=kid,
        state=state,
        private_key=seal(ctx.secret_key, key.as_pem(private=True).decode()),
        public_jwk=dict(key.as_dict(private=False, kid=kid, use="sig", alg=ALGORITHM)),
        created_at=now,
        activated_at=now if state == "current" else None,
    )
    return kid


class _StoredKeys:
    """The stored keys as this process last read them, per database (see the module's docstring)."""

    def __init__(self) -> None:
        self._read: weakref.WeakKeyDictionary[Any, tuple[float, Sequence[Record]]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def rows(self, ctx: Context, *, fresh: bool = False) -> Sequence[Record]:
        """Every stored key, the newest first."""
        kept = None if fresh else self._read.get(ctx.uow)
        if kept is not None and time.monotonic() - kept[0] < KEYS_FRESH_FOR:
            return kept[1]
        with ctx.uow() as uow:
            rows = tuple(uow.signing_keys.list())
        with self._lock:
            self._read[ctx.uow] = (time.monotonic(), rows)
        return rows

    def forget(self, ctx: Context) -> None:
        with self._lock:
            self._read.pop(ctx.uow, None)


_STORED = _StoredKeys()


def _current(rows: Sequence[Record]) -> Record | None:
    return next((row for row in rows if row.state == "current"), None)


def signing_key(ctx: Context) -> SigningKey:
    """The key that signs now; the first call creates it (and the next one)."""
    row = _current(_STORED.rows(ctx))
    if row is None:
        with ctx.uow(write=True) as uow:
            row = _current(uow.signing_keys.list())
            if row is None:
                _new_key(ctx, uow, "current")
                _new_key(ctx, uow, "next")
                row = _current(uow.signing_keys.list())
            uow.commit()
        _STORED.forget(ctx)
    assert row is not None
    return _opened(ctx.secret_key, row.id, row.private_key)


@functools.lru_cache(maxsize=16)
def _opened(secret_key: str, kid: str, sealed: str) -> SigningKey:
    """A stored key, decrypted and parsed. Parsing checks the RSA key, which costs more than the
    rest of a token request, so each process does it once per key (the cache holds nothing
    another process needs: the stored key is the same for all)."""
    return SigningKey(kid, RSAKey.import_key(unseal(secret_key, sealed)))


def _published(rows: Sequence[Record], now: Any) -> list[Record]:
    """The keys in the JWKS (oldest first): next, current, and retired ones whose tokens may still
    be live."""
    live = [row for row in rows if row.state != "retired" or (row.published_until and row.published_until > now)]
    return sorted(live, key=lambda row: (row.created_at, row.id))


def verification_keys(ctx: Context, token: str | None = None) -> KeySet:
    """The published keys, to verify a token Admit signed (each set of keys is parsed once per
    process). A ``token`` signed by a key this process has not read yet: the keys read again."""
    rows = _STORED.rows(ctx)
    if token is not None and _kid(token) not in {row.id for row in rows}:
        rows = _STORED.rows(ctx, fresh=True)
    published = _published(rows, ctx.clock.now())
    return _key_set(tuple(json.dumps(row.public_jwk, sort_keys=True) for row in published))


def _kid(token: str) -> str | None:
    """The ``kid`` a compact JWS names in its header, if it can be read."""
    try:
        header = json.loads(base64.urlsafe_b64decode(token.split(".", 1)[0] + "=="))
    except (ValueError, UnicodeDecodeError):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


@functools.lru_cache(maxsize=8)
def _key_set(published: tuple[str, ...]) -> KeySet:
    return KeySet.import_key_set({"keys": [json.loads(jwk) for jwk in published]})


def jwks(ctx: Context) -> dict[str, Any]:
    """The published keys (next, current, retired but not yet expired)."""
    signing_key(ctx)
    return {"keys": [dict(row.public_jwk) for row in _published(_STORED.rows(ctx), ctx.clock.now())]}


def rotate(ctx: Context, actor: Actor) -> dict[str, Any]:
    """Retire the current key, promote the next one, publish a new next one."""
    signing_key(ctx)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        rows = uow.signing_keys.list()
        current = [row for row in rows if row.state == "current"]
        upcoming = [row for row in rows if row.state == "next"]
        for row in current:
            uow.signing_keys.update(
                row.id, state="retired", retired_at=now, published_until=now + TOKEN_LIFETIME + CLOCK_SKEW
            )
        if upcoming:
            promoted = upcoming[-1].id  # the oldest next key: published the longest
            uow.signing_keys.update(promoted, state="current", activated_at=now)
        else:
            promoted = _new_key(ctx, uow, "current")
        new_next = _new_key(ctx, uow, "next")
        removed = uow.signing_keys.remove_expired(now)
        retired = [row.id for row in current]
        record(uow, actor, EventType.SIGNING_KEY_ROTATED, "signing_key", promoted, now, organization_id=None)
        uow.commit()
    _STORED.forget(ctx)
    return {"current": promoted, "next": new_next, "retired": retired, "removed": removed}


def keys_overview(ctx: Context) -> list[dict[str, Any]]:
    """Every stored key without its private part (for the CLI)."""
    with ctx.uow() as uow:
        rows = uow.signing_keys.list()
    fields = ("id", "state", "created_at", "activated_at", "retired_at", "published_until")
    return [{name: getattr(row, name) for name in fields} for row in rows]
