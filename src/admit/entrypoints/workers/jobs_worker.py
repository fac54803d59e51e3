"""The background-job loop: claim the next job's chunk, run it, repeat until told to stop (a thread of
``admit serve`` or ``admit worker``; any number of them may run against one database)."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from admit.adapters.persistence.database import outage
from admit.admin.jobs import LEASE, run_next
from admit.shared.context import Context

log = logging.getLogger("admit.jobs")


def run_forever(ctx: Context, stop: threading.Event, idle: float = 1.0, lease: timedelta = LEASE) -> None:
    """Run jobs as they come until ``stop`` is set (a thread of ``admit serve`` or ``admit worker``)."""
    while not stop.is_set():
        try:
            ran = run_next(ctx, lease=lease, wait=stop.wait)
        except Exception as exc:  # the database may be briefly unavailable; try again later
            if outage(exc):
                log.warning("job runner: the database is unavailable (%s); trying again", type(exc).__name__)
            else:
                log.exception("job runner: could not claim a job")
            ran = None
        if ran is None:
            stop.wait(idle)
