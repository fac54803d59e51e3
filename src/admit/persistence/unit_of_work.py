"""A unit of work: one database transaction with its repositories.

    with context.uow(write=True) as uow:
        uow.members.add(...)
        uow.commit()

Leaving the block without ``commit()`` rolls back. ``bulk=True`` holds inserts of members,
invitations, accounts, secrets and messages back and writes each table with one statement at the
flush (see ``PendingInserts``). Write units take SQLite's write lock up front
(``BEGIN IMMEDIATE``); on PostgreSQL rows are locked where the services ask for it.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.engine import Connection, Engine

from admit.persistence.database import WRITE
from admit.persistence.identity_repositories import Accounts, ApiTokens, Events, Outbox, Secrets, Throttles
from admit.persistence.jobs import Jobs
from admit.persistence.repositories import (
    Invitations,
    Members,
    Organizations,
    PendingInserts,
    Terms,
    Workspaces,
)
from admit.persistence.sso_repositories import ExternalAccounts, IdentityProviders


class UnitOfWork:
    conn: Connection

    def __init__(self, engine: Engine, *, write: bool, bulk: bool = False) -> None:
        self._engine = engine
        self._write = write
        self._bulk = bulk

    def __enter__(self) -> UnitOfWork:
        self.conn = self._engine.connect().execution_options(**{WRITE: self._write})
        self._tx = self.conn.begin()
        self.pending = PendingInserts() if self._bulk else None
        self.organizations = Organizations(self.conn)
        self.workspaces = Workspaces(self.conn)
        self.members = Members(self.conn, self.pending)
        self.invitations = Invitations(self.conn, self.pending)
        self.accounts = Accounts(self.conn, self.pending)
        self.secrets = Secrets(self.conn, self.pending)
        self.api_tokens = ApiTokens(self.conn)
        self.events = Events(self.conn)
        self.outbox = Outbox(self.conn, self.pending)
        self.jobs = Jobs(self.conn)
        self.throttles = Throttles(self.conn)
        self.terms = Terms(self.conn)
        self.identity_providers = IdentityProviders(self.conn)
        self.external_accounts = ExternalAccounts(self.conn)
        return self

    def flush(self) -> None:
        """Write held-back bulk inserts now (before reading them back)."""
        if self.pending is not None:
            self.pending.flush(self.conn)
        self.events.flush()

    def commit(self) -> None:
        self.flush()
        self._tx.commit()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self.conn.close()
