"""The member lifecycle: which status changes are allowed, and who can be claimed."""

from __future__ import annotations

import itertools

import pytest

from admit.domain.errors import Conflict, InvalidTransition
from admit.domain.members import ALLOWED, MemberStatus, ensure_claimable, reactivated_status, transition

S = MemberStatus

EXPECTED_ALLOWED = {
    (S.PROVISIONED, S.INVITED),
    (S.PROVISIONED, S.SUSPENDED),  # an identity provider's active: false, before any invitation
    (S.PROVISIONED, S.REMOVED),
    (S.INVITED, S.ACTIVE),
    (S.INVITED, S.PROVISIONED),
    (S.INVITED, S.SUSPENDED),
    (S.INVITED, S.REMOVED),
    (S.ACTIVE, S.SUSPENDED),
    (S.ACTIVE, S.REMOVED),
    (S.SUSPENDED, S.ACTIVE),
    (S.SUSPENDED, S.PROVISIONED),  # reactivated without an account: awaiting invitation again
    (S.SUSPENDED, S.REMOVED),
}
ALL_PAIRS = list(itertools.product(MemberStatus, repeat=2))
REFUSED = [pair for pair in ALL_PAIRS if pair not in EXPECTED_ALLOWED]


def _params(pairs: list[tuple[MemberStatus, MemberStatus]]) -> list[object]:
    return [pytest.param(source, target, id=f"{source.value}->{target.value}") for source, target in pairs]


def test_allowed_member_transitions_are_exactly_the_documented_set() -> None:
    declared = {(source, target) for source, targets in ALLOWED.items() for target in targets}
    assert declared == EXPECTED_ALLOWED
    assert set(ALLOWED) == set(MemberStatus)


def test_every_pair_of_member_statuses_is_accepted_or_refused_by_transition() -> None:
    """The behaviour of ``transition`` (not only the table) matches the documented set exactly."""
    accepted = set()
    for source, target in ALL_PAIRS:
        try:
            transition(source, target)
        except InvalidTransition:
            continue
        accepted.add((source, target))
    assert accepted == EXPECTED_ALLOWED


@pytest.mark.parametrize(("source", "target"), _params(sorted(EXPECTED_ALLOWED)))
def test_allowed_member_transition_returns_the_target(source: MemberStatus, target: MemberStatus) -> None:
    assert transition(source, target) is target


@pytest.mark.parametrize(("source", "target"), _params(REFUSED))
def test_refused_member_transition_raises_invalid_transition(source: MemberStatus, target: MemberStatus) -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition(source, target)
    assert caught.value.code == "invalid_transition"
    assert caught.value.field == "status"


def test_member_transition_accepts_the_status_as_a_plain_string() -> None:
    assert transition("invited", S.ACTIVE) is S.ACTIVE
    with pytest.raises(InvalidTransition):
        transition("removed", S.ACTIVE)


def test_removed_member_is_final() -> None:
    for target in MemberStatus:
        with pytest.raises(InvalidTransition):
            transition(S.REMOVED, target)


def test_only_an_invited_member_is_claimable() -> None:
    ensure_claimable(S.INVITED)
    ensure_claimable("invited")


@pytest.mark.parametrize("status", [s for s in MemberStatus if s is not S.INVITED], ids=str)
def test_member_not_invited_cannot_be_claimed(status: MemberStatus) -> None:
    with pytest.raises(Conflict) as caught:
        ensure_claimable(status)
    assert caught.value.code == "member_not_claimable"
    assert not isinstance(caught.value, InvalidTransition)


def test_a_reactivated_member_is_active_with_an_account_else_awaiting_invitation() -> None:
    assert reactivated_status(True) is S.ACTIVE
    assert reactivated_status(False) is S.PROVISIONED
