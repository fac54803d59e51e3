"""“Ask for a new invitation” from an expired link: the person who invited (or, for invitations
made by an integration, the workspace's administrators) is told, at most once a day per
invitation. The link's holder gets the same answer whatever happened."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from admit.domain import invitations as rules
from admit.domain import secrets
from admit.domain.errors import SecretRejected
from admit.domain.events import EventType
from admit.domain.invitations import InvitationState
from admit.domain.members import MemberStatus
from admit.domain.ports import UnitOfWork
from admit.domain.records import Invitation
from admit.domain.roles import Permission, Role
from admit.shared.context import Actor, ActorKind, Context, record
from admit.shared.messages import enqueue

INVITATION = secrets.SecretPurpose.INVITATION
ONCE_PER = timedelta(days=1)
MAX_RECIPIENTS = 10


def ask_for_new_invitation(ctx: Context, token: str) -> None:
    try:
        digest = secrets.digest_for(token, INVITATION)
    except SecretRejected:
        return
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        secret = uow.secrets.by_digest(digest, lock=True)
        if secret is None or secret.purpose != INVITATION.value:
            return
        invitation = uow.invitations.get(secret.organization_id, secret.subject_id, lock=True)
        if (
            invitation is None
            or rules.current_state(invitation.state, invitation.expires_at, now) is not InvitationState.EXPIRED
        ):
            return
        key = f"reinvite:{invitation.id}"
        asked = uow.throttles.get(key)
        if asked is not None and asked.blocked_until is not None and now < asked.blocked_until:
            return
        uow.throttles.add_failure(key, now)
        uow.throttles.block_until(key, now + ONCE_PER)
        _tell(uow, invitation, now)
        record(
            uow,
            Actor(ActorKind.INVITEE, name="invitee"),
            EventType.INVITATION_REINVITE_REQUESTED,
            "invitation",
            invitation.id,
            now,
            organization_id=invitation.organization_id,
            workspace_id=invitation.workspace_id,
        )
        uow.commit()


def _tell(uow: UnitOfWork, invitation: Invitation, now: Any) -> None:
    workspace = uow.workspaces.get(invitation.organization_id, invitation.workspace_id)
    if workspace is None or not workspace.email_enabled:
        return
    for address, language in _recipients(uow, invitation)[:MAX_RECIPIENTS]:
        enqueue(
            uow,
            kind="reinvite_requested",
            channel="email",
            recipient=address,
            language=language or workspace.default_language,
            subject_id=invitation.id,
            organization_id=invitation.organization_id,
            workspace_id=invitation.workspace_id,
            now=now,
            payload={"invitee": invitation.email or invitation.phone, "workspace_name": workspace.name},
        )


def _recipients(uow: UnitOfWork, invitation: Invitation) -> list[tuple[str, str | None]]:
    """The inviting person, or else the workspace's active members who may invite."""
    if invitation.inviter_type == ActorKind.ACCOUNT and invitation.inviter_id:
        inviter = uow.accounts.get(invitation.inviter_id)
        emails = [v for k, v in uow.accounts.identifiers(invitation.inviter_id) if k == "email"]
        if inviter is not None and emails:
            return [(emails[0], inviter.language)]
    people = uow.members.list(
        invitation.organization_id, invitation.workspace_id, status=MemberStatus.ACTIVE, limit=1000
    )
    return [(m.email, m.language) for m in people if m.email and Role(m.role).allows(Permission.INVITE)]
