"""The OpenID Connect relying party: discovery, the authorization request (state, nonce, PKCE
S256) and the completion of a flow (code exchange with the verifier, ID token checks).

Every failure fails closed: a provider that cannot be reached or answers nonsense raises
``ProviderUnavailable``; a response that does not pass a check raises ``SsoRejected``. Nothing
here falls back to anything else. The ID token's signature is checked against the provider's
published keys with one of the asymmetric algorithms the provider announces (never ``none``, never
a symmetric algorithm keyed with the client secret), then its issuer, audience (and authorized
party), expiry, issue time and nonce.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from admit.adapters.delivery import outbound
from admit.domain.errors import ProviderUnavailable as ProviderUnavailable
from admit.domain.errors import SsoRejected as SsoRejected

SIGNING_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}
)
LEEWAY_SECONDS = 60
TIMEOUT = httpx.Timeout(10.0)


@dataclass(frozen=True)
class Discovery:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    algorithms: frozenset[str]
    auth_methods: tuple[str, ...]


@dataclass(frozen=True)
class Client:
    issuer: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]


def pkce_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _get_json(http: httpx.Client, url: str, **kw: Any) -> dict[str, Any]:
    try:
        response = http.get(url, **kw)
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(f"the identity provider cannot be reached ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise ProviderUnavailable(f"the identity provider answered {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise ProviderUnavailable("the identity provider sent something that is not JSON") from None
    if not isinstance(body, dict):
        raise ProviderUnavailable("the identity provider sent an unexpected answer")
    return body


class AddressRefused(ProviderUnavailable):
    """The issuer's host is not one Admit sends requests to (this machine, a private network)."""

    code = "provider_address_refused"


def discover(issuer: str, http: httpx.Client | None = None, *, allow_private: bool = True) -> Discovery:
    """Read the provider's metadata; its ``issuer`` must be exactly the configured one. Without
    ``allow_private`` the request goes only to a public address (checked and pinned, no redirects:
    :mod:`admit.adapters.delivery.outbound`), for an issuer someone other than the operator typed."""
    url = f"{issuer.rstrip('/')}/.well-known/openid-configuration"
    try:
        target = outbound.checked(url, allow_private=allow_private)
    except outbound.TargetRefused as refused:
        raise AddressRefused(f"the identity provider's address is refused: {refused.reason}") from None
    with http or httpx.Client(timeout=TIMEOUT, trust_env=allow_private) as client:
        doc = _get_json(client, target.url, headers=target.headers, extensions=target.extensions)
    if doc.get("issuer") != issuer:
        raise ProviderUnavailable("the identity provider's metadata names another issuer")
    try:
        announced = doc.get("id_token_signing_alg_values_supported") or ["RS256"]
        return Discovery(
            issuer=issuer,
            authorization_endpoint=str(doc["authorization_endpoint"]),
            token_endpoint=str(doc["token_endpoint"]),
            jwks_uri=str(doc["jwks_uri"]),
            userinfo_endpoint=doc.get("userinfo_endpoint"),
            algorithms=frozenset(str(a) for a in announced) & SIGNING_ALGORITHMS,
            auth_methods=tuple(doc.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]),
        )
    except KeyError as missing:
        raise ProviderUnavailable(f"the identity provider's metadata lacks {missing}") from None


def authorization_url(
    discovery: Discovery, client: Client, *, redirect_uri: str, state: str, nonce: str, verifier: str
) -> str:
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(client.scopes),
        "state": state,
        "nonce": nonce,
        "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256",
    }
    separator = "&" if "?" in discovery.authorization_endpoint else "?"
    return f"{discovery.authorization_endpoint}{separator}{urlencode(query)}"


def complete(
    discovery: Discovery,
    client: Client,
    *,
    code: str,
    redirect_uri: str,
    verifier: str,
    nonce: str,
    now: datetime,
) -> dict[str, Any]:
    """Exchange the code (with the PKCE verifier) and return the checked ID token's claims,
    completed by the userinfo endpoint's (whose ``sub`` must match)."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}
    auth: tuple[str, str] | None = (client.client_id, client.client_secret)
    if "client_secret_basic" not in discovery.auth_methods and "client_secret_post" in discovery.auth_methods:
        form |= {"client_id": client.client_id, "client_secret": client.client_secret}
        auth = None
    with httpx.Client(timeout=TIMEOUT) as http:
        try:
            response = http.post(discovery.token_endpoint, data=form, auth=auth or httpx.USE_CLIENT_DEFAULT)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"the identity provider cannot be reached ({type(exc).__name__})") from None
        if response.status_code >= 500:
            raise ProviderUnavailable(f"the identity provider answered {response.status_code}")
        if response.status_code != 200:
            raise SsoRejected(f"the identity provider refused the code ({_oauth_error(response)})")
        tokens = response.json()
        id_token = tokens.get("id_token") if isinstance(tokens, dict) else None
        if not isinstance(id_token, str):
            raise SsoRejected("the identity provider sent no ID token")
        keys = _get_json(http, discovery.jwks_uri)
        claims = check_id_token(id_token, keys, discovery, client.client_id, nonce=nonce, now=now)
        access_token = tokens.get("access_token")
        if discovery.userinfo_endpoint and isinstance(access_token, str):
            info = _get_json(http, discovery.userinfo_endpoint, headers={"authorization": f"Bearer {access_token}"})
            if info.get("sub") != claims["sub"]:
                raise SsoRejected("the identity provider's profile belongs to someone else")
            claims = {**info, **claims}  # what the signed ID token says wins
    return claims


def _oauth_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return str(response.status_code)
    return str(body.get("error", response.status_code)) if isinstance(body, dict) else str(response.status_code)


def _header(token: str) -> dict[str, Any]:
    try:
        segment = token.split(".")[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, IndexError):
        raise SsoRejected("the ID token is malformed") from None
    if not isinstance(header, dict):
        raise SsoRejected("the ID token is malformed")
    return header


def check_id_token(
    token: str, keys: dict[str, Any], discovery: Discovery, client_id: str, *, nonce: str, now: datetime
) -> dict[str, Any]:
    """Verify an ID token: signature by an allowed asymmetric algorithm, then its claims."""
    if token.count(".") != 2:
        raise SsoRejected("the ID token is not a signed JWT")
    alg = _header(token).get("alg")
    if not isinstance(alg, str) or alg not in discovery.algorithms:
        raise SsoRejected(f"the ID token's algorithm {alg!r} is not accepted")
    try:
        key_set = KeySet.import_key_set(keys)  # type: ignore[arg-type]
        claims: dict[str, Any] = dict(jwt.decode(token, key_set, algorithms=[alg]).claims)
    except (JoseError, ValueError, TypeError, KeyError):
        raise SsoRejected("the ID token's signature is not valid") from None
    _check_claims(claims, discovery.issuer, client_id, nonce=nonce, now=now)
    return claims


def _check_claims(claims: dict[str, Any], issuer: str, client_id: str, *, nonce: str, now: datetime) -> None:
    if claims.get("iss") != issuer:
        raise SsoRejected("the ID token was issued by another issuer")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    if client_id not in audiences:
        raise SsoRejected("the ID token is meant for another client")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise SsoRejected("the ID token is meant for another client")
    timestamp = now.timestamp()
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or timestamp > exp + LEEWAY_SECONDS:
        raise SsoRejected("the ID token has expired")
    if not isinstance(iat, int | float):
        raise SsoRejected("the ID token has no issue time")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 255:
        raise SsoRejected("the ID token names no subject")
    given = claims.get("nonce")
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), nonce.encode()):
        raise SsoRejected("the ID token's nonce does not belong to this sign-in")
