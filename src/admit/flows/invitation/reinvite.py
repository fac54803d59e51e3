"""“Ask for a new invitation” from an expired link: the person who invited (or, for invitations
made by an integration or an operator, the workspace's administrators; failing them, the
organization's owners) is told, at most once a day per invitation. The link's holder learns who
was told, or that nobody can be reached through Admit and whom to contact instead; a link that is
not an expired invitation gets the one answer that says nothing."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
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


class Asked(StrEnum):
    """What became of a request for a new invitation, as its link's holder may learn it."""

    UNKNOWN = "unknown"  # not an expired invitation's link: nothing happened
    INVITER = "inviter"  # the person who invited was told
    ADMINS = "admins"  # the workspace's administrators were told
    OWNERS = "owners"  # nobody in the workspace could be: the organization's owners were told
    NOBODY = "nobody"  # nobody can be reached through Admit (or email is off): contact them directly
    ALREADY = "already"  # asked already today: they have been told


def ask_for_new_invitation(ctx: Context, token: str) -> Asked:
    try:
        digest = secrets.digest_for(token, INVITATION)
    except SecretRejected:
        return Asked.UNKNOWN
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        invitation = _expired_invitation(uow, digest, now)
        if invitation is None:
            return Asked.UNKNOWN
        key = f"reinvite:{invitation.id}"
        asked = uow.throttles.get(key)
        if asked is not None and asked.blocked_until is not None and now < asked.blocked_until:
            return Asked.ALREADY
        uow.throttles.add_failure(key, now)
        uow.throttles.block_until(key, now + ONCE_PER)
        told = _tell(uow, invitation, now)
        record(
            uow,
            Actor(ActorKind.INVITEE, name="invitee"),
            EventType.INVITATION_REINVITE_REQUESTED,
            "invitation",
            invitation.id,
            now,
            organization_id=invitation.organization_id,
            workspace_id=invitation.workspace_id,
            told=told.value,
        )
        uow.commit()
    return told


def _expired_invitation(uow: UnitOfWork, digest: str, now: Any) -> Invitation | None:
    secret = uow.secrets.by_digest(digest, lock=True)
    if secret is None or secret.purpose != INVITATION.value:
        return None
    invitation = uow.invitations.get(secret.organization_id, secret.subject_id, lock=True)
    if invitation is None:
        return None
    expired = rules.current_state(invitation.state, invitation.expires_at, now) is InvitationState.EXPIRED
    return invitation if expired else None


def _tell(uow: UnitOfWork, invitation: Invitation, now: Any) -> Asked:
    workspace = uow.workspaces.get(invitation.organization_id, invitation.workspace_id)
    if workspace is None or not workspace.email_enabled:
        return Asked.NOBODY
    told, recipients = _recipients(uow, invitation)
    for address, language in recipients[:MAX_RECIPIENTS]:
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
    return told


Recipients = list[tuple[str, str | None]]


def _recipients(uow: UnitOfWork, invitation: Invitation) -> tuple[Asked, Recipients]:
    """The inviting person; else the workspace's active members who may invite; else the active
    owners of the organization's other workspaces."""
    if invitation.inviter_type == ActorKind.ACCOUNT and invitation.inviter_id:
        inviter = uow.accounts.get(invitation.inviter_id)
        emails = [v for k, v in uow.accounts.identifiers(invitation.inviter_id) if k == "email"]
        if inviter is not None and emails:
            return Asked.INVITER, [(emails[0], inviter.language)]
    admins = _active(uow, invitation.organization_id, invitation.workspace_id, Permission.INVITE)
    if admins:
        return Asked.ADMINS, admins
    owners = [
        person
        for workspace in uow.workspaces.list(invitation.organization_id)
        for person in _active(uow, invitation.organization_id, workspace.id, None)
    ]
    return (Asked.OWNERS, list(dict.fromkeys(owners))) if owners else (Asked.NOBODY, [])


def _active(uow: UnitOfWork, organization_id: str, workspace_id: str, may: Permission | None) -> Recipients:
    """Active members with an email who may ``may`` (``None``: the owners)."""
    people = uow.members.list(organization_id, workspace_id, status=MemberStatus.ACTIVE, limit=1000)
    return [
        (m.email, m.language)
        for m in people
        if m.email and (Role(m.role) is Role.OWNER if may is None else Role(m.role).allows(may))
    ]
