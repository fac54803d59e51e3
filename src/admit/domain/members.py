"""The member lifecycle: a person's entry in a workspace directory.

``provisioned`` (awaiting invitation) → ``invited`` → ``active`` ⇄ ``suspended`` → ``removed``.
An invitation that ends without acceptance (revoked, declined, expired) returns an invited
member to ``provisioned`` so that an administrator can invite them again.
"""

from __future__ import annotations

from enum import StrEnum

from admit.domain.errors import Conflict, InvalidTransition


class MemberStatus(StrEnum):
    PROVISIONED = "provisioned"
    INVITED = "invited"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REMOVED = "removed"


S = MemberStatus
ALLOWED: dict[MemberStatus, frozenset[MemberStatus]] = {
    S.PROVISIONED: frozenset({S.INVITED, S.REMOVED}),
    S.INVITED: frozenset({S.ACTIVE, S.PROVISIONED, S.REMOVED}),
    S.ACTIVE: frozenset({S.SUSPENDED, S.REMOVED}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.REMOVED}),
    S.REMOVED: frozenset(),
}

LABELS = {
    S.PROVISIONED: "Awaiting invitation",
    S.INVITED: "Invited",
    S.ACTIVE: "Active",
    S.SUSPENDED: "Suspended",
    S.REMOVED: "Removed",
}


def transition(current: MemberStatus | str, target: MemberStatus) -> MemberStatus:
    """Return ``target`` if the lifecycle allows moving there from ``current``."""
    current = MemberStatus(current)
    if target not in ALLOWED[current]:
        raise InvalidTransition(
            f"a member who is {LABELS[current].lower()} cannot become {LABELS[target].lower()}",
            field="status",
        )
    return target


def ensure_claimable(status: MemberStatus | str) -> None:
    """Only an invited member can be claimed; an uninvited one must wait for an invitation."""
    status = MemberStatus(status)
    if status is not S.INVITED:
        raise Conflict(
            f"this membership cannot be claimed while it is {LABELS[status].lower()}",
            code="member_not_claimable",
        )
