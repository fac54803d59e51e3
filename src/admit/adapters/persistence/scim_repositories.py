"""Repositories for SCIM provisioning: the bearer tokens identity providers hold, and the log of
the requests they made. A token is looked up by its digest alone (what the caller holds and cannot
guess); everything else is filtered by its organization."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, or_, select, update

from admit.adapters.persistence import tables as t
from admit.adapters.persistence.repositories import DriverQuery, Repository


class ScimTokens(Repository):
    c = t.scim_tokens.c

    def add(self, **values: Any) -> str:
        return self._insert(t.scim_tokens, values)

    def get(self, organization_id: str, token_id: str) -> Row[Any] | None:
        if len(token_id) > 32 or "\x00" in token_id:
            return None
        return self._one(select(t.scim_tokens).where(self.c.id == token_id, self.c.organization_id == organization_id))

    _by_digest = DriverQuery(select(t.scim_tokens).where(t.scim_tokens.c.digest == bindparam("digest")))

    def by_digest(self, digest: str) -> Row[Any] | None:
        return self._by_digest.first(self.conn, {"digest": digest})  # type: ignore[no-any-return]

    def list(self, organization_id: str) -> Sequence[Row[Any]]:
        """The organization's tokens, the newest first."""
        stmt = (
            select(t.scim_tokens)
            .where(self.c.organization_id == organization_id)
            .order_by(self.c.created_at.desc(), self.c.id.desc())
        )
        return self.conn.execute(stmt).all()

    def revoke(self, organization_id: str, token_id: str, now: datetime) -> bool:
        done = self.conn.execute(
            update(t.scim_tokens)
            .where(self.c.id == token_id, self.c.organization_id == organization_id, self.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(done.rowcount)

    def touch(self, token_id: str, now: datetime, before: datetime) -> None:
        """Mark the token used at ``now`` unless that was already done after ``before``."""
        self.conn.execute(
            update(t.scim_tokens)
            .where(self.c.id == token_id, (self.c.last_used_at.is_(None)) | (self.c.last_used_at <= before))
            .values(last_used_at=now)
        )


class ScimRequests(Repository):
    c = t.scim_requests.c

    def add(self, **values: Any) -> str:
        return self._insert(t.scim_requests, values)

    def list(
        self,
        organization_id: str,
        token_id: str,
        *,
        before: tuple[datetime, str] | None = None,
        limit: int = 50,
    ) -> Sequence[Row[Any]]:
        """The token's requests, the newest first; ``before``: after this (time, id) in that order."""
        stmt = select(t.scim_requests).where(self.c.organization_id == organization_id, self.c.token_id == token_id)
        if before is not None:
            at, row_id = before
            stmt = stmt.where(or_(self.c.created_at < at, and_(self.c.created_at == at, self.c.id < row_id)))
        stmt = stmt.order_by(self.c.created_at.desc(), self.c.id.desc()).limit(limit)
        return self.conn.execute(stmt).all()

    def remove_older_than(self, before: datetime) -> int:
        done = self.conn.execute(delete(t.scim_requests).where(self.c.created_at < before))
        return int(done.rowcount or 0)
