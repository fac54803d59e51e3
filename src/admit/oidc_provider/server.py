"""Authlib's authorization server with Admit's storage and keys.

Authlib checks the protocol: the client and its exact redirect URI, the response type, scopes,
PKCE (S256 only; required for public clients), ``nonce`` and ``prompt``, client authentication
at the token, revocation and introspection endpoints (``client_secret_basic``,
``client_secret_post``, ``private_key_jwt`` (:mod:`.assertions`), and ``none`` for public clients
at the token endpoint). Admit keeps the codes (digests, single use, bound to client, redirect URI,
PKCE challenge, nonce, account and workspace) and the refresh tokens (:mod:`.refresh`), signs the
tokens with joserfc and records each access token's ``jti``. A code presented twice is refused
and the tokens issued from it (refresh token families too) are revoked. Revocation and
introspection are :mod:`.tokens`.

The web glue builds a :class:`.models.HttpRequest` (no web framework here) and turns an
:class:`.models.Answer` into its response."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar

from authlib.oauth2.rfc6749 import AuthorizationServer, OAuth2Request  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import CodeChallenge  # type: ignore[import-untyped]
from authlib.oauth2.rfc9207 import IssuerParameter  # type: ignore[import-untyped]
from authlib.oidc.core import OpenIDCode  # type: ignore[import-untyped]
from joserfc import jwt

from admit.domain import secrets
from admit.domain.errors import SecretRejected
from admit.domain.events import EventType
from admit.oidc_provider import backchannel, id_tokens, keys, refresh
from admit.oidc_provider.assertions import PrivateKeyJwt
from admit.oidc_provider.claims import WORKSPACE_CLAIMS, person_claims
from admit.oidc_provider.clients import AUTHENTICATED_METHODS, SCOPES
from admit.oidc_provider.discovery import INTROSPECT_PATH, REVOKE_PATH, TOKEN_PATH
from admit.oidc_provider.models import Answer, AppClient, Family, Grantee, HttpRequest, IssuedCode, Request
from admit.oidc_provider.tokens import Introspection, Revocation
from admit.shared.context import SYSTEM, Context, record

CODE = secrets.SecretPurpose.AUTHORIZATION_CODE
_CLIENTS_READ: ContextVar[dict[str, AppClient | None] | None] = ContextVar("oidc_clients_read", default=None)


@contextmanager
def one_request() -> Iterator[None]:
    """Within: each app is read once (Authlib validates an authorization request twice: for the
    decision and again as it answers)."""
    reset = _CLIENTS_READ.set({})
    try:
        yield
    finally:
        _CLIENTS_READ.reset(reset)


class S256Challenge(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 only; required of public clients, optional for confidential ones."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        if grant.request.client.client_type == "public" and not data.get("code_challenge"):
            raise InvalidRequestError("this app must use PKCE (code_challenge with S256)")
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")

    def get_authorization_code_challenge(self, authorization_code: IssuedCode) -> str | None:
        return authorization_code.row.code_challenge  # type: ignore[no-any-return]

    def get_authorization_code_challenge_method(self, authorization_code: IssuedCode) -> str | None:
        return authorization_code.row.code_challenge_method  # type: ignore[no-any-return]


class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [*AUTHENTICATED_METHODS, "none"]

    @property
    def ctx(self) -> Context:
        return self.server.ctx  # type: ignore[no-any-return]

    def generate_authorization_code(self) -> str:
        return secrets.issue(CODE, self.ctx.random).plaintext

    def save_authorization_code(self, code: str, request: Any) -> None:
        now, user, data = self.ctx.clock.now(), request.user, request.payload.data
        with self.ctx.uow(write=True) as uow:
            uow.oidc_codes.add(
                digest=secrets.digest(code),
                organization_id=request.client.organization_id,
                client_id=request.client.client_id,
                account_id=user.account_id,
                workspace_id=user.workspace_id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                auth_time=user.auth_time,
                session_id=user.session_id,
                created_at=now,
                expires_at=secrets.expiry(CODE, now),
            )
            uow.commit()

    def query_authorization_code(self, code: str, client: AppClient) -> IssuedCode | None:
        """The code, consumed now, with its person's claims read in the same transaction; a code
        used before is refused and its tokens revoked."""
        try:
            digest = secrets.digest_for(code, CODE)
        except SecretRejected:
            return None
        now = self.ctx.clock.now()
        with self.ctx.uow(write=True) as uow:
            row = uow.oidc_codes.by_digest(digest)
            if row is None or row.client_id != client.client_id:
                return None
            if row.consumed_at is not None or not uow.oidc_codes.consume(row.organization_id, row.id, now):
                uow.oidc_refresh_tokens.revoke_for_code(row.organization_id, row.id, now)
                revoked = uow.oidc_tokens.revoke_for_code(row.organization_id, row.id, now)
                record(
                    uow, SYSTEM, EventType.CLIENT_CODE_REPLAYED, "client", client.client_id, now,
                    organization_id=row.organization_id, revoked_tokens=revoked,
                )  # fmt: skip
                uow.commit()
                return None
            if now >= row.expires_at:
                uow.commit()
                return None
            claims = person_claims(uow, row.account_id, row.workspace_id, row.organization_id, row.scope.split())
            uow.commit()
        return IssuedCode(row, claims)

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        """Nothing to do: the code was consumed when it was looked up."""

    def authenticate_user(self, authorization_code: IssuedCode) -> Grantee | None:
        """The code's person, if still active (and an active member of its workspace): as read
        when the code was redeemed (``query_authorization_code``)."""
        row, claims = authorization_code.row, authorization_code.claims
        if claims is None:
            return None
        return Grantee(
            row.account_id, row.workspace_id, row.auth_time,
            code_id=row.id, nonce=row.nonce, claims=claims, session_id=row.session_id,
        )  # fmt: skip


class SignedIdToken(OpenIDCode):  # type: ignore[misc]
    """The ID token, signed with the current key by joserfc, stamped by Admit's clock."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(require_nonce=False)
        self.ctx = ctx

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return False  # codes are single use: a nonce cannot come back with another code

    def encode_id_token(self, token: dict[str, Any], request: Any) -> str:
        return id_tokens.sign(self.ctx, request.client, request.user, token)


class _Issuer(IssuerParameter):  # type: ignore[misc]
    """RFC 9207: ``iss`` on every authorization response."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer

    def get_issuer(self) -> str:
        return self.issuer


class ProviderServer(AuthorizationServer):  # type: ignore[misc]
    """One per application; grants are made per request."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.ctx = ctx
        self.register_grant(CodeGrant, [S256Challenge(required=True), SignedIdToken(ctx)])
        self.register_grant(refresh.RefreshGrant)
        self.register_token_generator("default", self.access_token)
        self.register_extension(_Issuer(ctx.base_url))
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)
        audiences = [ctx.base_url, *(ctx.link(path) for path in (TOKEN_PATH, REVOKE_PATH, INTROSPECT_PATH))]
        self.register_client_auth_method(PrivateKeyJwt.CLIENT_AUTH_METHOD, PrivateKeyJwt(ctx, audiences))

    def query_client(self, client_id: str) -> AppClient | None:
        if not isinstance(client_id, str) or len(client_id) > 32:
            return None
        read = _CLIENTS_READ.get()
        if read is not None and client_id in read:
            return read[client_id]
        with self.ctx.uow() as uow:
            row = uow.oidc_clients.by_client_id(client_id)
        client = None if row is None else AppClient.of(row)
        if read is not None:
            read[client_id] = client
        return client

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        """Nothing more: the access token was recorded when it was made."""

    def create_oauth2_request(self, request: HttpRequest) -> OAuth2Request:
        return Request(request)

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Answer:
        return Answer(status, body, list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signals."""

    def access_token(
        self,
        grant_type: str,
        client: AppClient,
        user: Grantee,
        scope: str,
        expires_in: int | None = None,
        include_refresh_token: bool = False,
    ) -> dict[str, Any]:
        """A JWT access token (RFC 9068), its ``jti`` recorded so userinfo can refuse it once
        revoked; and the family's next refresh token when the grant includes one."""
        now = self.ctx.clock.now()
        lifetime = int(keys.TOKEN_LIFETIME.total_seconds())
        jti = self.ctx.random.token(16)
        claims: dict[str, Any] = {
            "iss": self.ctx.base_url,
            "sub": user.account_id,
            "aud": client.client_id,
            "client_id": client.client_id,
            "scope": scope,
            "jti": jti,
            "iat": int(now.timestamp()),
            "exp": int(now.timestamp()) + lifetime,
            "auth_time": int(user.auth_time.timestamp()),
        }
        family = refresh.family_for(self.ctx, user, scope, now) if include_refresh_token else None
        about, refresh_token = self._record(client, user, jti, scope, family)
        claims.update(about)
        key = keys.signing_key(self.ctx)
        signed = jwt.encode({"alg": keys.ALGORITHM, "kid": key.kid, "typ": "at+jwt"}, claims, key.key)
        token = {"token_type": "Bearer", "access_token": signed, "expires_in": lifetime, "scope": scope}
        return token if refresh_token is None else {**token, "refresh_token": refresh_token}

    def _record(
        self, client: AppClient, user: Grantee, jti: str, scope: str, family: Family | None
    ) -> tuple[dict[str, Any], str | None]:
        """Record the access token's ``jti`` (and the refresh token, in the same transaction); the
        workspace claims. A family revoked meanwhile (a replay raced this refresh) gets nothing."""
        now = self.ctx.clock.now()
        with self.ctx.uow(write=True) as uow:
            if family is not None and uow.oidc_refresh_tokens.family_revoked(client.organization_id, family.id):
                raise InvalidGrantError("this refresh token has been revoked")
            about = user.claims  # a code's: read as it was redeemed
            if about is None:  # a refresh: read afresh (a changed role shows at once)
                about = person_claims(uow, user.account_id, user.workspace_id, client.organization_id, scope.split())
            uow.oidc_tokens.add(
                id=jti,
                organization_id=client.organization_id,
                client_id=client.client_id,
                account_id=user.account_id,
                code_id=user.code_id,
                family_id=family.id if family else None,
                created_at=now,
                expires_at=now + keys.TOKEN_LIFETIME,
            )
            refresh_token = refresh.store(self.ctx, uow, client, user, family) if family else None
            if user.family is None:  # a code's exchange (a refresh continues a family): the app's session
                backchannel.record_app_session(uow, client, user, now)
            uow.commit()
        workspace = {name: value for name, value in (about or {}).items() if name in WORKSPACE_CLAIMS}
        return workspace, refresh_token
