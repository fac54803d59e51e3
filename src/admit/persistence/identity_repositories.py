"""Repositories for accounts, their identifiers, secrets and API tokens (not tenant-owned:
an account belongs to a person, who may be a member of many organizations)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, insert, or_, select, update

from admit.persistence import tables as t
from admit.persistence.repositories import Repository


class Accounts(Repository):
    def add(self, **values: Any) -> str:
        return self._insert(t.accounts, values)

    def get(self, account_id: str) -> Row[Any] | None:
        return self._one(select(t.accounts).where(t.accounts.c.id == account_id))

    def add_identifier(self, account_id: str, kind: str, value: str, now: datetime) -> str:
        return self._insert(
            t.account_identifiers, {"account_id": account_id, "kind": kind, "value": value, "created_at": now}
        )

    def by_identifiers(self, pairs: Sequence[tuple[str, str]]) -> Row[Any] | None:
        """The account holding any of these (kind, value) identifiers."""
        if not pairs:
            return None
        c = t.account_identifiers.c
        stmt = (
            select(t.accounts)
            .join(t.account_identifiers, c.account_id == t.accounts.c.id)
            .where(or_(*(and_(c.kind == kind, c.value == value) for kind, value in pairs)))
            .limit(1)
        )
        return self._one(stmt)

    def identifiers(self, account_id: str) -> list[tuple[str, str]]:
        c = t.account_identifiers.c
        rows = self.conn.execute(
            select(c.kind, c.value).where(c.account_id == account_id).order_by(c.kind, c.value)
        ).all()
        return [(str(kind), str(value)) for kind, value in rows]

    def set_password_hash(self, account_id: str, password_hash: str) -> None:
        self.conn.execute(update(t.accounts).where(t.accounts.c.id == account_id).values(password_hash=password_hash))


class Secrets(Repository):
    c = t.secrets.c

    def add(self, **values: Any) -> str:
        return self._insert(t.secrets, values)

    def by_digest(self, digest: str, *, lock: bool = False) -> Row[Any] | None:
        stmt = select(t.secrets).where(self.c.digest == digest)
        return self._one(stmt.with_for_update() if lock else stmt)

    def consume(self, secret_id: str, now: datetime) -> bool:
        result = self.conn.execute(
            update(t.secrets)
            .where(self.c.id == secret_id, self.c.consumed_at.is_(None), self.c.revoked_at.is_(None))
            .values(consumed_at=now)
        )
        return result.rowcount == 1

    def revoke(self, secret_id: str, now: datetime) -> None:
        self.conn.execute(update(t.secrets).where(self.c.id == secret_id).values(revoked_at=now))

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

    def by_digest(self, digest: str) -> Row[Any] | None:
        return self._one(select(t.api_tokens).where(t.api_tokens.c.digest == digest))


class Events(Repository):
    def add(self, **values: Any) -> None:
        self.conn.execute(insert(t.events), values)

    def list(
        self, organization_id: str | None, *, subject_id: str | None = None, limit: int = 100
    ) -> Sequence[Row[Any]]:
        c = t.events.c
        stmt = select(t.events).order_by(c.id.desc()).limit(limit)
        if organization_id is not None:
            stmt = stmt.where(c.organization_id == organization_id)
        if subject_id is not None:
            stmt = stmt.where(c.subject_id == subject_id)
        return self.conn.execute(stmt).all()


class Outbox(Repository):
    def add(self, **values: Any) -> int:
        key = self.conn.execute(insert(t.outbox), values).inserted_primary_key
        assert key is not None
        return int(key[0])

    def list(
        self, organization_id: str | None = None, *, state: str | None = None, limit: int = 50
    ) -> Sequence[Row[Any]]:
        c = t.outbox.c
        stmt = select(t.outbox).order_by(c.id.desc()).limit(limit)
        if organization_id is not None:
            stmt = stmt.where(c.organization_id == organization_id)
        if state is not None:
            stmt = stmt.where(c.state == state)
        return self.conn.execute(stmt).all()
