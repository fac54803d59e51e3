"""Back-off for guessing: a few free attempts, then waits that double, never a permanent lock-out
(a lock-out would let anyone lock anyone else out)."""

from __future__ import annotations

from datetime import datetime, timedelta

from admit.domain.errors import TooManyAttempts as TooManyAttempts

FREE_ATTEMPTS = 5
FIRST_WAIT = timedelta(seconds=2)
LONGEST_WAIT = timedelta(minutes=15)


def wait_after(failures: int) -> timedelta:
    """How long to wait after ``failures`` consecutive failures: 0 for the first few, then 2 s,
    4 s, 8 s … up to 15 minutes."""
    if failures < FREE_ATTEMPTS:
        return timedelta(0)
    wait: timedelta = FIRST_WAIT * 2 ** min(failures - FREE_ATTEMPTS, 20)
    return min(wait, LONGEST_WAIT)


def ensure_allowed(blocked_until: datetime | None, now: datetime) -> None:
    if blocked_until is not None and now < blocked_until:
        raise TooManyAttempts(blocked_until - now)
