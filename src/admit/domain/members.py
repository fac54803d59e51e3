"""The member lifecycle: a person's entry in a workspace directory.

``provisioned`` (awaiting invitation) → ``invited`` → ``active`` ⇄ ``suspended`` → ``removed``.
An invitation that ends without acceptance (revoked, declined, expired) returns an invited
member to ``provisioned`` so that an administrator can invite them again.

Every live member can be suspended (an identity provider's ``active: false`` comes whatever the
member's state): an invited member's pending invitation is revoked first, so a provisioned or
invited member becomes suspended too. Reactivation returns a member to ``active`` when they have
an account, else to ``provisioned`` (awaiting invitation again): :func:`reactivated_status`.
"""

from __future__ import annotations

from enum import StrEnum

from admit.domain.errors import Conflict, InvalidTransition, ValidationFailed

NAME_LIMIT = 100


class MemberStatus(StrEnum):
    PROVISIONED = "provisioned"
    INVITED = "invited"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REMOVED = "removed"


S = MemberStatus
ALLOWED: dict[MemberStatus, frozenset[MemberStatus]] = {
    S.PROVISIONED: frozenset({S.INVITED, S.SUSPENDED, S.REMOVED}),
    S.INVITED: frozenset({S.ACTIVE, S.PROVISIONED, S.SUSPENDED, S.REMOVED}),
    S.ACTIVE: frozenset({S.SUSPENDED, S.REMOVED}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.PROVISIONED, S.REMOVED}),
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


def reactivated_status(has_account: bool) -> MemberStatus:
    """Where a reactivated member goes: back to ``active`` with an account, else to
    ``provisioned`` (they were never claimed: they wait for an invitation again)."""
    return S.ACTIVE if has_account else S.PROVISIONED


def ensure_claimable(status: MemberStatus | str) -> None:
    """Only an invited member can be claimed; an uninvited one must wait for an invitation."""
    status = MemberStatus(status)
    if status is not S.INVITED:
        raise Conflict(
            f"this membership cannot be claimed while it is {LABELS[status].lower()}",
            code="member_not_claimable",
        )


def person_names(first_name: str | None, last_name: str | None, *, required: bool = True) -> tuple[str, str]:
    """The first and last name a person gives when their account is created: trimmed, at most
    ``NAME_LIMIT`` characters each, and both ``required`` (sign-up, single sign-on)."""
    names = ((first_name or "").strip(), (last_name or "").strip())
    if required and not all(names):
        field = "first_name" if not names[0] else "last_name"
        raise ValidationFailed("enter your first and last name", field=field, code="name_required")
    for field, name in zip(("first_name", "last_name"), names, strict=True):
        if len(name) > NAME_LIMIT:
            message = f"a name can have at most {NAME_LIMIT} characters"
            raise ValidationFailed(message, field=field, code="name_too_long")
    return names
