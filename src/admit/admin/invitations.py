"""The administrator's side of invitations: invite, resend, revoke, list, expire, and the
reminder a workspace may send before an invitation expires."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from admit.admin import licences, rate_limits, security_controls
from admit.admin.member_view import MemberView, member_view
from admit.admin.profiles import MemberInput
from admit.domain import invitations as rules
from admit.domain import members as member_rules
from admit.domain import secrets
from admit.domain.errors import Conflict, NotFound
from admit.domain.events import EventType
from admit.domain.invitations import InvitationState
from admit.domain.members import MemberStatus
from admit.domain.ports import UnitOfWork
from admit.domain.records import Invitation, Member, Workspace
from admit.domain.roles import Permission, Role, ensure_can_grant
from admit.shared.access import tenant_scope, workspace_for
from admit.shared.context import SYSTEM, Actor, ActorKind, Context, record
from admit.shared.endings import end_invitation
from admit.shared.messages import announce_invitation, channels_for, invitation_channels

INVITATION = secrets.SecretPurpose.INVITATION
log = logging.getLogger("admit.admin.invitations")


@dataclass(frozen=True, slots=True)
class InvitationView:
    """An invitation as the administrator and the invitee see it (the API's ``InvitationOut``):
    its state as of now (a lapsed pending invitation reads as expired), and who invited it by
    kind and name only (the inviter's id stays in storage)."""

    id: str
    organization_id: str
    workspace_id: str
    member_id: str
    email: str | None
    phone: str | None
    role: str
    state: str
    message: str | None
    channels: list[str]
    inviter_type: str
    inviter_name: str | None
    expires_at: datetime
    send_count: int
    account_id: str | None
    created_at: datetime
    updated_at: datetime
    licence: str  # licensed, or viewer: a resource viewer's invitation reserves no seat


ViewT = TypeVar("ViewT", bound=InvitationView)


def view(invitation: Invitation, now: datetime) -> InvitationView:
    """An invitation as callers see it: a lapsed pending one reads as expired."""
    return view_as(InvitationView, invitation, now)


def view_as(kind: type[ViewT], invitation: Invitation, now: datetime, **more: Any) -> ViewT:
    """:func:`view` as ``kind``: :class:`InvitationView` or a view adding the fields in ``more``."""
    return kind(
        id=invitation.id,
        organization_id=invitation.organization_id,
        workspace_id=invitation.workspace_id,
        member_id=invitation.member_id,
        email=invitation.email,
        phone=invitation.phone,
        role=invitation.role,
        state=rules.current_state(invitation.state, invitation.expires_at, now).value,
        message=invitation.message,
        channels=invitation.channels,
        inviter_type=invitation.inviter_type,
        inviter_name=invitation.inviter_name,
        expires_at=invitation.expires_at,
        send_count=invitation.send_count,
        account_id=invitation.account_id,
        created_at=invitation.created_at,
        updated_at=invitation.updated_at,
        licence=invitation.licence,
        **more,
    )


def open_invitation(
    ctx: Context,
    uow: UnitOfWork,
    actor: Actor,
    workspace: Workspace,
    member: Member,
    *,
    message: str | None,
    now: datetime,
    counted: bool = True,
    valid_for: timedelta | None = None,
    login_method: str | None = None,
) -> Invitation:
    """Invite a provisioned member: member → invited, a pending invitation with a fresh secret,
    its messages in the outbox and the events, all in the caller's transaction. ``member`` is the
    record as read or inserted; :func:`_as_invited` is the member afterwards. ``counted``: a
    single door's invitation, counted against the hourly rate limits; a bulk job's is not (its
    SMS still count against the daily cap: :mod:`admit.admin.rate_limits`). ``valid_for`` and
    ``login_method``: a seller's invitation (admit.admin.sellers) lasts that long and lets the
    invitee join only that way."""
    message = rules.personal_message(message)
    security_controls.check_inviter(uow, actor, workspace.organization_id, member.email)
    if counted:
        rate_limits.charge_invitation(uow, actor, workspace, now)
    channels = invitation_channels(workspace, member)
    if "sms" in channels and member.phone:
        rate_limits.charge_sms(uow, actor, workspace, member.phone, now, single=counted)
    if member.status != MemberStatus.INVITED:  # a member inserted as invited just now needs no move
        _mark_invited(uow, workspace, member, now)
    values = _new_invitation(actor, workspace, member, message, now)
    if valid_for is not None:
        values["expires_at"] = now + valid_for
    if login_method is not None:
        values["login_method"] = login_method
    invitation = Invitation(id=uow.invitations.add(**values), **values)
    token = _issue_link(ctx, uow, workspace, invitation.id, invitation.expires_at, now)
    announce_invitation(
        ctx, uow, kind="invitation", workspace=workspace, member=member, invitation=invitation, token=token, now=now
    )
    record(
        uow, actor, EventType.INVITATION_CREATED, "invitation", invitation.id, now,
        organization_id=workspace.organization_id, workspace_id=workspace.id, member_id=member.id,
        channels=invitation.channels, role=member.role,
    )  # fmt: skip
    return invitation


def _as_invited(member: Member, now: datetime) -> Member:
    """``member`` as :func:`open_invitation` leaves it: invited, moved there ``now`` unless it was
    inserted invited (then the record is already right, and no copy is made)."""
    if member.status == MemberStatus.INVITED:
        return member
    return member._replace(status=MemberStatus.INVITED.value, updated_at=now)


def _issue_link(
    ctx: Context, uow: UnitOfWork, workspace: Workspace, invitation_id: str, expires_at: datetime, now: datetime
) -> str:
    """A fresh secret for the invitation's link (stored as its digest); returns the token once."""
    issued = secrets.issue(INVITATION, ctx.random)
    uow.secrets.add(
        purpose=INVITATION.value,
        digest=issued.digest,
        organization_id=workspace.organization_id,
        subject_id=invitation_id,
        created_at=now,
        expires_at=expires_at,
    )
    return issued.plaintext


def _mark_invited(uow: UnitOfWork, workspace: Workspace, member: Member, now: datetime) -> None:
    member_rules.transition(member.status, MemberStatus.INVITED)
    moved = uow.members.move(
        workspace.organization_id, member.id, MemberStatus.PROVISIONED, status=MemberStatus.INVITED, updated_at=now
    )
    if not moved:
        raise Conflict("the member changed meanwhile; reload and try again", code="member_changed")


def _new_invitation(
    actor: Actor, workspace: Workspace, member: Member, message: str | None, now: datetime
) -> dict[str, Any]:
    """The columns of a pending invitation for ``member`` (all but its id), valid for the
    workspace's lifetime."""
    return {
        "organization_id": workspace.organization_id,
        "workspace_id": workspace.id,
        "member_id": member.id,
        "email": member.email,
        "phone": member.phone,
        "role": member.role,
        "state": InvitationState.PENDING.value,
        "message": message,
        "channels": invitation_channels(workspace, member),
        "inviter_type": actor.kind.value,
        "inviter_id": actor.id,
        "inviter_name": actor.name if actor.kind is ActorKind.ACCOUNT and actor.name else None,
        "expires_at": now + rules.lifetime(workspace.invitation_lifetime_days),
        "send_count": 1,
        "reminded_at": None,
        "account_id": None,
        "created_at": now,
        "updated_at": now,
        "licence": member.licence,
    }


def invite(
    ctx: Context, actor: Actor, workspace_id: str, person: MemberInput, *, message: str | None = None
) -> tuple[InvitationView, MemberView]:
    """Invite a person by email (or username + phone): a new member, or a provisioned one.

    ``person.licence``: ``viewer`` invites a resource viewer, who takes no seat (the invitation
    reserves none, and accepting it uses none, even when the seats are enforced and full); the
    default, ``licensed``, a licensed user. Anyone who may invite may invite either. Naming a
    licence for a provisioned member gives them that licence (a seat checked when it is licensed).

    Returns (invitation, member), the member invited. The secret only travels in the outbox message.
    """
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        workspace, role = workspace_for(uow, actor, workspace_id, Permission.INVITE)
        values = person.cleaned(workspace, ctx.phone_region)
        ensure_can_grant(role, Role(values["role"]))
        existing = uow.members.find_live(
            workspace.organization_id,
            workspace.id,
            email=values["email"],
            username=values["username"],
            external_id=values["external_id"],
        )
        member = (
            new_member(uow, actor, workspace, values, now, invited=True) if existing is None else _reinvitable(existing)
        )
        if "licence" in values and member.licence != values["licence"]:
            member = _relicensed(uow, member, values["licence"], now)
        invitation = open_invitation(ctx, uow, actor, workspace, member, message=message, now=now)
        uow.commit()
    return view(invitation, now), member_view(_as_invited(member, now))


def invite_member(ctx: Context, actor: Actor, member_id: str, *, message: str | None = None) -> InvitationView:
    """Invite one member who is awaiting invitation (the "Invite" button of the people list)."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = uow.members.get(tenant_scope(actor), member_id, lock=True)
        if row is None:
            raise NotFound("member not found")
        workspace, role = workspace_for(uow, actor, row.workspace_id, Permission.INVITE)
        ensure_can_grant(role, Role(row.role))
        member = _reinvitable(row)
        invitation = open_invitation(ctx, uow, actor, workspace, member, message=message, now=now)
        uow.commit()
    return view(invitation, now)


def _relicensed(uow: UnitOfWork, member: Member, licence: str, now: datetime) -> Member:
    """A provisioned member given another licence by their invitation (a seat is checked for a
    licensed one as if they were invited: :func:`open_invitation` invites them next)."""
    licences.ensure_seat(
        uow, member.organization_id, (MemberStatus.INVITED.value, licence), (member.status, member.licence)
    )
    uow.members.update(member.organization_id, member.id, licence=licence, updated_at=now)
    return member._replace(licence=licence, updated_at=now)


def _reinvitable(existing: Member) -> Member:
    if existing.status == MemberStatus.INVITED:
        raise Conflict(
            "this person already has a pending invitation; resend it instead", code="already_invited", field="email"
        )
    if existing.status != MemberStatus.PROVISIONED:
        raise Conflict("this person is already a member of the workspace", code="already_member", field="email")
    return existing


def new_member(
    uow: UnitOfWork,
    actor: Actor,
    workspace: Workspace,
    values: dict[str, Any],
    now: datetime,
    *,
    invited: bool = False,
    account_id: str | None = None,
) -> Member:
    """Insert a member awaiting invitation; ``invited`` inserts it already invited, for the
    invitation opened right after in the same transaction; ``account_id`` inserts it active,
    linked to an account created for it (an import's initial password)."""
    status = member_rules.transition(MemberStatus.PROVISIONED, MemberStatus.INVITED) if invited else None
    if account_id is not None:
        status = MemberStatus.ACTIVE
    org = uow.organizations.get(workspace.organization_id)  # read once for both rules
    security_controls.check_email(uow, workspace.organization_id, values.get("email"), org=org)
    licence = values.get("licence") or licences.LICENSED
    licences.ensure_seat(uow, workspace.organization_id, ((status or MemberStatus.PROVISIONED).value, licence), org=org)
    columns = {
        **values,
        "organization_id": workspace.organization_id,
        "workspace_id": workspace.id,
        "account_id": account_id,
        "status": (status or MemberStatus.PROVISIONED).value,
        "created_at": now,
        "updated_at": now,
    }
    member = Member(id=uow.members.add(**columns), **columns)
    record(
        uow,
        actor,
        EventType.MEMBER_PROVISIONED,
        "member",
        member.id,
        now,
        organization_id=workspace.organization_id,
        workspace_id=workspace.id,
        role=values["role"],
    )
    return member


def _load(
    uow: UnitOfWork, actor: Actor, invitation_id: str, *, lock: bool, member_id: str | None = None
) -> tuple[Invitation, Workspace]:
    """The invitation (of ``member_id`` when a door names the member: another member's is not
    found there), its workspace checked for the right to invite and to grant its role."""
    invitation = uow.invitations.get(tenant_scope(actor), invitation_id, lock=lock)
    if invitation is None or (member_id is not None and invitation.member_id != member_id):
        raise NotFound("invitation not found")
    workspace, role = workspace_for(uow, actor, invitation.workspace_id, Permission.INVITE)
    ensure_can_grant(role, Role(invitation.role))
    return invitation, workspace


def get(ctx: Context, actor: Actor, invitation_id: str) -> InvitationView:
    with ctx.uow() as uow:
        invitation = uow.invitations.get(tenant_scope(actor), invitation_id)
        if invitation is None:
            raise NotFound("invitation not found")
        workspace_for(uow, actor, invitation.workspace_id, Permission.INVITE)
    return view(invitation, ctx.clock.now())


def list_invitations(
    ctx: Context,
    actor: Actor,
    workspace_id: str,
    *,
    state: str | None = None,
    limit: int = 50,
    after: tuple[datetime, str] | None = None,
) -> list[InvitationView]:
    if state is not None:
        InvitationState(state)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.INVITE)
        rows = uow.invitations.list(
            workspace.organization_id, workspace.id, state=state, limit=limit, after=after, now=now
        )
    return [view(row, now) for row in rows]


def for_member(
    ctx: Context, actor: Actor, member_id: str, *, workspace_id: str | None = None, limit: int = 50
) -> list[InvitationView]:
    """The member's invitations, newest first, each in its state as of now (the person's page).
    Another workspace's member is not found when a door names ``workspace_id``."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        member = uow.members.get(tenant_scope(actor), member_id)
        if member is None or (workspace_id is not None and member.workspace_id != workspace_id):
            raise NotFound("member not found")
        workspace_for(uow, actor, member.workspace_id, Permission.INVITE)
        rows = uow.invitations.for_member(member.organization_id, member.id, limit=limit)
    return [view(row, now) for row in rows]


def pending_for_member(ctx: Context, actor: Actor, member_id: str) -> InvitationView:
    """The member's pending invitation (the "Resend" button of the people list)."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        member = uow.members.get(tenant_scope(actor), member_id)
        if member is None:
            raise NotFound("member not found")
        workspace_for(uow, actor, member.workspace_id, Permission.INVITE)
        pending = uow.invitations.pending_for_member(member.organization_id, member.id)
    if pending is None:
        raise Conflict("this person has no pending invitation to resend; invite them again", code="not_invited")
    return view(pending, now)


def resend(
    ctx: Context, actor: Actor, invitation_id: str, *, message: str | None = None, member_id: str | None = None
) -> InvitationView:
    """Keep the invitation, replace its secret (the old link stops working), renew its expiry.
    ``member_id``: the member a door resends for (another member's invitation is not found).
    Rate limited (:mod:`admit.admin.rate_limits`): one resend per invitation per window, so a
    burst sends one message and a refused resend leaves the newest link as it was."""
    message = rules.personal_message(message)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        invitation, workspace = _load(uow, actor, invitation_id, lock=True, member_id=member_id)
        rules.ensure_resendable(invitation.state, invitation.expires_at, now)
        member = uow.members.get(workspace.organization_id, invitation.member_id)
        assert member is not None
        # to the member's address and number as they are now (an administrator may have
        # changed or cleared one since): unreachable, the resend is refused
        channels = channels_for(workspace, member.email, member.phone)
        rate_limits.charge_resend(uow, actor, workspace, invitation.id, now)
        if "sms" in channels and member.phone:
            rate_limits.charge_sms(uow, actor, workspace, member.phone, now)
        uow.secrets.revoke_for(invitation.id, INVITATION.value, now)
        changes: dict[str, Any] = {
            "channels": channels,
            "email": member.email,
            "phone": member.phone,
            "expires_at": now + rules.lifetime(workspace.invitation_lifetime_days),
            "send_count": invitation.send_count + 1,
            "updated_at": now,
        }
        if message is not None:
            changes["message"] = message
        if not uow.invitations.move(workspace.organization_id, invitation.id, "pending", **changes):
            raise Conflict("the invitation changed meanwhile; reload and try again", code="invitation_changed")
        updated = invitation._replace(**changes)
        token = _issue_link(ctx, uow, workspace, updated.id, updated.expires_at, now)
        announce_invitation(
            ctx, uow, kind="invitation_resent", workspace=workspace, member=member, invitation=updated,
            token=token, now=now,
        )  # fmt: skip
        record(
            uow, actor, EventType.INVITATION_RESENT, "invitation", invitation.id, now,
            organization_id=workspace.organization_id, workspace_id=workspace.id, send_count=updated.send_count,
        )  # fmt: skip
        uow.commit()
    return view(updated, now)


def revoke(ctx: Context, actor: Actor, invitation_id: str, *, member_id: str | None = None) -> InvitationView:
    """End a pending invitation (its link stops working). ``member_id`` as for :func:`resend`."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        invitation, _ = _load(uow, actor, invitation_id, lock=True, member_id=member_id)
        updated = end_invitation(uow, actor, invitation, InvitationState.REVOKED, now)
        uow.commit()
    return view(updated, now)


def remind_due(ctx: Context, *, batch: int = 200) -> int:
    """Queue the one reminder of every pending invitation whose workspace sends reminders and
    whose expiry is that many days away or less (by ``ctx.clock``); returns how many were queued.

    Never for an invitation that is declined, revoked, accepted or expired, nor twice: each is
    marked reminded by a conditional update in the transaction that queues its messages, and rows
    another sweep holds are skipped, so sweeps may run in many processes at once. The reminder
    carries a fresh link to the same invitation (the first link keeps working; both end with the
    invitation); it neither renews the expiry nor counts as a resend."""
    total = 0
    with ctx.uow() as uow:
        settings = uow.invitations.reminder_days_in_use()
    for days in settings:
        while True:
            now = ctx.clock.now()
            with ctx.uow(write=True) as uow:
                due = uow.invitations.due_reminders(days, now, now + timedelta(days=days), batch)
                total += sum(_remind(ctx, uow, invitation, now) for invitation in due)
                uow.commit()
            if len(due) < batch:
                break
    return total


def _remind(ctx: Context, uow: UnitOfWork, invitation: Invitation, now: datetime) -> bool:
    """Mark one invitation reminded and queue its reminder, in the caller's transaction; False
    when another sweep got there first (or nothing can be sent)."""
    org = invitation.organization_id
    if not uow.invitations.mark_reminded(org, invitation.id, now):
        return False
    workspace = uow.workspaces.get(org, invitation.workspace_id)
    member = uow.members.get(org, invitation.member_id)
    assert workspace is not None and member is not None
    # To the addresses the invitation went to, by the channels the workspace still sends on.
    enabled = {"email": workspace.email_enabled, "sms": workspace.sms_enabled}
    reached = {"email": invitation.email, "sms": invitation.phone}
    channels = [c for c in invitation.channels if enabled.get(c) and reached.get(c)]
    if "sms" in channels and invitation.phone:  # a reminder's SMS counts as any other (its email goes regardless)
        try:
            rate_limits.charge_text(uow, org, workspace.id, invitation.phone, now)
        except rate_limits.RateLimited as refused:
            log.info("invitation %s is reminded without SMS: %s", invitation.id, refused.message)
            channels.remove("sms")
    if not channels:
        log.info("invitation %s cannot be reminded: none of its channels is open any more", invitation.id)
        return False
    reminded = invitation._replace(channels=channels, reminded_at=now)
    token = _issue_link(ctx, uow, workspace, invitation.id, invitation.expires_at, now)
    announce_invitation(
        ctx, uow, kind="invitation_reminder", workspace=workspace,
        member=member._replace(email=invitation.email, phone=invitation.phone), invitation=reminded,
        token=token, now=now,
    )  # fmt: skip
    record(
        uow, SYSTEM, EventType.INVITATION_REMINDED, "invitation", invitation.id, now,
        organization_id=org, workspace_id=workspace.id, member_id=member.id, channels=channels,
    )  # fmt: skip
    return True
