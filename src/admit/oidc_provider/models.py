"""What Admit's authorization server talks about, in the shapes Authlib asks for: the request the
web glue hands over and the answer it gets back (no web framework here), a registered app
(Authlib's ``ClientMixin``), the person a code or refresh token is for, a stored code
(``AuthorizationCodeMixin``) and a stored refresh token (what ``RefreshTokenGrant`` asks of one)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Request  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.requests import OAuth2Payload  # type: ignore[import-untyped]

from admit.domain import secrets
from admit.domain.errors import SecretRejected
from admit.domain.records import Record

AUTHENTICATED_ENDPOINTS = ("token", "revocation", "introspection")  # where an app proves who it is


@dataclass(frozen=True)
class HttpRequest:
    """What the glue hands over: method, the URL as the issuer sees it, the query or form fields
    in order, and the Authorization header."""

    method: str
    uri: str
    fields: list[tuple[str, str]]
    authorization: str | None = None


@dataclass
class Answer:
    status: int
    body: Any
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def location(self) -> str | None:
        return next((value for name, value in self.headers if name.lower() == "location"), None)

    @location.setter
    def location(self, value: str) -> None:
        self.headers = [(n, v) for n, v in self.headers if n.lower() != "location"] + [("Location", value)]


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self._data = dict(fields)
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for name, value in fields:
            self._datalist[name].append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, given: HttpRequest) -> None:
        headers = {"Authorization": given.authorization} if given.authorization else {}
        super().__init__(given.method, given.uri, headers=headers)
        self.payload = _Payload(given.fields)

    @property
    def args(self) -> dict[str, str]:
        return self.payload.data if self.method == "GET" else {}

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data if self.method == "POST" else {}


@dataclass(frozen=True)
class AppClient:
    """A registered app, as Authlib's ``ClientMixin`` asks about it."""

    client_id: str
    organization_id: str
    name: str
    client_type: str
    token_endpoint_auth_method: str
    redirect_uris: tuple[str, ...]
    allowed_scopes: tuple[str, ...]
    workspace_ids: tuple[str, ...]
    secret_digest: str | None
    grant_types: tuple[str, ...] = ("authorization_code",)
    jwks: dict[str, Any] | None = field(default=None, compare=False)
    jwks_uri: str | None = None

    @classmethod
    def of(cls, row: Record) -> AppClient:
        return cls(
            client_id=row.id,
            organization_id=row.organization_id,
            name=row.name,
            client_type=row.client_type,
            token_endpoint_auth_method=row.token_endpoint_auth_method,
            redirect_uris=tuple(row.redirect_uris),
            allowed_scopes=tuple(row.allowed_scopes),
            workspace_ids=tuple(row.workspace_ids),
            secret_digest=row.secret_digest,
            grant_types=tuple(row.grant_types),
            jwks=row.jwks,
            jwks_uri=row.jwks_uri,
        )

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # the redirect_uri parameter is required

    def get_allowed_scope(self, scope: str | None) -> str:
        asked = (scope or "openid").split()
        return " ".join(s for s in asked if s in self.allowed_scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris  # exact match

    def check_client_secret(self, client_secret: str) -> bool:
        if self.secret_digest is None:
            return False
        try:
            presented = secrets.digest_for(client_secret, secrets.SecretPurpose.CLIENT_SECRET)
        except SecretRejected:
            return False
        return secrets.same_digest(self.secret_digest, presented)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """The one method the app registered, at the token, revocation and introspection endpoints."""
        return endpoint in AUTHENTICATED_ENDPOINTS and method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


@dataclass(frozen=True)
class Family:
    """A refresh token family: every token rotated from one code's exchange shares its id, its
    scope and its absolute expiry."""

    id: str
    scope: str
    expires_at: datetime


@dataclass(frozen=True)
class Grantee:
    """The person a code is issued to (and, at the token endpoint, the code's or refresh token's
    details: a refresh continues its family)."""

    account_id: str
    workspace_id: str | None
    auth_time: datetime
    code_id: str | None = None
    nonce: str | None = None
    family: Family | None = None
    claims: dict[str, Any] | None = None  # read when the code was redeemed, for the code's scope
    session_id: str | None = None  # the Admit session the code was issued in (for logout)


@dataclass(frozen=True)
class IssuedCode:
    """A stored authorization code, as Authlib's ``AuthorizationCodeMixin`` asks about it, and
    its person's claims for the code's scope as read when it was redeemed (None: not an active
    member any more)."""

    row: Record
    claims: dict[str, Any] | None = None

    def get_redirect_uri(self) -> str:
        return str(self.row.redirect_uri)

    def get_scope(self) -> str:
        return str(self.row.scope)

    def get_nonce(self) -> str | None:
        return self.row.nonce  # type: ignore[no-any-return]

    def get_auth_time(self) -> int:
        return int(self.row.auth_time.timestamp())

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


@dataclass(frozen=True)
class IssuedRefreshToken:
    """A stored refresh token (already exchanged: single use), as ``RefreshTokenGrant`` asks about it."""

    row: Record

    def get_scope(self) -> str:
        return str(self.row.scope)

    def check_client(self, client: AppClient) -> bool:
        return bool(self.row.client_id == client.client_id)
