"""A unit of work: one database transaction with its repositories.

    with context.uow(write=True) as uow:
        uow.members.add(...)
        uow.commit()

Leaving the block without ``commit()`` rolls back. A constraint violation anywhere in the block (a statement,
the bulk flush, the commit) leaves it as the domain's ``AlreadyExists`` or ``Conflict`` (see
:mod:`admit.adapters.persistence.conflicts`), after the rollback. ``bulk=True`` holds inserts of members,
invitations, accounts, secrets and messages back and writes each table with one statement at the flush (see
``PendingInserts``; on PostgreSQL a ``COPY`` for 50 rows or more), and remembers the few rows such work reads
for every person (see ``Repository``). Write units take SQLite's write lock up front (``BEGIN IMMEDIATE``);
on PostgreSQL rows are locked where the use cases ask for it."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cached_property
from types import TracebackType

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from admit.adapters.persistence.access_code_repositories import AccessCodes
from admit.adapters.persistence.conflicts import conflict_from
from admit.adapters.persistence.database import WRITE, WriterBusy
from admit.adapters.persistence.flow_repositories import FlowStates
from admit.adapters.persistence.group_repositories import Groups
from admit.adapters.persistence.identity_repositories import Accounts, ApiTokens, Events, Outbox, Secrets, Throttles
from admit.adapters.persistence.jobs import Jobs
from admit.adapters.persistence.merge_repositories import OrganizationInvitations
from admit.adapters.persistence.oidc_repositories import (
    OidcAppSessions,
    OidcClientAssertions,
    OidcClients,
    OidcCodes,
    OidcRefreshTokens,
    OidcTokens,
    SigningKeys,
)
from admit.adapters.persistence.operations_repositories import IdempotencyKeys, Leases, Operations
from admit.adapters.persistence.organization_repositories import OrganizationControls
from admit.adapters.persistence.repositories import (
    Invitations,
    Members,
    Organizations,
    PendingInserts,
    Reads,
    Terms,
    WorkspaceLogos,
    Workspaces,
)
from admit.adapters.persistence.scim_repositories import ScimHolds, ScimRequests, ScimTokens, ScimUsers
from admit.adapters.persistence.signup_repositories import SignUps
from admit.adapters.persistence.sso_repositories import ExternalAccounts, IdentityProviders
from admit.adapters.persistence.webhook_repositories import Webhooks

log = logging.getLogger(__name__)


class UnitOfWork:
    conn: Connection

    def __init__(self, engine: Engine, *, write: bool, bulk: bool = False) -> None:
        self._engine = engine
        self._write = write
        self._bulk = bulk

    def __enter__(self) -> UnitOfWork:
        self._shared = _SHARED.get()
        if self._shared is not None and not self._shared.in_use:
            self._shared.in_use = True
            conn = self._shared.connection(self._engine)
        else:
            self._shared = None  # none, or a unit of work inside another: a connection of its own
            conn = self._engine.connect()
        # the option is kept on a shared connection: set it only when it changes (each set runs events)
        self.conn = (
            conn
            if conn.get_execution_options().get(WRITE, False) is self._write
            else conn.execution_options(**{WRITE: self._write})
        )
        try:
            self._tx = self.conn.begin()
        except BaseException:
            self._release()
            raise
        self.pending = PendingInserts() if self._bulk else None
        self.reads: Reads | None = {} if self._bulk else None  # see Repository
        return self

    def _release(self) -> None:
        if self._shared is None:
            self.conn.close()
            return
        try:
            if self.conn.get_transaction() is not None:
                # A failed commit (a full disk) leaves SQLAlchemy's transaction inactive but still
                # there (the next begin() would refuse), and the driver's open: end both.
                self.conn.rollback()
                self.conn.connection.dbapi_connection.rollback()  # type: ignore[union-attr]
        except Exception:
            self._shared.discard(self.conn)  # the next unit of work checks out a fresh one
        finally:
            self._shared.in_use = False

    # Repositories are made when first used: most units of work touch two or three of them.
    @cached_property
    def organizations(self) -> Organizations:
        return Organizations(self.conn, reads=self.reads)

    @cached_property
    def workspaces(self) -> Workspaces:
        return Workspaces(self.conn)

    @cached_property
    def members(self) -> Members:
        return Members(self.conn, self.pending)

    @cached_property
    def invitations(self) -> Invitations:
        return Invitations(self.conn, self.pending)

    @cached_property
    def accounts(self) -> Accounts:
        return Accounts(self.conn, self.pending)

    @cached_property
    def secrets(self) -> Secrets:
        return Secrets(self.conn, self.pending)

    @cached_property
    def api_tokens(self) -> ApiTokens:
        return ApiTokens(self.conn)

    @cached_property
    def events(self) -> Events:
        return Events(self.conn)

    @cached_property
    def outbox(self) -> Outbox:
        return Outbox(self.conn, self.pending)

    @cached_property
    def jobs(self) -> Jobs:
        return Jobs(self.conn)

    @cached_property
    def throttles(self) -> Throttles:
        return Throttles(self.conn)

    @cached_property
    def access_codes(self) -> AccessCodes:
        return AccessCodes(self.conn)

    @cached_property
    def terms(self) -> Terms:
        return Terms(self.conn)

    @cached_property
    def workspace_logos(self) -> WorkspaceLogos:
        return WorkspaceLogos(self.conn, reads=self.reads)

    @cached_property
    def groups(self) -> Groups:
        return Groups(self.conn)

    @cached_property
    def flows(self) -> FlowStates:
        return FlowStates(self.conn)

    @cached_property
    def identity_providers(self) -> IdentityProviders:
        return IdentityProviders(self.conn)

    @cached_property
    def external_accounts(self) -> ExternalAccounts:
        return ExternalAccounts(self.conn)

    @cached_property
    def signups(self) -> SignUps:
        return SignUps(self.conn)

    @cached_property
    def signing_keys(self) -> SigningKeys:
        return SigningKeys(self.conn)

    @cached_property
    def oidc_clients(self) -> OidcClients:
        return OidcClients(self.conn)

    @cached_property
    def oidc_codes(self) -> OidcCodes:
        return OidcCodes(self.conn)

    @cached_property
    def oidc_tokens(self) -> OidcTokens:
        return OidcTokens(self.conn)

    @cached_property
    def oidc_refresh_tokens(self) -> OidcRefreshTokens:
        return OidcRefreshTokens(self.conn)

    @cached_property
    def oidc_client_assertions(self) -> OidcClientAssertions:
        return OidcClientAssertions(self.conn)

    @cached_property
    def oidc_app_sessions(self) -> OidcAppSessions:
        return OidcAppSessions(self.conn)

    @cached_property
    def scim_tokens(self) -> ScimTokens:
        return ScimTokens(self.conn)

    @cached_property
    def webhooks(self) -> Webhooks:
        return Webhooks(self.conn, reads=self.reads)

    @cached_property
    def scim_requests(self) -> ScimRequests:
        return ScimRequests(self.conn)

    @cached_property
    def scim_users(self) -> ScimUsers:
        return ScimUsers(self.conn)

    @cached_property
    def scim_holds(self) -> ScimHolds:
        return ScimHolds(self.conn)

    @cached_property
    def org_controls(self) -> OrganizationControls:
        return OrganizationControls(self.conn, reads=self.reads)

    @cached_property
    def leases(self) -> Leases:
        return Leases(self.conn)

    @cached_property
    def idempotency_keys(self) -> IdempotencyKeys:
        return IdempotencyKeys(self.conn)

    @cached_property
    def operations(self) -> Operations:
        return Operations(self.conn)

    @cached_property
    def org_invitations(self) -> OrganizationInvitations:
        return OrganizationInvitations(self.conn)

    def flush(self) -> None:
        """Write held-back bulk inserts now (before reading them back)."""
        if self.pending is not None:
            self.pending.flush(self.conn)
        if "events" in self.__dict__:  # audit events were recorded
            self.events.flush()

    def commit(self) -> None:
        self.flush()
        self._tx.commit()

    def afterwards(self, work: Callable[[UnitOfWork], None], *, key: str | None = None) -> None:
        """Run ``work`` in a write unit of work of its own once this one has ended, committed or
        rolled back (what must be written even when the change that found it need is refused);
        ``work`` commits what it wrote. Its failure is logged, never raised over this one's outcome
        (but SQLite's writer being busy on the event loop still sends the request to try again).
        Work given again with the same ``key`` in this unit of work runs once."""
        pending: dict[object, Callable[[UnitOfWork], None]] = self.__dict__.setdefault("_afterwards", {})
        pending.setdefault(key if key is not None else object(), work)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self._release()
        for work in self.__dict__.pop("_afterwards", {}).values():
            try:
                with UnitOfWork(self._engine, write=True) as later:
                    work(later)
            except WriterBusy:
                raise
            except Exception:
                log.exception("work after a unit of work failed")
        if isinstance(exc, IntegrityError):
            raise conflict_from(exc) from None


class SharedConnections:
    """The connections (one per engine) that units of work opened one after another take turns on."""

    def __init__(self) -> None:
        self.connections: dict[Engine, Connection] = {}
        self.in_use = False

    def connection(self, engine: Engine) -> Connection:
        conn = self.connections.get(engine)
        if conn is None or conn.invalidated or conn.closed:
            conn = self.connections[engine] = engine.connect()
        return conn

    def discard(self, conn: Connection) -> None:
        for engine, held in list(self.connections.items()):
            if held is conn:
                del self.connections[engine]
        with contextlib.suppress(Exception):
            conn.invalidate()

    def close(self) -> None:
        for conn in self.connections.values():
            conn.close()
        self.connections.clear()


_SHARED: ContextVar[SharedConnections | None] = ContextVar("admit_shared_connections", default=None)


@contextmanager
def one_connection(kept: SharedConnections | None = None) -> Iterator[None]:
    """Units of work opened one after another inside this block (a request's authentication, then
    its use case) take turns on one pooled connection instead of checking one out each. A unit of
    work opened inside another still gets a connection of its own. With ``kept``, they use its
    connections, which stay checked out for the next block given the same ``kept``: only for
    blocks that never overlap (one event loop's inline work, one after another)."""
    shared = kept if kept is not None else SharedConnections()
    token = _SHARED.set(shared)
    try:
        yield
    finally:
        _SHARED.reset(token)
        if kept is None:
            shared.close()
