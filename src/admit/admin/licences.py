"""Licences (seats, issue 17). Each member has a licence type: a **licensed user** takes one of
the organization's ``seats``, a **resource viewer** is free.

Counting: a licensed member who is active or suspended *uses* a seat (suspending keeps it,
removing frees it); a licensed member who has not accepted yet (awaiting invitation or invited:
SCIM creates and imports make these) holds a *reserved* seat while the organization's
``reserve_seats_for_invitations`` is on (the default), and nothing when it is off (the seat is
taken when they accept). Changing a member to resource viewer frees their seat.

Enforcement: seats are counted and reported for every organization, and enforced once the
operator turns ``licences_enforced`` on (:func:`set_seats`): rows from before issue 17 and new
organizations count without refusing, so nothing that worked stops working. Every path that
makes a member count where they did not (a new member, an acceptance with reservation off, an
activation with a one-time password, a single sign-on or sign-up member, a change to licensed)
calls :func:`ensure_seat` in its own transaction, before the write. It locks the organization's
row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's write transactions are serial, BEGIN
IMMEDIATE) and counts inside the same transaction, so the second of two racing acceptances
counts after the first has committed: no race can exceed ``seats``. Lowering ``seats`` below
what is in use refuses new seats but takes none away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from admit.admin.organization_roles import OrgRole, organization_for
from admit.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from admit.domain.events import EventType
from admit.domain.ports import UnitOfWork
from admit.domain.records import Member, Record
from admit.shared.access import tenant_scope
from admit.shared.context import Actor, ActorKind, Context, record

LICENSED, VIEWER = "licensed", "viewer"
LICENCES = (LICENSED, VIEWER)
USED = ("active", "suspended")
PENDING = ("provisioned", "invited")
MAX_SEATS = 1_000_000


class NoSeatsLeft(Conflict):
    code = "no_seats"


@dataclass(frozen=True)
class WorkspaceSeats:
    workspace_id: str
    name: str
    used: int
    reserved: int


@dataclass(frozen=True)
class LicenceReport:
    organization_id: str
    seats: int
    enforced: bool
    reserve_seats_for_invitations: bool
    used: int
    reserved: int
    free: int
    workspaces: list[WorkspaceSeats]


def parse_licence(value: object) -> str:
    if isinstance(value, str) and value.strip().lower() in LICENCES:
        return value.strip().lower()
    raise ValidationFailed("the licence type is licensed or viewer", field="licence")


def counts(org: Record, status: str, licence: str) -> bool:
    """Whether a member in ``status`` with ``licence`` holds a seat (used or reserved)."""
    if licence != LICENSED:
        return False
    return status in USED or (status in PENDING and bool(org.reserve_seats_for_invitations))


def _totals(uow: UnitOfWork, org: Record) -> tuple[int, int, list[WorkspaceSeats]]:
    rows = uow.org_controls.seat_counts(org.id)
    spaces = [
        WorkspaceSeats(str(ws), str(name), int(used), int(pending) if org.reserve_seats_for_invitations else 0)
        for ws, name, used, pending in rows
    ]
    return sum(s.used for s in spaces), sum(s.reserved for s in spaces), spaces


def ensure_seat(
    uow: UnitOfWork,
    organization_id: str,
    after: tuple[str, str],
    before: tuple[str, str] | None = None,
    *,
    field: str | None = None,
    org: Record | None = None,
) -> None:
    """Refuse (:class:`NoSeatsLeft`) a change that makes a member hold a seat (``after``: status
    and licence; ``before`` as they were, None for a new member) when none is free. Call it in
    the write transaction of the change, before writing it (``org``: its row, if already read)."""
    org = org if org is not None else uow.organizations.get(organization_id)
    if org is None or not org.licences_enforced:
        return
    if not counts(org, *after) or (before is not None and counts(org, *before)):
        return
    org = uow.org_controls.lock(organization_id)  # read again under the lock: the seats as of now
    assert org is not None
    if not org.licences_enforced:
        return
    uow.flush()  # a bulk transaction's held-back members count too
    used, reserved, _ = _totals(uow, org)
    if used + reserved + 1 > org.seats:
        raise NoSeatsLeft(
            f"no licence is free: {org.seats} seats, {used} in use and {reserved} reserved for pending"
            " invitations; free a seat (remove someone, or make them a resource viewer) or ask for more licences",
            field=field,
        )


def ensure_seats(uow: UnitOfWork, organization_id: str, needed: int, *, field: str | None = None) -> None:
    """Refuse (:class:`NoSeatsLeft`) ``needed`` more seats at once when fewer are free (an
    organization merge, issue 17): under the organization row's lock, in the write transaction."""
    org = uow.org_controls.lock(organization_id)
    if org is None or not org.licences_enforced or needed <= 0:
        return
    uow.flush()
    used, reserved, _ = _totals(uow, org)
    if used + reserved + needed > org.seats:
        raise NoSeatsLeft(
            f"{needed} licences are needed and {max(org.seats - used - reserved, 0)} are free: {org.seats} seats,"
            f" {used} in use and {reserved} reserved for pending invitations",
            field=field,
        )


def report(ctx: Context, actor: Actor, organization_id: str) -> LicenceReport:
    """Seats used, reserved and free, by workspace (system administrators)."""
    with ctx.uow() as uow:
        org = organization_for(uow, actor, organization_id, OrgRole.SYSTEM_ADMIN)
        used, reserved, spaces = _totals(uow, org)
    return LicenceReport(
        organization_id=org.id,
        seats=org.seats,
        enforced=bool(org.licences_enforced),
        reserve_seats_for_invitations=bool(org.reserve_seats_for_invitations),
        used=used,
        reserved=reserved,
        free=max(org.seats - used - reserved, 0),
        workspaces=spaces,
    )


def set_seats(
    ctx: Context, actor: Actor, organization_id: str, *, seats: object = None, enforced: object = None
) -> LicenceReport:
    """The number of licences and whether they are enforced: the operator's (billing) call."""
    if actor.kind is not ActorKind.OPERATOR:
        raise PermissionDenied("only the operator changes an organization's licences")
    if seats is not None and (not isinstance(seats, int) or isinstance(seats, bool) or not 0 <= seats <= MAX_SEATS):
        raise ValidationFailed(f"seats is a whole number from 0 to {MAX_SEATS}", field="seats")
    if enforced is not None and not isinstance(enforced, bool):
        raise ValidationFailed("enforced is true or false", field="enforced")
    changes: dict[str, Any] = {k: v for k, v in (("seats", seats), ("licences_enforced", enforced)) if v is not None}
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        organization_for(uow, actor, organization_id, OrgRole.SYSTEM_ADMIN)
        if changes:
            uow.org_controls.update(organization_id, **changes)
            record(
                uow, actor, EventType.ORGANIZATION_LICENCES_CHANGED, "organization", organization_id, now,
                organization_id=organization_id, **changes,
            )  # fmt: skip
        uow.commit()
    return report(ctx, actor, organization_id)


def set_reservation(ctx: Context, actor: Actor, organization_id: str, reserve: object) -> LicenceReport:
    """Whether a pending invitation reserves a seat (an organization setting: system administrators)."""
    if not isinstance(reserve, bool):
        raise ValidationFailed("reserve_seats_for_invitations is true or false", field="reserve_seats_for_invitations")
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        organization_for(uow, actor, organization_id, OrgRole.SYSTEM_ADMIN)
        uow.org_controls.lock(organization_id)
        uow.org_controls.update(organization_id, reserve_seats_for_invitations=reserve)
        record(
            uow, actor, EventType.ORGANIZATION_LICENCES_CHANGED, "organization", organization_id, now,
            organization_id=organization_id, reserve_seats_for_invitations=reserve,
        )  # fmt: skip
        uow.commit()
    return report(ctx, actor, organization_id)


def set_licence(
    ctx: Context, actor: Actor, member_id: object, licence: object, *, organization_id: str | None = None
) -> Member:
    """Make a member a licensed user (takes a seat, if one is free) or a resource viewer (frees it);
    ``organization_id`` when a door names one (another organization's member is not found there)."""
    if not isinstance(member_id, str) or not member_id or len(member_id) > 32:
        raise NotFound("member not found")
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        member = uow.members.get(tenant_scope(actor), member_id)
        if member is None or (organization_id is not None and member.organization_id != organization_id):
            raise NotFound("member not found")
        organization_for(uow, actor, member.organization_id, OrgRole.SYSTEM_ADMIN)
        wanted = parse_licence(licence)
        if member.licence != wanted:
            ensure_seat(
                uow, member.organization_id, (member.status, wanted), (member.status, member.licence), field="licence"
            )
            uow.org_controls.set_licence(member.organization_id, member.id, wanted, now)
            record(
                uow, actor, EventType.MEMBER_LICENCE_CHANGED, "member", member.id, now,
                organization_id=member.organization_id, workspace_id=member.workspace_id,
                licence=wanted, previous=member.licence,
            )  # fmt: skip
        uow.commit()
    return member._replace(licence=wanted, updated_at=now) if member.licence != wanted else member
