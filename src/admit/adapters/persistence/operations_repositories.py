"""Leader leases of periodic work and the API's idempotency keys (issue 19): rows every process
shares through the database, taken and kept with single atomic statements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from admit.adapters.persistence import tables as t
from admit.adapters.persistence.repositories import Repository


class Leases(Repository):
    """One row per periodic task: whoever holds an unexpired row runs the task."""

    def _upsert(self) -> Any:
        return postgresql_insert if self.conn.dialect.name == "postgresql" else sqlite_insert

    def take(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take the lease ``name`` for ``holder`` until ``until`` if nobody holds it (it is missing
        or lapsed): True when it is now ``holder``'s. One statement each, so two processes never
        both win: the INSERT of a missing row (the primary key settles a race), else the UPDATE of
        a lapsed row (the row lock settles it: the second UPDATE finds it no longer lapsed). A
        holder does not renew its own unexpired lease: a period's work runs once."""
        inserted = self.conn.execute(
            self._upsert()(t.leases)
            .values(name=name, holder=holder, expires_at=until)
            .on_conflict_do_nothing(index_elements=[t.leases.c.name])
            .returning(t.leases.c.name)
        ).first()
        if inserted is not None:  # (RETURNING, not rowcount: psycopg reports -1 for these inserts)
            return True
        c = t.leases.c
        taken = self.conn.execute(
            update(t.leases)
            .where(c.name == name, c.expires_at <= now)
            .values(holder=holder, expires_at=until)
            .returning(c.name)
        ).first()
        return taken is not None

    def release(self, name: str, holder: str) -> None:
        """Give the lease up now (on shutdown), if ``holder`` still has it."""
        self.conn.execute(delete(t.leases).where(t.leases.c.name == name, t.leases.c.holder == holder))

    def get(self, name: str) -> Row[Any] | None:
        return self.conn.execute(select(t.leases).where(t.leases.c.name == name)).first()


class IdempotencyKeys(Repository):
    """The first answer to each (caller, key), kept until it expires."""

    def begin(self, caller: str, key: str, request_hash: str, now: datetime, expires_at: datetime) -> bool:
        """Insert the key "in flight"; False when the caller already used it (the row decides)."""
        inserted = self.conn.execute(
            (postgresql_insert if self.conn.dialect.name == "postgresql" else sqlite_insert)(t.idempotency_keys)
            .values(
                caller=caller,
                key=key,
                request_hash=request_hash,
                state="in_flight",
                created_at=now,
                expires_at=expires_at,
            )
            .on_conflict_do_nothing(index_elements=[t.idempotency_keys.c.caller, t.idempotency_keys.c.key])
            .returning(t.idempotency_keys.c.key)
        ).first()
        return inserted is not None

    def take_over(self, caller: str, key: str, request_hash: str, now: datetime, stale_before: datetime) -> bool:
        """Claim a key whose first request was left "in flight" before ``stale_before`` (its process
        died): one UPDATE, so of two retries only one takes it over."""
        c = t.idempotency_keys.c
        taken = self.conn.execute(
            update(t.idempotency_keys)
            .where(
                c.caller == caller,
                c.key == key,
                c.request_hash == request_hash,
                c.state == "in_flight",
                c.created_at < stale_before,
            )
            .values(created_at=now)
            .returning(c.key)
        ).first()
        return taken is not None

    def get(self, caller: str, key: str) -> Row[Any] | None:
        c = t.idempotency_keys.c
        return self.conn.execute(select(t.idempotency_keys).where(c.caller == caller, c.key == key)).first()

    def finish(self, caller: str, key: str, status: int, content_type: str | None, body: bytes) -> None:
        c = t.idempotency_keys.c
        self.conn.execute(
            update(t.idempotency_keys)
            .where(c.caller == caller, c.key == key)
            .values(state="done", status=status, content_type=content_type, body=body)
        )

    def forget(self, caller: str, key: str) -> None:
        """Drop a key whose request did not finish (the caller may try again with it)."""
        c = t.idempotency_keys.c
        self.conn.execute(delete(t.idempotency_keys).where(c.caller == caller, c.key == key))

    def expire(self, now: datetime) -> int:
        return int(self.conn.execute(delete(t.idempotency_keys).where(t.idempotency_keys.c.expires_at < now)).rowcount)


WAITING = ("queued", "sending", "failed")  # messages not yet sent nor given up


class Operations(Repository):
    """What readiness checks and metrics scrapes read (no tenant filter: instance-wide counts)."""

    def schema_revision(self) -> str | None:
        """The migration the database is at (None: never migrated)."""
        try:
            with self.conn.begin_nested():
                return self.conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:
            return None

    def outbox_backlog(self) -> Sequence[Row[Any]]:
        """Per channel: how many messages wait, and when the oldest was queued."""
        c = t.outbox.c
        return self.conn.execute(
            select(c.channel, func.count().label("waiting"), func.min(c.created_at).label("oldest"))
            .where(c.state.in_(WAITING))
            .group_by(c.channel)
        ).all()

    def jobs_by_state(self) -> Sequence[Row[Any]]:
        """Per kind and state: how many jobs, their rows done and their rows in all."""
        c = t.jobs.c
        return self.conn.execute(
            select(
                c.kind,
                c.state,
                func.count().label("jobs"),
                func.coalesce(func.sum(c.position), 0).label("done"),
                func.coalesce(func.sum(c.total), 0).label("total"),
            ).group_by(c.kind, c.state)
        ).all()
