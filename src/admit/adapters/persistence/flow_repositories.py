"""The repository of flow states: found by the digest of their handle, updated while live, ended
once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update

from admit.adapters.persistence import tables as t
from admit.adapters.persistence.repositories import Repository


class FlowStates(Repository):
    c = t.flow_states.c

    def add(self, **values: Any) -> str:
        return self._insert(t.flow_states, values)

    def by_digest(self, digest: str, *, lock: bool = False) -> Row[Any] | None:
        stmt = select(t.flow_states).where(self.c.digest == digest)
        return self._one(stmt.with_for_update() if lock else stmt)

    def set_data(self, flow_id: str, data: dict[str, Any]) -> None:
        self.conn.execute(update(t.flow_states).where(self.c.id == flow_id).values(data=data))

    def end(self, flow_id: str, now: datetime) -> bool:
        result = self.conn.execute(
            update(t.flow_states).where(self.c.id == flow_id, self.c.consumed_at.is_(None)).values(consumed_at=now)
        )
        return result.rowcount == 1
