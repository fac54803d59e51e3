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

``last_used_at`` is written at most once a minute per token, not on every request. A token's
requests are counted per minute across every process, through the database (:class:`_Budget`:
each process leases slices of the count, so most requests write nothing), enough to stop a
runaway provider from crowding out the others; past ``REQUESTS_PER_MINUTE`` (the setting
``ADMIT_SCIM_REQUESTS_PER_MINUTE``, 6,000 by default) the answer is 429 with ``Retry-After``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from admit.domain import secrets
from admit.domain.errors import InvalidCredentials, SecretRejected, TooManyAttempts
from admit.domain.ports import UnitOfWork
from admit.domain.roles import Role
from admit.shared.context import Actor, ActorKind, Context

TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is at most this stale
REQUESTS_PER_MINUTE = 6000  # per token, all processes together (a full Entra ID sync stays well below it); 0: none
WINDOW = timedelta(minutes=1)
Write = Callable[[UnitOfWork], None]


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


class _Budget:
    """The per-token limit, shared by every process through the database: a process leases a
    slice of the token's requests for the current window from its counter in the ``throttles``
    table (one atomic upsert: :meth:`count_in_window`) and spends it in memory, so a request
    writes to the database once per slice, not each time. A process may hold a slice it does not
    use up, so across ``P`` processes the limit is reached at most ``P × slice`` requests early
    (a slice is 1 % of the limit, at most 100: 2 % early for two processes), never passed. When
    the window is used up the process refuses locally until it ends (no write per refusal)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._left: dict[str, tuple[int, datetime]] = {}  # token id -> (requests left, window end)
        self._refused: set[str] = set()  # tokens whose window is used up (until its end)

    def forget(self) -> None:
        with self._lock:
            self._left.clear()
            self._refused.clear()

    def spend(
        self, ctx: Context, token_id: str, limit: int, now: datetime, also: Write | None = None
    ) -> tuple[timedelta | None, bool]:
        """(None when the request may go ahead, otherwise how long until the window ends; whether
        ``also`` was written). A lease's transaction also writes ``also`` when the request goes
        ahead, so a request never needs two write transactions (on the event loop only the first
        may give up when SQLite's writer is busy)."""
        with self._lock:
            left, ends = self._left.get(token_id, (0, now))
            if now < ends:
                if left > 0:
                    self._left[token_id] = (left - 1, ends)
                    return None, False
                if token_id in self._refused:
                    return ends - now, False
        size = slice_of(limit)
        with ctx.uow(write=True) as uow:
            count, ends = uow.throttles.count_in_window(f"scim:requests:{token_id}", now, now + WINDOW, size)
            granted = min(size, limit - (count - size))  # what the counter held before this lease
            if granted > 0 and also is not None:
                also(uow)
            uow.commit()
        with self._lock:
            if granted <= 0:
                self._left[token_id] = (0, ends)
                self._refused.add(token_id)
                return max(ends - now, timedelta(seconds=1)), False
            self._refused.discard(token_id)
            left, leased_until = self._left.get(token_id, (0, ends))
            # threads that leased at once each add their slice (all counted in the database)
            self._left[token_id] = ((left if leased_until == ends else 0) + granted - 1, ends)
        return None, also is not None


def slice_of(limit: int) -> int:
    """How many requests a process leases at once: 1 % of the limit, 1 to 100."""
    return max(1, min(100, limit // 100))


_budget = _Budget()


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
    stale = row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY

    def touch(uow: UnitOfWork) -> None:
        uow.scim_tokens.touch(row.id, now, now - TOUCH_EVERY)

    if REQUESTS_PER_MINUTE:
        wait, touched = _budget.spend(ctx, row.id, REQUESTS_PER_MINUTE, now, also=touch if stale else None)
        if wait is not None:
            raise TooManyAttempts(wait)
        stale = stale and not touched
    if stale:
        with ctx.uow(write=True) as uow:
            touch(uow)
            uow.commit()
    return ScimCaller(
        organization_id=row.organization_id,
        workspace_id=row.workspace_id,
        token_id=row.id,
        role=Role(row.role),
        name=row.name,
    )
