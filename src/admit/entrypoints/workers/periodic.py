"""Periodic work, run once across every process (``admit serve`` and ``admit worker``, as many
of each as you like): invitations whose time ran out are marked expired (lapsed ones already read
as expired, so a late sweep changes nothing anyone sees), the reminders workspaces send before
invitations expire are queued, the OpenID provider's expired codes and token records are deleted,
and so are SCIM request log rows older than 30 days and idempotency keys older than 24 hours.

Each task has a lease (a row of the ``leases`` table): a process that finds the task's lease lapsed
takes it until one period from now, in one atomic statement, and runs the task; every other process
finds it held and skips the task for that period. A process that stops gives its leases up
(:meth:`Periodic.release`), so another one runs the work at its next tick."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from admit.admin import invitations, scim_log
from admit.oidc_provider import housekeeping
from admit.shared import endings, idempotency
from admit.shared.context import Context

log = logging.getLogger("admit.entrypoints.workers")
LEASE_PREFIX = "periodic:"


@dataclass(frozen=True)
class Task:
    name: str
    run: Callable[[Context], int]
    done: str  # logged with the count when it did something


TASKS: tuple[Task, ...] = (
    Task("expire_invitations", endings.expire_due, "expired %d invitation(s)"),
    Task("invitation_reminders", invitations.remind_due, "queued %d invitation reminder(s)"),
    Task("oidc_housekeeping", housekeeping.sweep, "deleted %d expired OpenID record(s)"),
    Task("scim_log_retention", scim_log.prune, "deleted %d old SCIM request log row(s)"),
    Task("idempotency_keys", idempotency.expire, "deleted %d expired idempotency key(s)"),
)


def holder_name() -> str:
    """This process, as lease rows name it (host, pid and a random part: pids are reused)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


class Periodic:
    def __init__(
        self, context: Context, every: float, *, tasks: Sequence[Task] = TASKS, holder: str | None = None
    ) -> None:
        self.context = context
        self.every = every
        self.tasks = tuple(tasks)
        self.holder = holder or holder_name()

    def run_due(self) -> list[str]:
        """Run each task whose lease this process takes now; the names of those that ran."""
        ran: list[str] = []
        for task in self.tasks:
            try:
                if not self._take(task):
                    continue
                count = task.run(self.context)
            except Exception:
                log.exception("periodic task %s failed; will try again", task.name)
                continue
            ran.append(task.name)
            if count:
                log.info(task.done, count)
        return ran

    def _take(self, task: Task) -> bool:
        now = self.context.clock.now()
        with self.context.uow(write=True) as uow:
            taken = uow.leases.take(LEASE_PREFIX + task.name, self.holder, now, now + timedelta(seconds=self.every))
            uow.commit()
        return taken

    def release(self) -> None:
        """Give up every lease this process holds (on shutdown)."""
        with self.context.uow(write=True) as uow:
            for task in self.tasks:
                uow.leases.release(LEASE_PREFIX + task.name, self.holder)
            uow.commit()

    def run_forever(self, stop: threading.Event) -> None:
        """Tick every period until ``stop`` is set, then release the leases."""
        try:
            while not stop.is_set():
                self.run_due()
                stop.wait(self.every)
        finally:
            try:
                self.release()
            except Exception:
                log.exception("releasing the periodic leases failed; they lapse by themselves")


async def run_periodic(periodic: Periodic) -> None:
    """:meth:`Periodic.run_forever` on an event loop (``admit serve``): cancel it to stop."""
    import asyncio

    try:
        while True:
            await asyncio.to_thread(periodic.run_due)
            await asyncio.sleep(periodic.every)
    finally:
        try:
            await asyncio.shield(asyncio.to_thread(periodic.release))
        except Exception:
            log.exception("releasing the periodic leases failed; they lapse by themselves")


async def expire_forever(context: Context, every: float) -> None:
    """Every periodic task of this process, once per period across all processes."""
    await run_periodic(Periodic(context, every))
