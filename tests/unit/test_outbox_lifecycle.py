"""The outbox message lifecycle, without a database: what each attempt's outcome does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from admit.domain.errors import Conflict
from admit.domain.outbox import MAX_BACKOFF, MessageState, after_failure, ensure_retryable, next_sms_day, retry_delay


def test_a_failure_is_retried_until_the_last_attempt_or_a_permanent_refusal() -> None:
    assert after_failure(1, 8, permanent=False) is MessageState.FAILED
    assert after_failure(7, 8, permanent=False) is MessageState.FAILED
    assert after_failure(8, 8, permanent=False) is MessageState.ABANDONED
    assert after_failure(1, 8, permanent=True) is MessageState.ABANDONED


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    assert retry_delay(30, 1, 0.0) == timedelta(seconds=15)
    assert retry_delay(30, 1, 0.999999) < timedelta(seconds=30)
    assert retry_delay(30, 3, 0.0) == timedelta(seconds=60)
    assert retry_delay(30, 30, 0.999999) <= MAX_BACKOFF


def test_a_message_held_by_the_sms_limit_waits_for_the_next_day() -> None:
    now = datetime(2026, 11, 25, 23, 59, tzinfo=UTC)
    assert next_sms_day(now) == datetime(2026, 11, 26, tzinfo=UTC)


@pytest.mark.parametrize("state", ["failed", "abandoned"])
def test_failed_and_abandoned_messages_may_be_queued_again(state: str) -> None:
    ensure_retryable(state)


@pytest.mark.parametrize("state", ["queued", "sending", "sent"])
def test_other_messages_may_not_be_queued_again(state: str) -> None:
    with pytest.raises(Conflict) as refused:
        ensure_retryable(state)
    assert refused.value.code == "not_retryable"
