"""The repository of access codes: found by their public lookup key while live, ended once
(redeemed or withdrawn) by a conditional update, so two redemptions race to one winner."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update

from admit.adapters.persistence import tables as t
from admit.adapters.persistence.repositories import Repository

_LIVE = (t.access_codes.c.redeemed_at.is_(None), t.access_codes.c.withdrawn_at.is_(None))


class AccessCodes(Repository):
    c = t.access_codes.c

    def add(self, **values: Any) -> str:
        return self._insert(t.access_codes, values)

    def live_by_lookup(self, lookup: str, *, lock: bool = False) -> Row[Any] | None:
        stmt = select(t.access_codes).where(self.c.lookup == lookup, *_LIVE)
        return self._one(stmt.with_for_update() if lock else stmt)

    def by_digest(self, digest: str) -> Row[Any] | None:
        return self._one(select(t.access_codes).where(self.c.digest == digest))

    def live_for_member(self, organization_id: str, member_id: str, *, lock: bool = False) -> Row[Any] | None:
        stmt = select(t.access_codes).where(
            self.c.organization_id == organization_id, self.c.member_id == member_id, *_LIVE
        )
        return self._one(stmt.with_for_update() if lock else stmt)

    def latest_for_member(self, organization_id: str, member_id: str) -> Row[Any] | None:
        stmt = (
            select(t.access_codes)
            .where(self.c.organization_id == organization_id, self.c.member_id == member_id)
            .order_by(self.c.created_at.desc(), self.c.id.desc())
            .limit(1)
        )
        return self._one(stmt)

    def end(self, code_id: str, now: datetime, *, redeemed: bool, reason: str | None = None) -> bool:
        """Redeem or withdraw a live code; False when it was no longer live."""
        values = {"redeemed_at": now} if redeemed else {"withdrawn_at": now, "withdrawn_reason": reason}
        result = self.conn.execute(update(t.access_codes).where(self.c.id == code_id, *_LIVE).values(**values))
        return result.rowcount == 1

    def add_failure(self, code_id: str) -> int:
        """Count one wrong secret against a code (atomically); returns the failures so far."""
        self.conn.execute(update(t.access_codes).where(self.c.id == code_id).values(failures=self.c.failures + 1))
        row = self._one(select(self.c.failures).where(self.c.id == code_id))
        return 0 if row is None else int(row.failures)
