"""Back-off without lock-out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.clock import FixedClock

from admit.domain.throttling import FREE_ATTEMPTS, LONGEST_WAIT, TooManyAttempts, ensure_allowed, wait_after


def test_the_first_failures_cost_nothing_then_waits_double_up_to_a_ceiling() -> None:
    assert [wait_after(n) for n in range(FREE_ATTEMPTS)] == [timedelta(0)] * FREE_ATTEMPTS
    assert [wait_after(FREE_ATTEMPTS + n).total_seconds() for n in range(4)] == [2, 4, 8, 16]
    assert wait_after(10_000) == LONGEST_WAIT


def test_a_block_ends_by_itself() -> None:
    clock = FixedClock()
    until = clock.now() + timedelta(seconds=8)
    with pytest.raises(TooManyAttempts) as refused:
        ensure_allowed(until, clock.now())
    assert refused.value.retry_after == 8 and refused.value.code == "too_many_attempts"
    clock.advance(seconds=8)
    ensure_allowed(until, clock.now())
    ensure_allowed(None, clock.now())
