"""The outbox message lifecycle: what happens to a message after each delivery attempt.

``queued → sending → sent``, or ``→ failed`` (retried later with exponential backoff and jitter)
``→ abandoned`` (after the last attempt, or at once for a permanent refusal). A message held back
by a workspace's daily SMS limit goes back to ``queued`` for the next day without spending an
attempt. ``failed`` and ``abandoned`` messages can be queued again by an administrator.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum

from admit.domain.errors import InvalidTransition

MAX_BACKOFF = timedelta(hours=6)


class MessageState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    ABANDONED = "abandoned"


RETRYABLE = (MessageState.FAILED, MessageState.ABANDONED)  # an administrator may queue them again


def after_failure(attempts: int, max_attempts: int, *, permanent: bool) -> MessageState:
    """A failed attempt leaves the message ``failed`` (to be retried) or, after the last attempt
    or a permanent refusal, ``abandoned``."""
    return MessageState.ABANDONED if permanent or attempts >= max_attempts else MessageState.FAILED


def retry_delay(base_seconds: float, attempts: int, jitter: float) -> timedelta:
    """Exponential backoff: base·2^(attempts-1), capped at ``MAX_BACKOFF``, scaled by a jitter
    between half and all of it (``jitter`` is a random number in [0, 1))."""
    delay = min(timedelta(seconds=base_seconds * 2 ** (attempts - 1)), MAX_BACKOFF)
    return delay * (0.5 + jitter / 2)


def next_sms_day(now: datetime) -> datetime:
    """When a message held back by the daily SMS limit is due again: the next midnight (UTC)."""
    return datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=now.tzinfo)


def ensure_retryable(state: str) -> None:
    if state not in RETRYABLE:
        raise InvalidTransition(
            f"only failed or abandoned messages can be retried; this one is {state}", code="not_retryable"
        )
