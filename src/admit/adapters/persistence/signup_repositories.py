"""Repository for self-sign-up: a workspace's sign-up settings, its department links and the
sign-up requests. Every query filters on the organization (and workspace) it is given."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, select, update

from admit.adapters.persistence import tables as t
from admit.adapters.persistence.repositories import Repository

S, L, R = t.signup_settings.c, t.signup_links.c, t.signup_requests.c


class SignUps(Repository):
    # Settings
    def settings(self, workspace_id: str) -> Row[Any] | None:
        return self._one(select(t.signup_settings).where(S.workspace_id == workspace_id))

    def save_settings(self, organization_id: str, workspace_id: str, **values: Any) -> None:
        where = (S.workspace_id == workspace_id, S.organization_id == organization_id)
        if self.conn.execute(update(t.signup_settings).where(*where).values(**values)).rowcount == 0:
            self._insert_row(
                t.signup_settings, {"workspace_id": workspace_id, "organization_id": organization_id, **values}
            )

    def _insert_row(self, table: Any, values: dict[str, Any]) -> None:
        self.conn.execute(table.insert().values(**values))

    # Links
    def add_link(self, **values: Any) -> str:
        return self._insert(t.signup_links, values)

    def link(self, organization_id: str, link_id: str, *, lock: bool = False) -> Row[Any] | None:
        stmt = select(t.signup_links).where(L.id == link_id, L.organization_id == organization_id)
        return self._one(stmt.with_for_update() if lock else stmt)

    def link_by_digest(self, digest: str, *, lock: bool = False) -> Row[Any] | None:
        stmt = select(t.signup_links).where(L.digest == digest)
        return self._one(stmt.with_for_update() if lock else stmt)

    def links(self, organization_id: str, workspace_id: str) -> Sequence[Row[Any]]:
        stmt = select(t.signup_links).where(L.organization_id == organization_id, L.workspace_id == workspace_id)
        return self.conn.execute(stmt.order_by(L.created_at, L.id)).all()

    def update_link(self, organization_id: str, link_id: str, **values: Any) -> None:
        self.conn.execute(
            update(t.signup_links).where(L.id == link_id, L.organization_id == organization_id).values(**values)
        )

    def count_link_use(self, link_id: str) -> bool:
        """One more use, unless the link is used up meanwhile (False)."""
        stmt = (
            update(t.signup_links)
            .where(L.id == link_id, (L.max_uses.is_(None)) | (L.uses < L.max_uses))
            .values(uses=L.uses + 1)
        )
        return bool(self.conn.execute(stmt).rowcount)

    def remove_link(self, organization_id: str, link_id: str) -> None:
        self.conn.execute(delete(t.signup_links).where(L.id == link_id, L.organization_id == organization_id))

    # Requests
    def add_request(self, **values: Any) -> str:
        return self._insert(t.signup_requests, values)

    def request_by_handle(self, handle_digest: str, *, lock: bool = False) -> Row[Any] | None:
        stmt = select(t.signup_requests).where(R.handle_digest == handle_digest)
        return self._one(stmt.with_for_update() if lock else stmt)

    def request(self, organization_id: str, request_id: str, *, lock: bool = False) -> Row[Any] | None:
        stmt = select(t.signup_requests).where(R.id == request_id, R.organization_id == organization_id)
        return self._one(stmt.with_for_update() if lock else stmt)

    def update_request(self, request_id: str, **values: Any) -> None:
        self.conn.execute(update(t.signup_requests).where(R.id == request_id).values(**values))

    def requests(self, organization_id: str, workspace_id: str, state: str) -> Sequence[Row[Any]]:
        stmt = select(t.signup_requests).where(
            R.organization_id == organization_id, R.workspace_id == workspace_id, R.state == state
        )
        return self.conn.execute(stmt.order_by(R.created_at, R.id)).all()

    def count_since(self, workspace_id: str, since: datetime, states: Sequence[str]) -> int:
        stmt = select(func.count()).where(
            R.workspace_id == workspace_id, R.created_at >= since, R.state.in_(list(states))
        )
        return int(self.conn.execute(stmt).scalar_one())
