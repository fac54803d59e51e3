"""Rate limits on invitations, resends and SMS (issue 19), shared by every process through the
database.

Each limit is a fixed window counter in the ``throttles`` table, counted by one atomic upsert
(``INSERT … ON CONFLICT DO UPDATE … RETURNING`` on both databases:
:meth:`ThrottlesRepository.count_in_window`) inside the transaction of the action it limits. Two
processes counting at once queue on the counter's row (PostgreSQL locks it until commit; SQLite's
write transactions are serial), so no limit is ever passed twice. A refused action raises
:class:`RateLimited` (a ``TooManyAttempts``: ``429`` with ``Retry-After`` on the API, the message
on pages and in the CLI) and its transaction rolls back, taking its counts with it: a refused
action costs nothing.

What is counted, per hour (a window starts at the first action it counts):

- an **invitation** (the single doors: invite, invite a member awaiting invitation, create a member
  with ``invite``): per inviter (the account, the API or SCIM token, the operator), per workspace
  and per organization;
- a **resend**: at most one per invitation per ``resend_seconds`` (a burst of resends sends one
  message; the others are refused and leave the newest link the only one that works), and per
  inviter, per workspace and per organization;
- an **SMS** of an invitation or a resend: per inviter, per workspace, per organization and per
  organization and destination country (from the number's E.164 prefix);
- **every other SMS** (password reset links, sign-up codes, self-sign-up notices, access codes,
  invitation reminders): per organization and per organization and destination country, counted
  where it is queued (:func:`admit.shared.messages.enqueue` calls :func:`charge_text` for every
  message on the ``sms`` channel that its sender did not charge already), so no SMS is unlimited;
  an SMS of no organization (an account's own password reset) counts as the instance's (``-``);
- the **daily SMS cap**: every SMS of the organization in a UTC day, whatever its kind, bulk jobs
  included (a count of messages, not a price: gateways bill differently by country and operators
  know their per-message price). Reaching it refuses with ``sms_daily_cap_reached`` until
  midnight UTC and tells the administrators once that day, whichever kind of SMS met it, in a
  transaction of its own after the refused one (:meth:`UnitOfWork.afterwards`), so the notice is
  sent even though the refused action rolls back.

Bulk jobs (imports, Invite All, invitations of a list) are not counted per person against the
hourly limits: a job is started by an administrator who may manage people, runs in the
background with its own progress and report, and must be able to invite 10,000 people. Their SMS
still count against the daily cap. ``0`` turns any limit off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import phonenumbers

from admit.domain.errors import TooManyAttempts
from admit.domain.members import MemberStatus
from admit.domain.ports import UnitOfWork
from admit.domain.records import Workspace
from admit.domain.roles import Permission, Role
from admit.shared.context import Actor
from admit.shared.messages import enqueue

WINDOW = timedelta(hours=1)
CAP_NOTICE_KIND = "sms_cap_reached"


@dataclass(frozen=True)
class Limits:
    """The instance's limits (``ADMIT_RATE_*`` and ``ADMIT_SMS_DAILY_CAP_PER_ORGANIZATION``), set
    once by :mod:`admit.bootstrap`; per hour unless said otherwise; 0 = no limit."""

    invitations_per_inviter: int = 300
    invitations_per_workspace: int = 1000
    invitations_per_organization: int = 3000
    resends_per_inviter: int = 100
    resends_per_workspace: int = 300
    resends_per_organization: int = 1000
    resend_seconds: int = 60  # per invitation: one resend per this many seconds
    sms_per_inviter: int = 100
    sms_per_workspace: int = 300
    sms_per_organization: int = 1000
    sms_per_country: int = 300  # per organization and destination country
    sms_daily_cap: int = 2000  # per organization and UTC day, bulk jobs included


DEFAULTS = Limits()
_current = [DEFAULTS]


def configure(limits: Limits | None = None, **changes: int) -> Limits:
    """Set the instance's limits (``DEFAULTS`` with ``changes``); returns the limits in force."""
    chosen = replace(limits or DEFAULTS, **changes)
    for item in fields(chosen):
        if getattr(chosen, item.name) < 0:
            raise ValueError(f"{item.name} must be 0 (no limit) or more")
    _current[0] = chosen
    return chosen


def current() -> Limits:
    return _current[0]


class RateLimited(TooManyAttempts):
    """An action past one of its limits: try again after ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, what: str, retry_after: timedelta, *, code: str | None = None) -> None:
        super().__init__(retry_after)
        self.message = f"{what}; try again in {_wait(self.retry_after)}"
        if code is not None:
            self.code = code


class SmsCapReached(RateLimited):
    """The organization's daily SMS cap is reached (until midnight UTC)."""

    def __init__(self, organization_id: str, workspace_id: str | None, retry_after: timedelta) -> None:
        super().__init__(
            "the organization's daily SMS limit is reached: no more text messages are sent today (UTC); "
            "use email meanwhile",
            retry_after,
            code="sms_daily_cap_reached",
        )
        self.organization_id = organization_id
        self.workspace_id = workspace_id


def _wait(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes" if minutes < 120 else f"{math.ceil(minutes / 60)} hours"


def _inviter(actor: Actor) -> str:
    return f"{actor.kind.value}:{actor.id or '-'}"


def _count(uow: UnitOfWork, key: str, limit: int, now: datetime, what: str, *, window: timedelta = WINDOW) -> None:
    if limit <= 0:
        return
    count, ends = uow.throttles.count_in_window(key, now, now + window)
    if count > limit:
        raise RateLimited(what, ends - now)


def _per_scope(
    uow: UnitOfWork, action: str, actor: Actor, workspace: Workspace, now: datetime, limits: tuple[int, int, int]
) -> None:
    by_inviter, by_workspace, by_organization = limits
    noun = {"invitations": "invitations", "resends": "resends", "sms": "text messages"}[action]
    _count(uow, f"rate:{action}:by:{_inviter(actor)}", by_inviter, now,
           f"you have sent too many {noun} this hour ({by_inviter} an hour)")  # fmt: skip
    _count(uow, f"rate:{action}:ws:{workspace.id}", by_workspace, now,
           f"this workspace has sent too many {noun} this hour ({by_workspace} an hour)")  # fmt: skip
    _count(uow, f"rate:{action}:org:{workspace.organization_id}", by_organization, now,
           f"this organization has sent too many {noun} this hour ({by_organization} an hour)")  # fmt: skip


def charge_invitation(uow: UnitOfWork, actor: Actor, workspace: Workspace, now: datetime) -> None:
    """Count one invitation from a single door, or ``RateLimited``. In the caller's transaction."""
    limits = current()
    scopes = (limits.invitations_per_inviter, limits.invitations_per_workspace, limits.invitations_per_organization)
    _per_scope(uow, "invitations", actor, workspace, now, scopes)


def charge_resend(uow: UnitOfWork, actor: Actor, workspace: Workspace, invitation_id: str, now: datetime) -> None:
    """Count one resend of ``invitation_id``, or ``RateLimited`` (first the invitation's own
    window: a burst of resends sends one message). In the caller's transaction."""
    limits = current()
    if limits.resend_seconds > 0:
        count, ends = uow.throttles.count_in_window(
            f"rate:resend:inv:{invitation_id}", now, now + timedelta(seconds=limits.resend_seconds)
        )
        if count > 1:
            raise RateLimited(
                "this invitation was just sent; its newest link stays the one that works", ends - now,
                code="resent_too_soon",
            )  # fmt: skip
    _per_scope(uow, "resends", actor, workspace, now,
               (limits.resends_per_inviter, limits.resends_per_workspace, limits.resends_per_organization))  # fmt: skip


def country_of(phone: str) -> str:
    """The destination region of an E.164 number ("DE", "US"), "ZZ" when unknown."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return "ZZ"
    return phonenumbers.region_code_for_number(number) or "ZZ"


def charge_sms(
    uow: UnitOfWork, actor: Actor, workspace: Workspace, phone: str, now: datetime, *, single: bool = True
) -> None:
    """Count one invitation SMS to ``phone``: the hourly limits when it comes from a single door
    (``single``), and the organization's daily cap always; ``RateLimited`` or
    :class:`SmsCapReached`. In the caller's transaction, before anything is written (its message
    is then queued with ``charged=True``)."""
    limits = current()
    if single:
        _count(uow, f"rate:sms:by:{_inviter(actor)}", limits.sms_per_inviter, now,
               f"you have sent too many text messages this hour ({limits.sms_per_inviter} an hour)")  # fmt: skip
        _count(uow, f"rate:sms:ws:{workspace.id}", limits.sms_per_workspace, now,
               f"this workspace has sent too many text messages this hour "
               f"({limits.sms_per_workspace} an hour)")  # fmt: skip
    charge_text(uow, workspace.organization_id, workspace.id, phone, now, hourly=single)


def charge_text(
    uow: UnitOfWork, organization_id: str | None, workspace_id: str | None, phone: str, now: datetime, *,
    hourly: bool = True,
) -> None:  # fmt: skip
    """Count one SMS of any kind to ``phone``: per organization and per organization and
    destination country this hour (``hourly``; a bulk job's invitations skip them), and against the
    organization's daily cap always; ``RateLimited`` or :class:`SmsCapReached`. In the caller's
    transaction: a refusal rolls back with it."""
    limits = current()
    org = organization_id or "-"  # an SMS of no organization counts as the instance's
    if hourly:
        _count(uow, f"rate:sms:org:{org}", limits.sms_per_organization, now,
               f"this organization has sent too many text messages this hour "
               f"({limits.sms_per_organization} an hour)")  # fmt: skip
        country = country_of(phone)
        _count(uow, f"rate:sms:cc:{org}:{country}", limits.sms_per_country, now,
               f"this organization has sent too many text messages to {country} numbers this hour "
               f"({limits.sms_per_country} an hour)")  # fmt: skip
    if limits.sms_daily_cap > 0:
        count, ends = uow.throttles.count_in_window(f"rate:sms:day:{org}", now, _midnight_after(now))
        if count > limits.sms_daily_cap:
            if organization_id is not None:  # told in a transaction of its own: this one may roll back
                uow.afterwards(
                    lambda later: _tell_in(later, organization_id, workspace_id, now), key=f"sms-cap:{organization_id}"
                )
            raise SmsCapReached(org, workspace_id, ends - now)


def _midnight_after(now: datetime) -> datetime:
    day = now.astimezone(UTC).date() + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=UTC)


def _tell_in(uow: UnitOfWork, organization_id: str, workspace_id: str | None, now: datetime) -> None:
    """One email to each administrator (the organization's system administrators and, when the
    SMS was a workspace's, that workspace's active members who may manage people), the first time
    today (the day's count of notices is the organization's: whichever refusal comes first); in a
    unit of work of its own (:meth:`UnitOfWork.afterwards`), which it commits."""
    count, _ = uow.throttles.count_in_window(f"rate:sms:told:{organization_id}", now, _midnight_after(now))
    if count != 1:
        return
    organization = uow.organizations.get(organization_id)
    workspace = uow.workspaces.get(organization_id, workspace_id) if workspace_id else None
    if organization is None:
        return
    people: dict[str, str | None] = {}
    for admin in uow.org_controls.admins(organization_id):
        if admin.role == "system_admin" and admin.email:
            people.setdefault(admin.email, None)
    if workspace is not None:  # else an SMS of no workspace: the system administrators, in the organization's name
        for member in uow.members.list(organization_id, workspace.id, status=MemberStatus.ACTIVE, limit=1000):
            if member.email and Role(member.role).allows(Permission.MANAGE_PEOPLE):
                people.setdefault(member.email, member.language)
    where = workspace.name if workspace is not None else organization.name
    payload: dict[str, Any] = {"workspace_name": where, "cap": current().sms_daily_cap}
    for address, language in people.items():
        enqueue(
            uow,
            kind=CAP_NOTICE_KIND,
            channel="email",
            recipient=address,
            language=language or (workspace.default_language if workspace is not None else "en"),
            subject_id=organization_id,
            organization_id=organization_id,
            workspace_id=workspace.id if workspace is not None else None,
            payload=payload,
            now=now,
        )
    uow.commit()
