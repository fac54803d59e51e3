"""The background-job loop: claim the next job's chunk, run it, repeat until told to stop (a thread of
``admit serve`` or ``admit worker``; any number of them may run against one database)."""

from __future__ import annotations

import logging
import threading

from admit.admin.jobs import run_next
from admit.shared.context import Context

log = logging.getLogger("admit.jobs")


def run_forever(ctx: Context, stop: threading.Event, idle: float = 1.0) -> None:
    """Run jobs as they come until ``stop`` is set (a thread of ``admit serve`` or ``admit worker``)."""
    while not stop.is_set():
        try:
            ran = run_next(ctx)
        except Exception:  # the database may be briefly unavailable; try again later
            log.exception("job runner: could not claim a job")
            ran = None
        if ran is None:
            stop.wait(idle)
