"""Background jobs: long work (imports, "Invite All", invitations from a list) runs in chunks,
each chunk in its own transaction together with the job's progress, so a crash loses nothing
and a resumed job continues where the last commit left it — never twice. Any process may run
jobs (``admit serve`` and ``admit worker`` do); a cancel request is honoured between chunks."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from admit.adapters.persistence.database import STORAGE_FULL, UNAVAILABLE, outage
from admit.adapters.spreadsheets import Table, read_table
from admit.adapters.spreadsheets.errors import ImportFileError
from admit.domain.errors import NotFound
from admit.domain.events import event_type
from admit.domain.ports import UnitOfWork
from admit.domain.records import Job, Workspace
from admit.domain.roles import Permission, Role
from admit.shared.access import tenant_scope, workspace_for
from admit.shared.context import REQUEST_ID, Actor, ActorKind, Context, record

log = logging.getLogger("admit.jobs")
LEASE = timedelta(minutes=5)
STORAGE_FULL_REASON = (
    "the database or its disk is full: the chunk at hand was not written (what was committed before stays); "
    "make space, then run the job again for the rest"
)
REPORT_LIMIT = 10_000  # problems kept per job (the counts are always complete)


class Cancelled(Exception):
    """The job was asked to stop; what was committed before stays."""


@dataclass
class Progress:
    """What a job has done so far; saved with every chunk."""

    position: int
    counts: dict[str, int]
    report: list[dict[str, Any]] = field(default_factory=list)
    cursor: str | None = None  # where a job over a changing set of rows goes on from
    lease: timedelta = LEASE  # renewed with every chunk (ADMIT_JOB_LEASE_SECONDS)

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def note(self, row: int | None, reason: str, *, kind: str = "error", column: str | None = None) -> None:
        self.count(kind)
        if len(self.report) < REPORT_LIMIT:
            self.report.append({"row": row, "column": column, "reason": reason, "kind": kind})


Handler = Callable[[Context, Job, Progress], None]
HANDLERS: dict[str, Handler] = {}


def _load_handlers() -> None:
    """The modules that register job kinds (imported here: they import this module)."""


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        return function

    return register


def actor_record(actor: Actor, role: Role) -> dict[str, Any]:
    """The actor a job acts as, kept on the job (with the role it had when it asked)."""
    return {
        "kind": actor.kind.value,
        "id": actor.id,
        "organization_id": actor.organization_id,
        "workspace_id": actor.workspace_id,
        "role": role.value,
        "name": actor.name,
        "request_id": REQUEST_ID.get(),  # the request that queued the job (operators trace it in logs)
    }


def upload_of(job: Job) -> bytes:
    """The file a claimed job works through (listings and lookups leave it out)."""
    if job.upload is None:
        raise ValueError(f"job {job.id} was read without its file")
    return job.upload


def actor_of(job: Job) -> tuple[Actor, Role]:
    data = job.actor
    role = Role(data["role"])
    kind = ActorKind(data["kind"])
    return (
        Actor(
            kind,
            id=data["id"],
            organization_id=data["organization_id"],
            workspace_id=data["workspace_id"],
            role=role if kind is ActorKind.API_TOKEN else None,
            name=data["name"] or "",
        ),
        role,
    )


def create(
    uow: UnitOfWork,
    actor: Actor,
    role: Role,
    workspace: Workspace,
    kind: str,
    *,
    options: dict[str, Any],
    total: int,
    now: Any,
    upload: bytes | None = None,
    filename: str | None = None,
) -> Job:
    """Queue a job in the caller's transaction; the record returned leaves the file out."""
    values: dict[str, Any] = {
        "organization_id": workspace.organization_id,
        "workspace_id": workspace.id,
        "kind": kind,
        "state": "queued",
        "options": options,
        "filename": filename,
        "upload": upload,
        "total": total,
        "position": 0,
        "counts": {},
        "report": [],
        "error": None,
        "cancel_requested": False,
        "created_by": actor.name or actor.kind.value,
        "actor": actor_record(actor, role),
        "created_at": now,
        "updated_at": now,
        "locked_until": None,
    }
    job = Job(id=uow.jobs.add(**values), **values)
    scope = {"organization_id": workspace.organization_id, "workspace_id": workspace.id}
    facts = {k: v for k, v in options.items() if k != "message"}
    record(uow, actor, event_type(f"job.{kind}.queued"), "job", job.id, now, **scope, total=total, **facts)
    return job._replace(upload=None)


def queue_file(
    ctx: Context,
    actor: Actor,
    workspace_id: str,
    permission: Permission,
    kind: str,
    data: bytes,
    filename: str,
    options: Callable[[Table], dict[str, Any]],
) -> JobView:
    """Queue a job over an uploaded file: who may do it is checked first, then the file is read
    (refused at once when unreadable); ``options`` says what the job needs to know of it."""
    with ctx.uow() as uow:
        workspace_for(uow, actor, workspace_id, permission)
    table = read_table(data, filename)
    if not table.rows:
        raise ImportFileError(
            "the file has a header row but no people under it: add one row per person", table.header_row, code="no_rows"
        )
    chosen = options(table)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        workspace, role = workspace_for(uow, actor, workspace_id, permission)
        job = create(
            uow,
            actor,
            role,
            workspace,
            kind,
            options=chosen,
            total=len(table),
            now=now,
            upload=data,
            filename=filename[:200],
        )
        uow.commit()
    return view(job)


@dataclass(frozen=True, slots=True)
class JobView:
    """A job as the administrator sees it (the API's ``JobOut``): its progress in ``percent``; the
    file and the actor it runs as stay in storage."""

    id: str
    organization_id: str
    workspace_id: str
    kind: str
    state: str
    options: dict[str, Any]
    filename: str | None
    total: int
    position: int
    percent: int
    counts: dict[str, int]
    report: list[dict[str, Any]]
    error: str | None
    cancel_requested: bool
    created_by: str
    created_at: datetime
    updated_at: datetime


def view(job: Job) -> JobView:
    return JobView(
        id=job.id,
        organization_id=job.organization_id,
        workspace_id=job.workspace_id,
        kind=job.kind,
        state=job.state,
        options=job.options,
        filename=job.filename,
        total=job.total,
        position=job.position,
        percent=100 if job.state == "done" else int(100 * job.position / job.total) if job.total else 0,
        counts=job.counts,
        report=job.report,
        error=job.error,
        cancel_requested=job.cancel_requested,
        created_by=job.created_by,
        created_at=job.created_at,
        updated_at=job.updated_at,
    )


def _load(uow: UnitOfWork, actor: Actor, job_id: str, workspace_id: str | None) -> Job:
    """The job (in ``workspace_id`` when a door names one), if the actor may manage its people."""
    job = uow.jobs.get(tenant_scope(actor), job_id)
    if job is None or (workspace_id is not None and job.workspace_id != workspace_id):
        raise NotFound("job not found")
    workspace_for(uow, actor, job.workspace_id, Permission.MANAGE_PEOPLE)
    return job


def get(ctx: Context, actor: Actor, job_id: str, *, workspace_id: str | None = None) -> JobView:
    with ctx.uow() as uow:
        job = _load(uow, actor, job_id, workspace_id)
    return view(job)


def list_jobs(ctx: Context, actor: Actor, workspace_id: str) -> list[JobView]:
    with ctx.uow() as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_PEOPLE)
        return [view(job) for job in uow.jobs.list(workspace.organization_id, workspace.id)]


def cancel(ctx: Context, actor: Actor, job_id: str, *, workspace_id: str | None = None) -> JobView:
    """Ask a queued or running job to stop after its current chunk."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        job = _load(uow, actor, job_id, workspace_id)
        if uow.jobs.request_cancel(job.organization_id, job.id, now) and job.state == "queued":
            uow.jobs.update(job.id, state="cancelled", updated_at=now)
        uow.commit()
    return get(ctx, actor, job_id)


def run_next(
    ctx: Context, job_id: str | None = None, *, lease: timedelta = LEASE, wait: Callable[[float], bool] | None = None
) -> str | None:
    """Claim one job (the oldest due, or ``job_id``) and run it to its end; returns its id.

    If the database goes away while it runs (a restart, a dropped connection), the job is not
    failed: the chunk at hand was rolled back, the job stays ``running`` and is given back (its
    lease cleared) as soon as the database answers again, so this or another runner resumes it
    from its last committed chunk; if even that cannot be done, the lease lapses. ``wait(seconds)``
    sleeps between those tries and returns True when the runner is asked to stop."""
    _load_handlers()
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        job = uow.jobs.claim(now, now + lease, job_id)
        uow.commit()
    if job is None:
        return None
    progress = Progress(job.position, dict(job.counts), list(job.report), job.options.get("cursor"), lease)
    try:
        HANDLERS[job.kind](ctx, job, progress)
    except Cancelled:
        _finish(ctx, job, "cancelled", progress)
    except Exception as exc:
        if outage(exc) == UNAVAILABLE:
            log.warning(
                "job %s (%s) paused: the database is unavailable; it resumes from its last chunk", job.id, job.kind
            )
            _give_back(ctx, job, lease, wait)
            return str(job.id)
        log.exception("job %s (%s) failed", job.id, job.kind)
        _finish(ctx, job, "failed", progress, error=_reason(exc))
    else:
        _finish(ctx, job, "done", progress)
    return str(job.id)


def _give_back(ctx: Context, job: Job, lease: timedelta, wait: Callable[[float], bool] | None) -> None:
    """Clear the lease of a job interrupted by an outage once the database answers (for at most
    one lease: past that it has lapsed anyway)."""
    deadline = ctx.clock.now() + lease
    while True:
        try:
            with ctx.uow(write=True) as uow:
                uow.jobs.update(job.id, locked_until=None)
                uow.commit()
            return
        except Exception:  # the database is still away, or a pooled connection died with it: again
            if ctx.clock.now() >= deadline or wait is None or wait(1.0):
                return


def _reason(exc: Exception) -> str:
    if outage(exc) == STORAGE_FULL:
        return STORAGE_FULL_REASON
    message = getattr(exc, "message", None)
    return str(message) if message else f"internal error ({type(exc).__name__}); see the server log"


@contextmanager
def chunk(ctx: Context, job: Job, progress: Progress, *, bulk: bool = True) -> Iterator[UnitOfWork]:
    """One chunk of a job: a transaction that first checks the cancel flag and finally saves the
    progress with the work itself."""
    with ctx.uow(write=True, bulk=bulk) as uow:
        current = uow.jobs.lock(job.id)
        if current is None or current.cancel_requested:
            raise Cancelled
        yield uow
        now = ctx.clock.now()
        uow.jobs.update(
            job.id,
            position=progress.position,
            counts=progress.counts,
            report=progress.report,
            options={**current.options, "cursor": progress.cursor},
            locked_until=now + progress.lease,
            updated_at=now,
        )
        uow.commit()


def _finish(ctx: Context, job: Job, state: str, progress: Progress, error: str | None = None) -> None:
    now = ctx.clock.now()
    actor, _ = actor_of(job)
    with ctx.uow(write=True) as uow:
        uow.jobs.update(
            job.id,
            state=state,
            error=error,
            counts=progress.counts,
            report=progress.report,
            locked_until=None,
            updated_at=now,
        )
        record(
            uow,
            actor,
            event_type(f"job.{job.kind}.{state}"),
            "job",
            job.id,
            now,
            organization_id=job.organization_id,
            workspace_id=job.workspace_id,
            position=progress.position,
            **progress.counts,
        )
        uow.commit()
