"""How an invitation ends without acceptance: revoked by an admin, declined by the invitee, or
expired by time. Shared by the admin, invitee and member use cases."""

from __future__ import annotations

from datetime import datetime

from admit.domain import invitations as rules
from admit.domain import secrets
from admit.domain.errors import Conflict
from admit.domain.events import event_type
from admit.domain.invitations import InvitationState
from admit.domain.members import MemberStatus
from admit.domain.ports import UnitOfWork
from admit.domain.records import Invitation
from admit.shared.context import SYSTEM, Actor, Context, record

INVITATION = secrets.SecretPurpose.INVITATION


def end_invitation(
    uow: UnitOfWork, actor: Actor, invitation: Invitation, state: InvitationState, now: datetime
) -> Invitation:
    """Move a pending invitation to revoked, declined or expired: its secrets stop working (an
    access code too: withdrawn, unless it simply expired with it) and its member returns to
    awaiting invitation."""
    rules.transition(invitation.state, invitation.expires_at, now, state)
    org = invitation.organization_id
    if not uow.invitations.move(org, invitation.id, "pending", state=state.value, updated_at=now):
        raise Conflict("the invitation changed meanwhile", code="invitation_changed")
    uow.secrets.revoke_for(invitation.id, INVITATION.value, now)
    code = uow.access_codes.live_for_member(org, invitation.member_id)
    if code is not None and code.invitation_id == invitation.id and state is not InvitationState.EXPIRED:
        uow.access_codes.end(code.id, now, redeemed=False, reason="withdrawn")
    uow.members.move(org, invitation.member_id, MemberStatus.INVITED, status=MemberStatus.PROVISIONED, updated_at=now)
    record(
        uow,
        actor,
        event_type(f"invitation.{state.value}"),
        "invitation",
        invitation.id,
        now,
        organization_id=org,
        workspace_id=invitation.workspace_id,
        member_id=invitation.member_id,
    )
    return invitation._replace(state=state.value, updated_at=now)


def expire_due(ctx: Context, *, batch: int = 500) -> int:
    """Mark every lapsed pending invitation expired; safe to run from many processes at once."""
    total = 0
    while True:
        now = ctx.clock.now()
        with ctx.uow(write=True) as uow:
            lapsed = uow.invitations.lapsed(now, batch)
            for invitation in lapsed:
                end_invitation(uow, SYSTEM, invitation, InvitationState.EXPIRED, now)
            uow.commit()
        total += len(lapsed)
        if len(lapsed) < batch:
            return total
