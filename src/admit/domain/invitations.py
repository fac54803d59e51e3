"""The invitation lifecycle: ``pending`` → ``accepted`` | ``declined`` | ``expired`` | ``revoked``.

All end states are final. Resending keeps a pending invitation, gives it a new secret (only the
newest works) and a new expiry.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from admit.domain.errors import InvalidTransition, ValidationFailed

MIN_LIFETIME_DAYS = 1
MAX_LIFETIME_DAYS = 30
DEFAULT_LIFETIME_DAYS = 7
MESSAGE_LIMIT = 2000  # characters of an administrator's personal message


INVITE_CHOICES = {"now": True, "later": False}


def invite_now(choice: str | None) -> bool:
    """An import creates people who are invited ``now`` or ``later``: the importer must say which
    (there is no default: a wrong guess either spams people or leaves them waiting)."""
    if choice not in INVITE_CHOICES:
        raise ValidationFailed(
            "choose whether to invite the new people now or later", field="invite", code="invite_choice_required"
        )
    return INVITE_CHOICES[choice]


def personal_message(message: str | None) -> str | None:
    """An administrator's personal message for an invitation: trimmed, ``None`` when empty, at
    most ``MESSAGE_LIMIT`` characters (every door: pages, API, CLI, imports, bulk invitations)."""
    text = (message or "").strip()
    if len(text) > MESSAGE_LIMIT:
        raise ValidationFailed(
            f"the personal message can have at most {MESSAGE_LIMIT} characters (it has {len(text)})",
            field="message",
            code="message_too_long",
        )
    return text or None


class InvitationState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    REVOKED = "revoked"


S = InvitationState
ALLOWED: dict[InvitationState, frozenset[InvitationState]] = {
    S.PENDING: frozenset({S.ACCEPTED, S.DECLINED, S.EXPIRED, S.REVOKED}),
    S.ACCEPTED: frozenset(),
    S.DECLINED: frozenset(),
    S.EXPIRED: frozenset(),
    S.REVOKED: frozenset(),
}


def current_state(state: InvitationState | str, expires_at: datetime, now: datetime) -> InvitationState:
    """The state as a person sees it: a pending invitation past its expiry is expired."""
    state = InvitationState(state)
    if state is S.PENDING and now >= expires_at:
        return S.EXPIRED
    return state


def transition(
    state: InvitationState | str, expires_at: datetime, now: datetime, target: InvitationState
) -> InvitationState:
    """Return ``target`` if allowed; a lapsed invitation can only become ``expired``."""
    effective = current_state(state, expires_at, now)
    if effective is S.EXPIRED and InvitationState(state) is S.PENDING and target is not S.EXPIRED:
        raise InvalidTransition("this invitation has expired", code="invitation_expired")
    if target not in ALLOWED[InvitationState(state)]:
        raise InvalidTransition(
            f"an invitation that is {effective.value} cannot be {target.value}",
            code=f"invitation_{effective.value}",
        )
    return target


def ensure_resendable(state: InvitationState | str, expires_at: datetime, now: datetime) -> None:
    effective = current_state(state, expires_at, now)
    if effective is not S.PENDING:
        raise InvalidTransition(
            f"an invitation that is {effective.value} cannot be resent; invite the person again",
            code=f"invitation_{effective.value}",
        )


def lifetime(days: int) -> timedelta:
    """The validity of a new invitation: whole days from 1 to 30 (default 7)."""
    if not MIN_LIFETIME_DAYS <= days <= MAX_LIFETIME_DAYS:
        raise ValidationFailed(
            f"invitation lifetime must be between {MIN_LIFETIME_DAYS} and {MAX_LIFETIME_DAYS} days",
            field="invitation_lifetime_days",
        )
    return timedelta(days=days)


def reminder_days(days: object, lifetime_days: int) -> int | None:
    """A workspace's reminder setting: ``None`` (no reminder), or one reminder this many whole
    days before an invitation expires, from 1 to one day less than the invitation lifetime (a
    reminder on the day the invitation is sent reminds of nothing)."""
    if days is None:
        return None
    most = lifetime_days - 1 if isinstance(lifetime_days, int) else 0
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= most:
        message = (
            f"the reminder must be off, or a whole number of days from 1 to {most} before expiry"
            f" (invitations are valid for {lifetime_days} days)"
            if most >= 1
            else f"the reminder must be off: invitations valid for {lifetime_days} day leave no room for one"
        )
        raise ValidationFailed(message, field="reminder_days")
    return days
