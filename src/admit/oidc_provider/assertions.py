"""Apps that prove who they are with a signed JWT instead of a secret: ``private_key_jwt``
(OpenID Connect Core 9, RFC 7523 2.2). The app registers its public keys (an inline JWKS) and
signs, for each call to the token, revocation or introspection endpoint, an assertion with
``iss`` = ``sub`` = its client id, ``aud`` = the issuer or one of those endpoints, an ``exp`` at
most an hour ahead and a ``jti`` that works once.

Authlib's ``JWTBearerClientAssertion`` finds the app; joserfc checks the signature with the app's
keys and RS256 or ES256 only, whatever the header says: ``none`` and the HMAC algorithms are
refused, so a public key can never serve as an HMAC secret ("algorithm confusion")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from authlib.oauth2.rfc6749 import InvalidClientError  # type: ignore[import-untyped]
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, KeySet
from joserfc.util import base64_to_int

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

    def resolve_client_public_key(self, client: Any) -> KeySet:
        if client.token_endpoint_auth_method != METHOD or not client.jwks:
            raise InvalidClientError(description=f"this app does not authenticate with {METHOD}")
        return KeySet.import_key_set(client.jwks)

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
