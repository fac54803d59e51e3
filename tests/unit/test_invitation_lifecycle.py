"""The invitation lifecycle: end states are final, lapsed invitations read as expired."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from support.clock import FixedClock

from admit.domain.errors import InvalidTransition, ValidationFailed
from admit.domain.invitations import (
    ALLOWED,
    DEFAULT_LIFETIME_DAYS,
    InvitationState,
    current_state,
    ensure_resendable,
    lifetime,
    transition,
)

S = InvitationState
END_STATES = [S.ACCEPTED, S.DECLINED, S.EXPIRED, S.REVOKED]
EXPECTED_ALLOWED = {(S.PENDING, S.ACCEPTED), (S.PENDING, S.DECLINED), (S.PENDING, S.EXPIRED), (S.PENDING, S.REVOKED)}
ALL_PAIRS = list(itertools.product(InvitationState, repeat=2))
REFUSED = [pair for pair in ALL_PAIRS if pair not in EXPECTED_ALLOWED]


def _params(pairs: list[tuple[InvitationState, InvitationState]]) -> list[object]:
    return [pytest.param(source, target, id=f"{source.value}->{target.value}") for source, target in pairs]


@pytest.fixture
def now() -> datetime:
    return FixedClock().now()


@pytest.fixture
def live_until(now: datetime) -> datetime:
    """An expiry a week after ``now``: the invitation is still live."""
    return now + timedelta(days=7)


def test_allowed_invitation_transitions_are_exactly_the_documented_set() -> None:
    declared = {(source, target) for source, targets in ALLOWED.items() for target in targets}
    assert declared == EXPECTED_ALLOWED
    assert set(ALLOWED) == set(InvitationState)


def test_every_pair_of_invitation_states_is_accepted_or_refused_by_transition(
    now: datetime, live_until: datetime
) -> None:
    accepted = set()
    for source, target in ALL_PAIRS:
        try:
            transition(source, live_until, now, target)
        except InvalidTransition:
            continue
        accepted.add((source, target))
    assert accepted == EXPECTED_ALLOWED


@pytest.mark.parametrize(("source", "target"), _params(sorted(EXPECTED_ALLOWED)))
def test_live_pending_invitation_can_end_in_any_end_state(
    source: InvitationState, target: InvitationState, now: datetime, live_until: datetime
) -> None:
    assert transition(source, live_until, now, target) is target


@pytest.mark.parametrize(("source", "target"), _params(REFUSED))
def test_refused_invitation_transition_raises_invalid_transition(
    source: InvitationState, target: InvitationState, now: datetime, live_until: datetime
) -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition(source, live_until, now, target)
    assert caught.value.code == f"invitation_{source.value}"


@pytest.mark.parametrize("end", END_STATES, ids=str)
@pytest.mark.parametrize("target", list(InvitationState), ids=str)
def test_invitation_end_state_refuses_every_move_even_after_expiry(
    end: InvitationState, target: InvitationState, now: datetime
) -> None:
    lapsed = now - timedelta(days=1)
    with pytest.raises(InvalidTransition) as caught:
        transition(end, lapsed, now, target)
    assert caught.value.code == f"invitation_{end.value}"


def test_pending_invitation_past_expiry_reads_as_expired(now: datetime) -> None:
    clock = FixedClock(now)
    expires_at = clock.now() + timedelta(days=7)
    assert current_state(S.PENDING, expires_at, clock.now()) is S.PENDING
    clock.advance(days=8)
    assert current_state(S.PENDING, expires_at, clock.now()) is S.EXPIRED
    assert current_state("pending", expires_at, clock.now()) is S.EXPIRED


@pytest.mark.parametrize("end", END_STATES, ids=str)
def test_invitation_end_state_reads_as_itself_after_expiry(end: InvitationState, now: datetime) -> None:
    assert current_state(end, now - timedelta(days=1), now) is end


@pytest.mark.parametrize("target", [S.ACCEPTED, S.DECLINED, S.REVOKED, S.PENDING], ids=str)
def test_expired_invitation_cannot_be_accepted_declined_or_revoked(target: InvitationState, now: datetime) -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition(S.PENDING, now - timedelta(seconds=1), now, target)
    assert caught.value.code == "invitation_expired"


def test_lapsed_pending_invitation_can_become_expired(now: datetime) -> None:
    assert transition(S.PENDING, now - timedelta(days=1), now, S.EXPIRED) is S.EXPIRED


def test_invitation_is_expired_exactly_at_its_expiry(now: datetime) -> None:
    clock = FixedClock(now)
    expires_at = clock.now() + timedelta(days=1)
    clock.advance(days=1)
    assert clock.now() == expires_at
    assert current_state(S.PENDING, expires_at, clock.now()) is S.EXPIRED
    with pytest.raises(InvalidTransition) as caught:
        transition(S.PENDING, expires_at, clock.now(), S.ACCEPTED)
    assert caught.value.code == "invitation_expired"


def test_invitation_is_pending_one_microsecond_before_expiry(now: datetime) -> None:
    clock = FixedClock(now)
    expires_at = clock.now() + timedelta(days=1)
    clock.advance(days=1, microseconds=-1)
    assert current_state(S.PENDING, expires_at, clock.now()) is S.PENDING
    assert transition(S.PENDING, expires_at, clock.now(), S.ACCEPTED) is S.ACCEPTED


def test_live_pending_invitation_is_resendable(now: datetime, live_until: datetime) -> None:
    ensure_resendable(S.PENDING, live_until, now)
    ensure_resendable("pending", live_until, now)


def test_lapsed_pending_invitation_cannot_be_resent(now: datetime) -> None:
    with pytest.raises(InvalidTransition) as caught:
        ensure_resendable(S.PENDING, now, now)
    assert caught.value.code == "invitation_expired"


@pytest.mark.parametrize("end", END_STATES, ids=str)
def test_ended_invitation_cannot_be_resent(end: InvitationState, now: datetime, live_until: datetime) -> None:
    with pytest.raises(InvalidTransition) as caught:
        ensure_resendable(end, live_until, now)
    assert caught.value.code == f"invitation_{end.value}"


@pytest.mark.parametrize("days", [1, 7, 30])
def test_invitation_lifetime_accepts_one_to_thirty_days(days: int) -> None:
    assert lifetime(days) == timedelta(days=days)


@pytest.mark.parametrize("days", [-1, 0, 31, 365])
def test_invitation_lifetime_outside_one_to_thirty_days_is_refused(days: int) -> None:
    with pytest.raises(ValidationFailed) as caught:
        lifetime(days)
    assert caught.value.field == "invitation_lifetime_days"
    assert caught.value.code == "validation_failed"


def test_default_invitation_lifetime_is_seven_days() -> None:
    assert DEFAULT_LIFETIME_DAYS == 7
    assert lifetime(DEFAULT_LIFETIME_DAYS) == timedelta(days=7)
