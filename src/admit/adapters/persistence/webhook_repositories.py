"""Webhooks: an organization's endpoints, its event counter, the published events, the messages
the webhook worker claims (like the outbox's: ``FOR UPDATE SKIP LOCKED``, a lease, the attempt
counted before anything is sent) and the delivery log. Every query filters on the organization."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from admit.adapters.persistence import tables as t
from admit.adapters.persistence.repositories import DriverQuery, Repository, insert_returning_id

PENDING = ("queued", "failed", "sending")


class Webhooks(Repository):
    e = t.webhook_endpoints.c
    m = t.webhook_messages.c

    # Endpoints
    def add_endpoint(self, **values: Any) -> str:
        return self._insert(t.webhook_endpoints, values)

    def endpoint(self, organization_id: str, endpoint_id: str) -> Row[Any] | None:
        if not isinstance(endpoint_id, str) or len(endpoint_id) > 32 or "\x00" in endpoint_id:
            return None
        return self._one(
            select(t.webhook_endpoints).where(self.e.id == endpoint_id, self.e.organization_id == organization_id)
        )

    def endpoints(self, organization_id: str, workspace_id: str | None = None) -> Sequence[Row[Any]]:
        """The organization's endpoints (with ``workspace_id``: that workspace's and the
        organization-wide ones), the newest first."""
        stmt = select(t.webhook_endpoints).where(self.e.organization_id == organization_id)
        if workspace_id is not None:
            stmt = stmt.where(or_(self.e.workspace_id.is_(None), self.e.workspace_id == workspace_id))
        return self.conn.execute(stmt.order_by(self.e.created_at.desc(), self.e.id.desc())).all()

    def update_endpoint(self, organization_id: str, endpoint_id: str, **values: Any) -> None:
        self._forget_reads()
        self.conn.execute(
            update(t.webhook_endpoints)
            .where(self.e.id == endpoint_id, self.e.organization_id == organization_id)
            .values(**values)
        )

    _subscribers = DriverQuery(  # every audit event asks: compiled once (``ws`` None: organization-wide only)
        select(t.webhook_endpoints.c.id, t.webhook_endpoints.c.event_types)
        .where(
            t.webhook_endpoints.c.organization_id == bindparam("org"),
            t.webhook_endpoints.c.enabled.is_(True),
            or_(t.webhook_endpoints.c.workspace_id.is_(None), t.webhook_endpoints.c.workspace_id == bindparam("ws")),
        )
        .order_by(t.webhook_endpoints.c.id)
    )

    def subscribers(self, organization_id: str, workspace_id: str | None) -> Sequence[Row[Any]]:
        """The enabled endpoints an event of this organization (and workspace) goes to (in bulk
        mode, read once per unit of work: every audit event asks)."""

        def read() -> Any:
            return self._subscribers.all(self.conn, {"org": organization_id, "ws": workspace_id})

        return cast(
            "Sequence[Row[Any]]", self._remembered(("webhook_subscribers", organization_id, workspace_id), read)
        )

    # Events and messages
    def next_sequence(self, organization_id: str) -> int:
        """The organization's next sequence number, its counter row locked until the transaction ends."""
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(t.webhook_sequences).values(organization_id=organization_id, last=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=["organization_id"], set_={"last": t.webhook_sequences.c.last + 1}
        ).returning(t.webhook_sequences.c.last)
        return int(self.conn.execute(stmt).scalar_one())

    def add_event(self, **values: Any) -> None:
        self.conn.execute(t.webhook_events.insert().values(**values))

    def add_message(self, **values: Any) -> int:
        return insert_returning_id(self.conn, t.webhook_messages, values)

    def event(self, organization_id: str, event_id: str) -> Row[Any] | None:
        return self._one(
            select(t.webhook_events).where(
                t.webhook_events.c.id == event_id, t.webhook_events.c.organization_id == organization_id
            )
        )

    def claim(self, now: datetime, lease_until: datetime, limit: int) -> Sequence[Row[Any]]:
        """Lock up to ``limit`` due messages of enabled endpoints, each only when every earlier message (by sequence) of
        its endpoint that is still pending is due as well (so an endpoint gets its events in
        order), and mark them ``sending``: the attempt is counted before anything is sent.

        Several workers on PostgreSQL: the endpoints are locked first (``FOR NO KEY UPDATE SKIP
        LOCKED``, which new messages' foreign-key checks do not wait for), so one claim at a time
        takes an endpoint's messages; the next one sees them ``sending`` and waits behind them.
        Locking only the messages let two claims take an endpoint's 1–5 and 6–10 at once and
        send them side by side. (SQLite has one writer at a time: nothing to lock.)"""
        due = or_(
            and_(self.m.state.in_(("queued", "failed")), self.m.next_attempt_at <= now),
            and_(self.m.state == "sending", self.m.locked_until <= now),
        )
        waiting = or_(  # pending but not due: every later message of its endpoint waits behind it
            and_(self.m.state.in_(("queued", "failed")), self.m.next_attempt_at > now),
            and_(self.m.state == "sending", self.m.locked_until > now),
        )
        barrier = (
            select(self.m.endpoint_id, func.min(self.m.sequence).label("sequence"))
            .where(waiting)
            .group_by(self.m.endpoint_id)
            .subquery()
        )
        endpoints = (
            self.conn.execute(
                select(self.e.id)
                .where(self.e.enabled.is_(True), exists().where(self.m.endpoint_id == self.e.id, due))
                .order_by(self.e.id)
                .limit(limit)
                .with_for_update(skip_locked=True, key_share=True)
            )
            .scalars()
            .all()
        )
        if not endpoints:
            return []
        ids = (
            self.conn.execute(
                select(self.m.id)
                .outerjoin(barrier, barrier.c.endpoint_id == self.m.endpoint_id)
                .where(
                    due,
                    or_(barrier.c.sequence.is_(None), self.m.sequence < barrier.c.sequence),
                    self.m.endpoint_id.in_(endpoints),
                )
                .order_by(self.m.sequence, self.m.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=t.webhook_messages)
            )
            .scalars()
            .all()
        )
        if not ids:
            return []
        self.conn.execute(
            update(t.webhook_messages)
            .where(self.m.id.in_(ids))
            .values(state="sending", attempts=self.m.attempts + 1, locked_until=lease_until)
        )
        ev, ep = t.webhook_events.c, t.webhook_endpoints.c
        stmt = (
            select(
                self.m.id,
                self.m.organization_id,
                self.m.endpoint_id,
                self.m.event_id,
                self.m.sequence,
                self.m.attempts,
                self.m.created_at,
                ev.type,
                ev.workspace_id,
                ev.payload,
                ep.url,
                ep.secret,
                ep.previous_secret,
                ep.previous_until,
                ep.enabled,
            )
            .join(t.webhook_events, ev.id == self.m.event_id)
            .join(t.webhook_endpoints, ep.id == self.m.endpoint_id)
            .where(self.m.id.in_(ids))
            .order_by(self.m.endpoint_id, self.m.sequence, self.m.id)
        )
        return cast("Sequence[Row[Any]]", self.conn.execute(stmt).all())

    def finish(self, outcomes: Sequence[dict[str, Any]]) -> None:
        """Record outcomes; a row another worker re-claimed meanwhile is left alone."""
        if not outcomes:
            return
        stmt = (
            update(t.webhook_messages)
            .where(
                self.m.id == bindparam("b_id"), self.m.attempts == bindparam("b_attempts"), self.m.state == "sending"
            )
            .values(
                state=bindparam("b_state"),
                next_attempt_at=bindparam("b_next"),
                last_error=bindparam("b_error"),
                sent_at=bindparam("b_sent"),
                locked_until=None,
                attempts=bindparam("b_attempts_after"),
            )
        )
        self.conn.execute(stmt, [{f"b_{k}": v for k, v in o.items()} for o in outcomes])

    def add_attempts(self, rows: Sequence[dict[str, Any]]) -> None:
        """The delivery log's new rows, in one statement."""
        if rows:
            self.conn.execute(t.webhook_attempts.insert(), list(rows))

    def messages(self, organization_id: str, endpoint_id: str, limit: int = 100) -> Sequence[Row[Any]]:
        ev = t.webhook_events.c
        stmt = (
            select(t.webhook_messages, ev.type)
            .join(t.webhook_events, ev.id == self.m.event_id)
            .where(self.m.organization_id == organization_id, self.m.endpoint_id == endpoint_id)
            .order_by(self.m.sequence.desc(), self.m.id.desc())
            .limit(limit)
        )
        return self.conn.execute(stmt).all()

    def message(self, organization_id: str, message_id: int) -> Row[Any] | None:
        return self._one(
            select(t.webhook_messages).where(self.m.id == message_id, self.m.organization_id == organization_id)
        )

    def attempts(self, organization_id: str, endpoint_id: str, limit: int = 100) -> Sequence[Row[Any]]:
        a = t.webhook_attempts.c
        stmt = (
            select(t.webhook_attempts, t.webhook_messages.c.event_id, t.webhook_events.c.type)
            .join(t.webhook_messages, t.webhook_messages.c.id == a.message_id)
            .join(t.webhook_events, t.webhook_events.c.id == t.webhook_messages.c.event_id)
            .where(a.organization_id == organization_id, a.endpoint_id == endpoint_id)
            .order_by(a.id.desc())
            .limit(limit)
        )
        return self.conn.execute(stmt).all()

    def requeue(self, organization_id: str, endpoint_id: str, now: datetime, *, message_id: int | None = None,
                since: datetime | None = None) -> int:  # fmt: skip
        """Queue messages of the endpoint again (one, or every one created since ``since``) with a
        fresh set of attempts; a message being sent is left alone. How many were queued."""
        stmt = update(t.webhook_messages).where(
            self.m.organization_id == organization_id, self.m.endpoint_id == endpoint_id, self.m.state != "sending"
        )
        if message_id is not None:
            stmt = stmt.where(self.m.id == message_id)
        if since is not None:
            stmt = stmt.where(self.m.created_at >= since)
        done = self.conn.execute(
            stmt.values(state="queued", attempts=0, next_attempt_at=now, locked_until=None, last_error=None)
        )
        return int(done.rowcount or 0)

    def pending_count(self, organization_id: str, endpoint_id: str) -> int:
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(t.webhook_messages)
                .where(
                    self.m.organization_id == organization_id,
                    self.m.endpoint_id == endpoint_id,
                    self.m.state.in_(PENDING),
                )
            ).scalar_one()
        )
