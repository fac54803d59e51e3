"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): an app sends the browser to the
end session endpoint with ``id_token_hint``, ``client_id``, ``post_logout_redirect_uri``,
``state`` and ``ui_locales``; the person confirms on Admit's page (a GET never signs anyone out),
the browser's session that the hint names ends (:func:`admit.flows.signin.sessions.sign_out`:
the apps signed in through it get their back-channel logout), and the browser goes back to the
app.

The hint must be an ID token Admit signed (a published key, RS256, ``typ: JWT``, this issuer):
a forged one, an access or logout token, or a hint for another app than ``client_id`` is
refused. An expired hint is fine: it only says which app and which person (and ``sid``, which
session). A hint signed by a key no longer published (deleted a while after a rotation) cannot
be checked and is refused too. The browser is sent back only to a ``post_logout_redirect_uri``
the app registered, exactly; otherwise the person stays on Admit's page, which says why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from authlib.common.urls import add_params_to_uri  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from admit.domain import secrets
from admit.domain.errors import InvalidCredentials, SecretRejected, ValidationFailed
from admit.domain.ports import UnitOfWork
from admit.domain.records import Record
from admit.i18n import LANGUAGES
from admit.oidc_provider import keys
from admit.shared.context import Context

FIELDS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales")
MAX_FIELD = 8192  # an ID token is a few kilobytes


@dataclass(frozen=True)
class LogoutRequest:
    """An app's logout request, checked: the app (if known), where to go back (a registered URI
    only), the person and app session the hint names, and the page's language."""

    fields: dict[str, str]  # what the confirmation form carries back (checked again then)
    client_id: str | None = None
    app: str | None = None
    redirect_uri: str | None = None
    state: str | None = None
    subject: str | None = None
    sid: str | None = None
    language: str | None = None
    unregistered: bool = False  # a post_logout_redirect_uri was given that cannot be used

    def back(self) -> str | None:
        """Where the browser goes after the logout: the registered URI with ``state``."""
        if self.redirect_uri is None:
            return None
        return str(add_params_to_uri(self.redirect_uri, [("state", self.state)] if self.state else []))


def inspect(ctx: Context, given: Mapping[str, str]) -> LogoutRequest:
    """The request checked; ``InvalidCredentials`` for a hint Admit did not issue,
    ``ValidationFailed`` for a ``client_id`` the hint was not issued to."""
    fields = {name: str(given[name]) for name in FIELDS if given.get(name)}
    if any(len(value) > MAX_FIELD for value in fields.values()):
        raise ValidationFailed("a logout parameter is too long", field="id_token_hint")
    hint = _hint(ctx, fields["id_token_hint"]) if "id_token_hint" in fields else {}
    client_id = _client_id(hint, fields.get("client_id"))
    with ctx.uow() as uow:
        client = uow.oidc_clients.by_client_id(client_id) if client_id and len(client_id) <= 32 else None
    asked = fields.get("post_logout_redirect_uri")
    registered = client is not None and asked in client.post_logout_redirect_uris
    return LogoutRequest(
        fields=fields,
        client_id=client_id,
        app=client.name if client is not None else None,
        redirect_uri=asked if registered else None,
        state=fields.get("state"),
        subject=hint.get("sub"),
        sid=hint.get("sid") if isinstance(hint.get("sid"), str) else None,
        language=_language(fields.get("ui_locales")),
        unregistered=asked is not None and not registered,
    )


def _hint(ctx: Context, token: str) -> dict[str, Any]:
    """The claims of an ID token Admit issued (expired or not)."""
    refused = InvalidCredentials("the id_token_hint is not an ID token issued by Admit", field="id_token_hint")
    try:
        published = KeySet.import_key_set(keys.jwks(ctx))  # type: ignore[arg-type]
        decoded = jwt.decode(token, published, algorithms=[keys.ALGORITHM])
    except (JoseError, ValueError, TypeError):
        raise refused from None
    claims = dict(decoded.claims)
    audience = claims.get("aud")
    if (
        decoded.header.get("typ") != "JWT"
        or claims.get("iss") != ctx.base_url
        or not isinstance(claims.get("sub"), str)
        or not (isinstance(audience, str) or (isinstance(audience, list) and audience))
    ):
        raise refused
    return claims


def _client_id(hint: dict[str, Any], given: str | None) -> str | None:
    """The app: ``client_id``, which must be one the hint was issued to; else the hint's."""
    audience = hint.get("aud")
    audiences = [audience] if isinstance(audience, str) else list(audience or [])
    if given is not None:
        if hint and given not in audiences:
            raise ValidationFailed("the id_token_hint was issued to another app than client_id", field="client_id")
        return given
    if len(audiences) == 1:
        return str(audiences[0])
    return str(hint["azp"]) if isinstance(hint.get("azp"), str) else None


def _language(ui_locales: str | None) -> str | None:
    """The first of the person's preferred languages (``ui_locales``, BCP 47 tags) that Admit speaks."""
    for tag in (ui_locales or "").split():
        primary = tag.split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return None


def session_to_end(ctx: Context, request: LogoutRequest, tokens: Sequence[str]) -> int | None:
    """Which of the browser's sessions (its position) the logout ends: the one the hint's ``sid``
    was issued in, else the hint's person's, else (no hint) the active one. None when that
    person (or anyone) is not signed in on this browser: there is nothing to end."""
    live: list[tuple[int, str, str]] = []  # position, session id, account id
    with ctx.uow() as uow:
        for position, token in enumerate(tokens):
            row = _live_session(uow, token, ctx)
            if row is not None:
                live.append((position, str(row.id), str(row.subject_id)))
        app_session = uow.oidc_app_sessions.get(request.sid) if request.sid else None
    if app_session is not None and app_session.account_id == request.subject:
        found = [position for position, session_id, _ in live if session_id == app_session.session_id]
        if found:
            return found[0]
    if request.subject is not None:
        return next((position for position, _, account_id in live if account_id == request.subject), None)
    return live[0][0] if live else None


def _live_session(uow: UnitOfWork, token: str, ctx: Context) -> Record | None:
    try:
        digest = secrets.digest_for(token, secrets.SecretPurpose.SESSION)
    except SecretRejected:
        return None
    row = uow.secrets.by_digest(digest)
    if row is None or row.purpose != secrets.SecretPurpose.SESSION.value or row.revoked_at is not None:
        return None
    return row if row.expires_at is None or ctx.clock.now() < row.expires_at else None
