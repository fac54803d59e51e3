"""Apps that prove who they are with a signed JWT instead of a secret: ``private_key_jwt``
(OpenID Connect Core 9, RFC 7523 2.2). The app registers its public keys (an inline JWKS) or
where it publishes them (``jwks_uri``), and signs, for each call to the token, revocation or
introspection endpoint, an assertion with ``iss`` = ``sub`` = its client id, ``aud`` = the issuer
or one of those endpoints, an ``exp`` at most an hour ahead and a ``jti`` that works once.

Keys at a ``jwks_uri`` are fetched when an assertion needs them (public addresses only outside dev
mode, no redirects, 64 KB and 5 seconds at most: :func:`admit.adapters.delivery.outbound.get_json`)
and kept by each process for as long as the answer's ``Cache-Control: max-age`` says (one minute to
an hour; five minutes without one). An assertion signed by a key the kept set lacks fetches the set
again, at most once every 30 seconds per app, so an app rotating its keys is followed at once. When
the app's address fails, the keys last read (up to a day old) keep serving, and the failure is
logged (and remembered for 30 seconds: no read per request while an address is down); with none,
the app gets ``invalid_client`` (the reason in dev mode; outside it, only in the server's log, as
it may describe the network). Only signing keys Admit accepts
are kept from the set (RSA of 2048 to 8192 bits, EC P-256; encryption keys and others are passed
over); a set with a private key in it is refused whole.

Authlib's ``JWTBearerClientAssertion`` finds the app; joserfc checks the signature with the app's
keys and RS256 or ES256 only, whatever the header says: ``none`` and the HMAC algorithms are
refused, so a public key can never serve as an HMAC secret ("algorithm confusion")."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from authlib.oauth2.rfc6749 import InvalidClientError  # type: ignore[import-untyped]
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, KeySet
from joserfc.util import base64_to_int

from admit.adapters.delivery import outbound
from admit.domain import secrets
from admit.domain.errors import ValidationFailed
from admit.shared.context import Context

METHOD = "private_key_jwt"
ALGORITHMS = ("RS256", "ES256")
KEY_TYPES = {"RSA": "RS256", "EC": "ES256"}  # the one algorithm each kind of key signs with
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
KEPT_MEMBERS = ("kty", "kid", "alg", "use", "n", "e", "crv", "x", "y")
MAX_KEYS = 10
MIN_RSA_BITS, MAX_RSA_BITS = 2048, 8192
MAX_KID = 100
MAX_LIFETIME = timedelta(hours=1)  # an assertion's exp at most this far ahead (its jti is kept until then)
LEEWAY = 60  # seconds of clock skew allowed on exp
# Keys at an app's jwks_uri (see the module's docstring).
FETCH_MAX_BYTES = 64 * 1024
FETCH_TIMEOUT_SECONDS = 5.0
KEPT_SECONDS_DEFAULT, KEPT_SECONDS_MIN, KEPT_SECONDS_MAX = 300, 60, 3600
REFETCH_SECONDS = 30  # an unknown kid fetches the set again at most this often per app
STALE_SECONDS = 24 * 3600  # the last keys read serve this long while the app's address fails
MAX_FETCHED_KEYS = 50  # keys looked at in a fetched set

log = logging.getLogger(__name__)


def _bad(message: str) -> ValidationFailed:
    return ValidationFailed(message, field="jwks")


def client_keys(value: Any) -> dict[str, Any]:
    """The app's public keys as Admit stores them (each read by joserfc, with a ``kid``), or
    ``ValidationFailed`` naming ``jwks``."""
    items = value.get("keys") if isinstance(value, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_KEYS:
        raise _bad(f'a JSON Web Key Set is required: {{"keys": [...]}} with 1 to {MAX_KEYS} public keys')
    keys = [_public_key(item) for item in items]
    kids = [key["kid"] for key in keys]
    if len(set(kids)) != len(kids):
        raise _bad("each key needs a kid of its own")
    return {"keys": keys}


def _public_key(item: Any) -> dict[str, Any]:
    kind = item.get("kty") if isinstance(item, dict) else None
    if not isinstance(kind, str) or kind not in KEY_TYPES:
        raise _bad("only RSA keys (RS256) and EC P-256 keys (ES256) are accepted")
    if any(name in item for name in PRIVATE_MEMBERS):
        raise _bad("public keys only: the private key stays with the app")
    if item.get("alg", KEY_TYPES[kind]) != KEY_TYPES[kind] or item.get("use", "sig") != "sig":
        raise _bad(f"an {kind} key here signs with {KEY_TYPES[kind]} (use: sig)")
    if kind == "RSA" and not MIN_RSA_BITS <= _modulus_bits(item) <= MAX_RSA_BITS:  # before joserfc warns
        raise _bad(f"RSA keys have {MIN_RSA_BITS} to {MAX_RSA_BITS} bits")
    kid = item.get("kid", "-")  # none given: joserfc names the key by its thumbprint
    if not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID:
        raise _bad(f"a kid is a string of 1 to {MAX_KID} characters")
    try:
        key = JWKRegistry.import_key(item)
        key.ensure_kid()
    except (JoseError, ValueError, TypeError, KeyError):
        raise _bad("a key could not be read") from None
    if isinstance(key, ECKey) and key.curve_name != "P-256":
        raise _bad("EC keys must be on the P-256 curve")
    return {name: value for name, value in key.as_dict(private=False).items() if name in KEPT_MEMBERS}


def fetched_keys(document: Any) -> dict[str, Any]:
    """The keys Admit accepts from a set an app publishes, as :func:`client_keys` keeps them;
    other keys (encryption keys, other types and sizes) are passed over. ``ValidationFailed``
    when none is usable or one carries a private part."""
    items = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise _bad('the document is not a JSON Web Key Set ({"keys": [...]})')
    kept: list[dict[str, Any]] = []
    for item in items[:MAX_FETCHED_KEYS]:
        if isinstance(item, dict) and any(name in item for name in PRIVATE_MEMBERS):
            raise _bad("the set holds a private key: it is not used")
        try:
            key = _public_key(item)
        except ValidationFailed:
            continue
        if all(other["kid"] != key["kid"] for other in kept):
            kept.append(key)
    if not kept:
        raise _bad("the set holds no RSA (RS256) or EC P-256 (ES256) signing key")
    return {"keys": kept}


@dataclass(frozen=True)
class _Kept:
    keys: KeySet
    kids: frozenset[str]
    read_at: float  # seconds since the epoch, by the context's clock
    fresh_until: float


class RemoteKeys:
    """The key sets read from apps' ``jwks_uri``, kept by this process (a cache: another process
    reads its own), by app and address. One read at a time per app and address (requests arriving
    meanwhile wait for it and use what it read), at most ``MAX_READS`` at once in the process, and
    a failed read is remembered for ``REFETCH_SECONDS``: an app whose address is down or slow
    costs one read per half minute, not one per request."""

    MAX_READS = 4

    def __init__(self, fetch: Callable[[str, bool], tuple[Any, Any]] | None = None) -> None:
        self._fetch = fetch or _fetch
        self._kept: dict[tuple[str, str], _Kept] = {}
        self._failed: dict[tuple[str, str], tuple[float, str]] = {}  # when the last read failed, why
        self._reading: dict[tuple[str, str], threading.Lock] = {}
        self._lock = threading.Lock()
        self._reads = threading.BoundedSemaphore(self.MAX_READS)

    def forget(self) -> None:
        with self._lock:
            self._kept.clear()
            self._failed.clear()

    def key_set(self, client_id: str, url: str, kid: str | None, *, allow_private: bool, now: float) -> KeySet:
        """The app's keys at ``now`` (seconds since the epoch), read again when stale or when
        ``kid`` is not among them (at most every :data:`REFETCH_SECONDS`); ``InvalidClientError``
        when none can be had (the reason said in dev mode, in the log always)."""
        where = (client_id, url)
        kept = self._usable(where, kid, now)
        if kept is not None:
            return kept.keys
        with self._lock:
            reading = self._reading.setdefault(where, threading.Lock())
        with reading:  # one read per app and address; the others wait and take its result
            kept = self._usable(where, kid, now)
            if kept is not None:
                return kept.keys
            with self._lock:
                kept, failed = self._kept.get(where), self._failed.get(where)
            if failed is not None and now - failed[0] < REFETCH_SECONDS:
                reason = failed[1]  # failed a moment ago: not again yet
            else:
                try:
                    if not self._reads.acquire(timeout=FETCH_TIMEOUT_SECONDS):
                        raise outbound.FetchFailed("too many apps' keys are being read at once")
                    try:
                        fresh = self._read(url, allow_private, now)
                    finally:
                        self._reads.release()
                except (outbound.FetchFailed, ValidationFailed) as exc:
                    reason = exc.reason if isinstance(exc, outbound.FetchFailed) else exc.message
                    log.warning("the keys of app %s could not be read from its jwks_uri: %s", client_id, reason)
                    with self._lock:
                        self._failed[where] = (now, reason)
                else:
                    with self._lock:
                        self._kept[where] = fresh
                        self._failed.pop(where, None)
                    return fresh.keys
            if kept is not None and now - kept.read_at <= STALE_SECONDS:
                return kept.keys  # the last keys read keep serving while the address fails
            said = re.sub(r"[^\x20\x21\x23-\x5b\x5d-\x7e]", "'", reason) if allow_private else "see the server's log"
            raise InvalidClientError(description=f"the app's keys could not be read from its jwks_uri ({said})")

    def _usable(self, where: tuple[str, str], kid: str | None, now: float) -> _Kept | None:
        """The kept set, if it needs no read: fresh, and holding ``kid`` (or read too recently to
        read again for it)."""
        with self._lock:
            kept = self._kept.get(where)
        if kept is None or now >= kept.fresh_until:
            return None
        if kid is not None and kid not in kept.kids and now - kept.read_at >= REFETCH_SECONDS:
            return None
        return kept

    def _read(self, url: str, allow_private: bool, now: float) -> _Kept:
        document, headers = self._fetch(url, allow_private)
        keys = fetched_keys(document)
        kept_for = _max_age(headers.get("cache-control", "") if headers else "")
        kids = frozenset(key["kid"] for key in keys["keys"])
        return _Kept(KeySet.import_key_set(keys), kids, now, now + kept_for)  # type: ignore[arg-type]


def _fetch(url: str, allow_private: bool) -> tuple[Any, Any]:
    accept = "application/jwk-set+json, application/json"
    return outbound.get_json(
        url, allow_private=allow_private, max_bytes=FETCH_MAX_BYTES, timeout=FETCH_TIMEOUT_SECONDS, accept=accept
    )


def _max_age(cache_control: str) -> int:
    """How long to keep a set: the answer's ``max-age`` within bounds (``no-cache`` or
    ``no-store``: the least)."""
    lowered = cache_control.lower()
    if "no-store" in lowered or "no-cache" in lowered:
        return KEPT_SECONDS_MIN
    found = re.search(r"max-age\s*=\s*(\d{1,10})", lowered)
    seconds = int(found.group(1)) if found else KEPT_SECONDS_DEFAULT
    return min(max(seconds, KEPT_SECONDS_MIN), KEPT_SECONDS_MAX)


REMOTE_KEYS = RemoteKeys()


def _modulus_bits(item: dict[str, Any]) -> int:
    modulus = item.get("n")
    try:
        return base64_to_int(modulus).bit_length() if isinstance(modulus, str) else 0
    except ValueError:
        return 0


class PrivateKeyJwt(JWTBearerClientAssertion):  # type: ignore[misc]
    """Client authentication by a signed assertion, checked against Admit's clock; its ``jti``
    is recorded (per app) until the assertion expires, so a replay is refused."""

    CLIENT_AUTH_METHOD = METHOD

    def __init__(self, ctx: Context, audiences: list[str]) -> None:
        super().__init__(validate_jti=True, leeway=LEEWAY)
        self.ctx = ctx
        self.audiences = audiences

    def get_audiences(self) -> list[str]:
        return self.audiences

    def resolve_client_public_key(self, client: Any) -> KeySet | Callable[[Any], KeySet]:
        """The app's registered keys, or a resolver that reads them from its ``jwks_uri`` (by the
        assertion's ``kid``) when joserfc asks."""
        if client.token_endpoint_auth_method != METHOD or not (client.jwks or client.jwks_uri):
            raise InvalidClientError(description=f"this app does not authenticate with {METHOD}")
        if client.jwks:
            return KeySet.import_key_set(client.jwks)
        allow_private, now = self.ctx.dev_mode, self.ctx.clock.now().timestamp()

        def remote(token: Any) -> KeySet:
            kid = token.headers().get("kid")
            kid = kid if isinstance(kid, str) else None
            return REMOTE_KEYS.key_set(client.client_id, client.jwks_uri, kid, allow_private=allow_private, now=now)

        return remote

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> dict[str, Any]:
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=list(ALGORITHMS))
        except (JoseError, ValueError):
            raise InvalidClientError(description="the client assertion is not valid") from None
        claims = dict(token.claims)
        self.verify_claims(claims)
        return claims

    def verify_claims(self, claims: dict[str, Any]) -> None:
        now = int(self.ctx.clock.now().timestamp())
        essential: Any = {"essential": True}
        registry = jwt.JWTClaimsRegistry(
            now=now, leeway=self.leeway, iss=essential, sub=essential, exp=essential, jti=essential,
            aud={"essential": True, "values": self.audiences},
        )  # fmt: skip
        try:
            registry.validate(claims)
        except JoseError:
            raise InvalidClientError(description="the client assertion is not valid") from None
        if claims["sub"] != claims["iss"]:
            raise InvalidClientError(description="the client assertion's iss and sub must be the client id")
        if claims["exp"] > now + MAX_LIFETIME.total_seconds():
            raise InvalidClientError(description="a client assertion may live an hour at most")
        if not self.validate_jti(claims, claims["jti"]):
            raise InvalidClientError(description="this client assertion was used before")

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        """Record the assertion's ``jti`` for its app; False when it was recorded before."""
        expires_at = datetime.fromtimestamp(claims["exp"], UTC) + timedelta(seconds=self.leeway)
        with self.ctx.uow(write=True) as uow:
            client = uow.oidc_clients.by_client_id(claims["sub"])
            if client is None:
                return False
            fresh = uow.oidc_client_assertions.use_once(
                client.organization_id, client.id, secrets.digest(jti), expires_at
            )
            uow.commit()
        return fresh
