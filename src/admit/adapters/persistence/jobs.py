"""Background jobs (imports, "Invite All", invitations from a list): a row per job that any
process may claim, with its progress committed together with the work it describes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import null, or_, select, update

from admit.adapters.persistence import tables as t
from admit.adapters.persistence.repositories import Repository
from admit.domain.records import Job

RUNNABLE = ("queued", "running")


class Jobs(Repository):
    c = t.jobs.c
    # every column in order, the file left out (read only by the runner that claims the job)
    _summary = tuple(null().label("upload") if col.name == "upload" else col for col in t.jobs.c)

    def add(self, **values: Any) -> str:
        return self._insert(t.jobs, values)

    def _job(self, stmt: Any) -> Job | None:
        row = self.conn.execute(stmt).first()
        return None if row is None else Job._make(row)

    def get(self, organization_id: str | None, job_id: str, *, upload: bool = False) -> Job | None:
        stmt = select(t.jobs) if upload else select(*self._summary)
        stmt = stmt.where(self.c.id == job_id)
        if organization_id is not None:
            stmt = stmt.where(self.c.organization_id == organization_id)
        return self._job(stmt)

    def list(self, organization_id: str, workspace_id: str, limit: int = 20) -> Sequence[Job]:
        rows = self.conn.execute(
            select(*self._summary)
            .where(self.c.organization_id == organization_id, self.c.workspace_id == workspace_id)
            .order_by(self.c.created_at.desc(), self.c.id.desc())
            .limit(limit)
        )
        return [Job._make(row) for row in rows]

    def claim(self, now: datetime, lease_until: datetime, job_id: str | None = None) -> Job | None:
        """Take one runnable job nobody holds (a crashed runner's lease has lapsed): the oldest,
        or ``job_id``. Skips rows another process has locked (PostgreSQL)."""
        stmt = (
            select(self.c.id)
            .where(
                self.c.state.in_(RUNNABLE),
                or_(self.c.locked_until.is_(None), self.c.locked_until < now),
            )
            .order_by(self.c.created_at, self.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if job_id is not None:
            stmt = stmt.where(self.c.id == job_id)
        found = self.conn.execute(stmt).scalar()
        if found is None:
            return None
        self.conn.execute(
            update(t.jobs).where(self.c.id == found).values(state="running", locked_until=lease_until, updated_at=now)
        )
        return self.get(None, found, upload=True)

    def lock(self, job_id: str) -> Job | None:
        """The job's row, locked for the chunk about to be committed (it carries the cancel flag)."""
        return self._job(select(*self._summary).where(self.c.id == job_id).with_for_update())

    def update(self, job_id: str, **values: Any) -> None:
        self.conn.execute(update(t.jobs).where(self.c.id == job_id).values(**values))

    def request_cancel(self, organization_id: str | None, job_id: str, now: datetime) -> bool:
        stmt = update(t.jobs).where(self.c.id == job_id, self.c.state.in_(RUNNABLE))
        if organization_id is not None:
            stmt = stmt.where(self.c.organization_id == organization_id)
        return self.conn.execute(stmt.values(cancel_requested=True, updated_at=now)).rowcount == 1
