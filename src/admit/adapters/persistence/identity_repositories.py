"""Repositories for accounts, their identifiers, secrets and API tokens (not tenant-owned:
an account belongs to a person, who may be a member of many organizations)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Row, and_, bindparam, case, delete, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from admit.adapters.persistence import tables as t
from admit.adapters.persistence.repositories import DriverQuery, Repository, insert_many, insert_returning_id
from admit.domain.records import Account, Message

MAX_PAIRS = 3  # a member's email, username and phone


@cache
def _by_identifiers(count: int) -> DriverQuery:
    """The account holding any of ``count`` (kind, value) identifiers (on every welcome page)."""
    c = t.account_identifiers.c
    matches = (and_(c.kind == bindparam(f"k{i}"), c.value == bindparam(f"v{i}")) for i in range(count))
    stmt = select(t.accounts).join(t.account_identifiers, c.account_id == t.accounts.c.id).where(or_(*matches)).limit(1)
    return DriverQuery(stmt, Account)


def _account(row: Row[Any] | None) -> Account | None:
    return None if row is None else Account._make(row)


class Accounts(Repository):
    def add(self, **values: Any) -> str:
        return self._insert(t.accounts, values)

    _by_id = DriverQuery(select(t.accounts).where(t.accounts.c.id == bindparam("id")), Account)
    _identifiers = DriverQuery(
        select(t.account_identifiers.c.kind, t.account_identifiers.c.value)
        .where(t.account_identifiers.c.account_id == bindparam("id"))
        .order_by(t.account_identifiers.c.kind, t.account_identifiers.c.value)
    )

    def get(self, account_id: str) -> Account | None:
        return self._by_id.first(self.conn, {"id": account_id})  # type: ignore[no-any-return]

    def add_identifier(self, account_id: str, kind: str, value: str, now: datetime) -> str:
        return self._insert(
            t.account_identifiers, {"account_id": account_id, "kind": kind, "value": value, "created_at": now}
        )

    def by_identifiers(self, pairs: Sequence[tuple[str, str]]) -> Account | None:
        """The account holding any of these (kind, value) identifiers."""
        if not pairs:
            return None
        found = None
        for start in range(0, len(pairs), MAX_PAIRS):
            chunk = pairs[start : start + MAX_PAIRS]
            params = {f"k{i}": kind for i, (kind, _) in enumerate(chunk)}
            params |= {f"v{i}": value for i, (_, value) in enumerate(chunk)}
            found = _by_identifiers(len(chunk)).first(self.conn, params)
            if found is not None:
                break
        return found

    def identifiers(self, account_id: str) -> list[tuple[str, str]]:
        return [(str(kind), str(value)) for kind, value in self._identifiers.all(self.conn, {"id": account_id})]

    def set_password_hash(self, account_id: str, password_hash: str, *, must_change: bool | None = None) -> None:
        """Store a new password hash; ``must_change`` (when given) also sets whether the account
        must replace it at its next sign-in (False: the person chose it themselves)."""
        values: dict[str, Any] = {"password_hash": password_hash}
        if must_change is not None:
            values["must_change_password"] = must_change
        self.conn.execute(update(t.accounts).where(t.accounts.c.id == account_id).values(**values))


class Secrets(Repository):
    c = t.secrets.c

    def add(self, **values: Any) -> str:
        return self._insert(t.secrets, values)

    _by_digest = DriverQuery(select(t.secrets).where(t.secrets.c.digest == bindparam("digest")))
    _by_digest_locked = _by_digest.stmt.with_for_update()

    def by_digest(self, digest: str, *, lock: bool = False) -> Row[Any] | None:
        if lock:
            return self.conn.execute(self._by_digest_locked, {"digest": digest}).first()
        return self._by_digest.first(self.conn, {"digest": digest})  # type: ignore[no-any-return]

    def consume(self, secret_id: str, now: datetime) -> bool:
        result = self.conn.execute(
            update(t.secrets)
            .where(self.c.id == secret_id, self.c.consumed_at.is_(None), self.c.revoked_at.is_(None))
            .values(consumed_at=now)
        )
        return result.rowcount == 1

    def revoke(self, secret_id: str, now: datetime) -> None:
        self.conn.execute(update(t.secrets).where(self.c.id == secret_id).values(revoked_at=now))

    def live_for(self, subject_id: str, purpose: str, *, lock: bool = False) -> Row[Any] | None:
        """The newest secret of this purpose for a subject that is neither used nor withdrawn."""
        stmt = (
            select(t.secrets)
            .where(
                self.c.subject_id == subject_id,
                self.c.purpose == purpose,
                self.c.consumed_at.is_(None),
                self.c.revoked_at.is_(None),
            )
            .order_by(self.c.created_at.desc(), self.c.id.desc())
            .limit(1)
        )
        return self.conn.execute(stmt.with_for_update() if lock else stmt).first()

    def count_attempt(self, secret_id: str) -> None:
        self.conn.execute(update(t.secrets).where(self.c.id == secret_id).values(attempts=self.c.attempts + 1))

    def revoke_for(self, subject_id: str, purpose: str, now: datetime) -> None:
        """Withdraw every live secret of this purpose for a subject (only the newest works)."""
        self.conn.execute(
            update(t.secrets)
            .where(
                self.c.subject_id == subject_id,
                self.c.purpose == purpose,
                self.c.consumed_at.is_(None),
                self.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )


class ApiTokens(Repository):
    def add(self, **values: Any) -> str:
        return self._insert(t.api_tokens, values)

    _by_digest = DriverQuery(select(t.api_tokens).where(t.api_tokens.c.digest == bindparam("digest")))

    def by_digest(self, digest: str) -> Row[Any] | None:
        return self._by_digest.first(self.conn, {"digest": digest})  # type: ignore[no-any-return]


class Events(Repository):
    """Audit events are buffered and written in one statement when the unit of work commits."""

    def __init__(self, conn: Any) -> None:
        super().__init__(conn)
        self.buffered: list[dict[str, Any]] = []

    def add(self, **values: Any) -> None:
        self.buffered.append(values)

    def flush(self) -> None:
        if self.buffered:
            insert_many(self.conn, t.events, self.buffered)
            self.buffered = []

    def list(
        self,
        organization_id: str | None,
        *,
        workspace_id: str | None = None,
        subject_id: str | None = None,
        actor_id: str | None = None,
        action: str | None = None,
        before: int | None = None,
        limit: int = 100,
        subject_ids: Collection[str] | None = None,
    ) -> Sequence[Row[Any]]:
        """Newest first; ``action`` matches a prefix ("member." for every member event);
        ``before`` pages on (an event id); ``subject_ids``: events about any of these."""
        self.flush()
        c = t.events.c
        stmt = select(t.events).order_by(c.id.desc()).limit(limit)
        if organization_id is not None:
            stmt = stmt.where(c.organization_id == organization_id)
        if workspace_id is not None:
            stmt = stmt.where(c.workspace_id == workspace_id)
        if subject_id is not None:
            stmt = stmt.where(c.subject_id == subject_id)
        if subject_ids is not None:
            stmt = stmt.where(c.subject_id.in_(list(subject_ids)))
        if actor_id is not None:
            stmt = stmt.where(c.actor_id == actor_id)
        if action:
            stmt = stmt.where(c.action.startswith(action, autoescape=True))
        if before is not None:
            stmt = stmt.where(c.id < before)
        return self.conn.execute(stmt).all()

    def names(self, organization_id: str, ids: Collection[str]) -> dict[str, str]:
        """Readable names for the ids events mention (members and invitations by address, accounts
        by their first identifier, API and SCIM tokens by name), looked up in a few queries."""
        if not ids:
            return {}
        m, i, a, k = t.members.c, t.invitations.c, t.account_identifiers.c, t.api_tokens.c
        queries = [
            select(m.id, m.email, m.username).where(m.organization_id == organization_id, m.id.in_(ids)),
            select(i.id, i.email, i.phone).where(i.organization_id == organization_id, i.id.in_(ids)),
            select(a.account_id, a.value, a.kind).where(a.account_id.in_(ids)).order_by(a.kind),
            select(k.id, k.name, k.role).where(k.organization_id == organization_id, k.id.in_(ids)),
            select(t.scim_tokens.c.id, t.scim_tokens.c.name, t.scim_tokens.c.role).where(
                t.scim_tokens.c.organization_id == organization_id, t.scim_tokens.c.id.in_(ids)
            ),
        ]
        found: dict[str, str] = {}
        for query in queries:
            for key, first, second in self.conn.execute(query).all():
                found.setdefault(key, first or second)
        return found

    def full_names(self, organization_id: str, ids: Collection[str]) -> dict[str, str]:
        """The first and last names of the people behind the ids events mention (a member, the
        member an invitation is for, an account), for those who have any."""
        if not ids:
            return {}
        m, i, a = t.members.c, t.invitations.c, t.accounts.c
        queries = [
            select(m.id, m.first_name, m.last_name).where(m.organization_id == organization_id, m.id.in_(ids)),
            select(i.id, m.first_name, m.last_name)
            .join_from(t.invitations, t.members, m.id == i.member_id)
            .where(i.organization_id == organization_id, i.id.in_(ids)),
            select(a.id, a.first_name, a.last_name).where(a.id.in_(ids)),
        ]
        found: dict[str, str] = {}
        for query in queries:
            for key, first, last in self.conn.execute(query).all():
                name = " ".join(part for part in (first, last) if part)
                if name:
                    found.setdefault(key, name)
        return found


class Outbox(Repository):
    c = t.outbox.c

    def add(self, **values: Any) -> int:
        """The new message's id (0 in bulk mode, where ids are only known after the flush)."""
        if self.pending is not None:
            self.pending.add(t.outbox, values)
            return 0
        return insert_returning_id(self.conn, t.outbox, values)

    def _messages(self, stmt: Any) -> list[Message]:
        return [Message._make(row) for row in self.conn.execute(stmt)]

    def get(self, organization_id: str | None, message_id: int) -> Message | None:
        stmt = select(t.outbox).where(self.c.id == message_id)
        if organization_id is not None:
            stmt = stmt.where(self.c.organization_id == organization_id)
        row = self.conn.execute(stmt).first()
        return None if row is None else Message._make(row)

    def list(
        self,
        organization_id: str | None = None,
        *,
        state: str | None = None,
        limit: int = 50,
        workspace_id: str | None = None,
    ) -> Sequence[Message]:
        stmt = select(t.outbox).order_by(self.c.id.desc()).limit(limit)
        if organization_id is not None:
            stmt = stmt.where(self.c.organization_id == organization_id)
        if workspace_id is not None:
            stmt = stmt.where(self.c.workspace_id == workspace_id)
        if state is not None:
            stmt = stmt.where(self.c.state == state)
        return self._messages(stmt)

    def claim(self, channels: Sequence[str], now: datetime, lease_until: datetime, limit: int) -> Sequence[Message]:
        """Lock up to ``limit`` due messages for this worker (rows other workers hold are skipped)
        and mark them ``sending``: the attempt is recorded before anything is handed over."""
        due = or_(
            and_(self.c.state.in_(("queued", "failed")), self.c.next_attempt_at <= now),
            and_(self.c.state == "sending", self.c.locked_until <= now),
        )
        ids = (
            self.conn.execute(
                select(self.c.id)
                .where(self.c.channel.in_(list(channels)), due)
                .order_by(self.c.next_attempt_at, self.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            .scalars()
            .all()
        )
        if not ids:
            return []
        self.conn.execute(
            update(t.outbox)
            .where(self.c.id.in_(ids))
            .values(state="sending", attempts=self.c.attempts + 1, locked_until=lease_until)
        )
        return self._messages(select(t.outbox).where(self.c.id.in_(ids)).order_by(self.c.id))

    def note_waiting(self, channel: str, reason: str) -> int:
        """Say on the channel's waiting messages why nothing sends them (no attempt is counted)."""
        result = self.conn.execute(
            update(t.outbox)
            .where(
                self.c.channel == channel,
                self.c.state.in_(("queued", "failed")),
                or_(self.c.last_error.is_(None), self.c.last_error != reason),
            )
            .values(last_error=reason)
        )
        return int(result.rowcount or 0)

    def finish(self, outcomes: Sequence[dict[str, Any]]) -> None:
        """Record attempt outcomes; a row that another worker re-claimed meanwhile is left alone."""
        if not outcomes:
            return
        stmt = (
            update(t.outbox)
            .where(
                self.c.id == bindparam("b_id"), self.c.attempts == bindparam("b_attempts"), self.c.state == "sending"
            )
            .values(
                state=bindparam("b_state"),
                next_attempt_at=bindparam("b_next"),
                last_error=bindparam("b_error"),
                sent_at=bindparam("b_sent"),
                locked_until=None,
                attempts=bindparam("b_attempts_after"),
                payload=bindparam("b_payload"),
            )
        )
        self.conn.execute(stmt, [{f"b_{k}": v for k, v in o.items()} for o in outcomes])

    def sms_sent_since(self, workspace_id: str, since: datetime) -> int:
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(t.outbox)
                .where(
                    self.c.workspace_id == workspace_id,
                    self.c.channel == "sms",
                    self.c.state == "sent",
                    self.c.sent_at >= since,
                )
            ).scalar_one()
        )

    def retry(self, organization_id: str | None, message_id: int, now: datetime) -> bool:
        stmt = update(t.outbox).where(self.c.id == message_id, self.c.state.in_(("failed", "abandoned")))
        if organization_id is not None:
            stmt = stmt.where(self.c.organization_id == organization_id)
        result = self.conn.execute(stmt.values(state="queued", attempts=0, next_attempt_at=now))
        return result.rowcount == 1


class Throttles(Repository):
    """Consecutive failures per key, shared by every process through the database."""

    def get(self, key: str) -> Row[Any] | None:
        return self.conn.execute(select(t.throttles).where(t.throttles.c.key == key)).first()

    def add_failure(self, key: str, now: datetime) -> int:
        """Count one more failure atomically (an upsert, safe under concurrent attempts)."""
        upsert = postgresql_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        stmt = upsert(t.throttles).values(key=key, failures=1, updated_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.throttles.c.key],
            set_={"failures": t.throttles.c.failures + 1, "updated_at": now},
        )
        self.conn.execute(stmt)
        row = self.get(key)
        assert row is not None
        return int(row.failures)

    def block_until(self, key: str, blocked_until: datetime | None) -> None:
        self.conn.execute(update(t.throttles).where(t.throttles.c.key == key).values(blocked_until=blocked_until))

    def clear(self, key: str) -> None:
        self.conn.execute(delete(t.throttles).where(t.throttles.c.key == key))

    def count_in_window(self, key: str, now: datetime, window_ends: datetime, amount: int = 1) -> tuple[int, datetime]:
        """Count ``amount`` more actions under ``key`` in its fixed window, in one atomic statement
        (an upsert with RETURNING: every process shares the count, and concurrent callers queue on
        the row). A window that has ended starts again at ``amount``, ending at ``window_ends``.
        Returns the count including these actions and when the window ends. ``blocked_until``
        holds the end."""
        c = t.throttles.c
        lapsed = or_(c.blocked_until.is_(None), c.blocked_until <= literal(now, t.UTCDateTime()))
        upsert = postgresql_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        stmt = upsert(t.throttles).values(key=key, failures=amount, blocked_until=window_ends, updated_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[c.key],
            set_={
                "failures": case((lapsed, amount), else_=c.failures + amount),
                "blocked_until": case((lapsed, literal(window_ends, t.UTCDateTime())), else_=c.blocked_until),
                "updated_at": now,
            },
        )
        row = self.conn.execute(stmt.returning(c.failures, c.blocked_until)).one()
        return int(row.failures), row.blocked_until
