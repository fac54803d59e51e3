"""Who is calling ``/scim/v2``: an identity provider presenting a SCIM bearer token (``adm_scm_…``,
see :mod:`admit.admin.scim_tokens`).

The token is looked up by its SHA-256 digest (a unique index), so the time a lookup takes says
nothing about how close a guess came; the stored digest is compared once more in constant time.
A missing, malformed, unknown or revoked token is refused with one message
(``InvalidCredentials``: 401 with ``WWW-Authenticate: Bearer``). Revocation takes effect on the
next request: nothing is cached.

The answer, :class:`ScimCaller`, makes the tenant explicit: every query of ``/scim/v2`` filters by
its ``organization_id`` (and by its ``workspace_id`` when the token is for one workspace), so a
token of one organization never sees another's rows. Its ``role`` is a ceiling: the highest role
the provider may give someone.

``last_used_at`` is written at most once a minute per token, not on every request. Each process
also counts a token's requests per minute (in memory: cheap, and enough to stop a runaway
provider from crowding out the others); past ``REQUESTS_PER_MINUTE`` (the setting
``ADMIT_SCIM_REQUESTS_PER_MINUTE``, 6,000 by default) the answer is 429 with ``Retry-After``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta

from admit.domain import secrets
from admit.domain.errors import InvalidCredentials, SecretRejected, TooManyAttempts
from admit.domain.roles import Role
from admit.shared.context import Actor, ActorKind, Context

TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is at most this stale
REQUESTS_PER_MINUTE = 6000  # per token and process (a full Entra ID sync stays well below it); 0: no limit


def configure(requests_per_minute: int) -> None:
    """``ADMIT_SCIM_REQUESTS_PER_MINUTE`` (set when the context is built)."""
    global REQUESTS_PER_MINUTE
    REQUESTS_PER_MINUTE = requests_per_minute


REFUSED = "send a valid SCIM token as 'Authorization: Bearer adm_scm_…'"


@dataclass(frozen=True)
class ScimCaller:
    """An authenticated SCIM client: whose token it is and how far it reaches."""

    organization_id: str
    workspace_id: str | None  # None: every workspace of the organization
    token_id: str
    role: Role  # the highest role the token may grant (guest, member or admin)
    name: str = ""

    def reaches(self, organization_id: str, workspace_id: str | None = None) -> bool:
        """Whether a row of ``organization_id`` (and ``workspace_id``) is within this token's reach."""
        if organization_id != self.organization_id:
            return False
        return self.workspace_id is None or workspace_id is None or workspace_id == self.workspace_id

    def actor(self) -> Actor:
        """The token as an actor of the member and group services: scoped like an API token (its
        organization, its workspace if any), with the admin role for their permission checks;
        the SCIM services check the token's own ceiling (``role``) themselves. Audit events name
        the token."""
        return Actor(
            ActorKind.SCIM,
            id=self.token_id,
            organization_id=self.organization_id,
            workspace_id=self.workspace_id,
            role=Role.ADMIN,
            name=f"SCIM: {self.name}",
        )


class _Window:
    """Requests per token in the current minute (this process only)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._minute = -1
        self._counts: dict[str, int] = {}

    def count(self, token_id: str, minute: int) -> int:
        with self._lock:
            if minute != self._minute:
                self._minute, self._counts = minute, {}
            self._counts[token_id] = self._counts.get(token_id, 0) + 1
            return self._counts[token_id]


_window = _Window()


def bearer_token(authorization_header: str | None) -> str:
    scheme, _, token = (authorization_header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidCredentials(REFUSED)
    return token.strip()


def authenticate(ctx: Context, authorization_header: str | None) -> ScimCaller:
    """The caller behind an ``Authorization`` header, or ``InvalidCredentials`` (or ``TooManyAttempts``)."""
    try:
        digest = secrets.digest_for(bearer_token(authorization_header), secrets.SecretPurpose.SCIM_TOKEN)
    except SecretRejected:
        raise InvalidCredentials(REFUSED) from None
    now = ctx.clock.now()
    with ctx.uow() as uow:
        row = uow.scim_tokens.by_digest(digest)
    if row is None or row.revoked_at is not None or not secrets.same_digest(row.digest, digest):
        raise InvalidCredentials(REFUSED)
    minute = int(now.timestamp() // 60)
    if REQUESTS_PER_MINUTE and _window.count(row.id, minute) > REQUESTS_PER_MINUTE:
        raise TooManyAttempts(timedelta(seconds=60 - now.timestamp() % 60))
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        with ctx.uow(write=True) as uow:
            uow.scim_tokens.touch(row.id, now, now - TOUCH_EVERY)
            uow.commit()
    return ScimCaller(
        organization_id=row.organization_id,
        workspace_id=row.workspace_id,
        token_id=row.id,
        role=Role(row.role),
        name=row.name,
    )
