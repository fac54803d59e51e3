"""Enqueueing what someone must be told, in the caller's transaction (the outbox).

Delivery is the outbox worker's job; here a message is a row with everything needed to render
it. A link carrying a secret is only ever built from the configured base URL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

from admit.domain.branding import email_brand
from admit.domain.errors import Conflict
from admit.domain.ports import UnitOfWork
from admit.domain.records import Invitation, Member, Workspace
from admit.shared.context import REQUEST_ID, Context


def channels_for(workspace: Workspace, email: str | None, phone: str | None) -> list[str]:
    """Every channel the workspace has switched on and a member with this email address and phone
    number can be reached by: email and SMS both when both are on and known (the fourth article's
    rule)."""
    channels = []
    if workspace.email_enabled and email:
        channels.append("email")
    if workspace.sms_enabled and phone:
        channels.append("sms")
    if not channels:
        raise Conflict(
            "this member cannot be reached: the workspace sends "
            + (
                " and ".join(c for c, on in (("email", workspace.email_enabled), ("SMS", workspace.sms_enabled)) if on)
                or "no messages"
            )
            + ", and the member has no matching email address or phone number",
            code="no_delivery_channel",
            field="email" if workspace.email_enabled else "phone",
        )
    return channels


def needs_access_code(workspace: Workspace, member: Member) -> bool:
    """A member no message can reach (no email, and no phone the workspace can text) in a
    workspace that does not require single sign-on: they are invited by access code."""
    return not member.email and not (workspace.sms_enabled and member.phone) and not workspace.sso_required


def invitation_channels(workspace: Workspace, member: Member) -> list[str]:
    """The channels an invitation for ``member`` goes by: :func:`channels_for`, except that a member
    without email whom no SMS can reach is invited by access code (``code``: no message is sent;
    an administrator creates the code and hands it over), unless the workspace requires single
    sign-on, where a code cannot be used."""
    if needs_access_code(workspace, member):
        return ["code"]
    return channels_for(workspace, member.email, member.phone)


def enqueue(
    uow: UnitOfWork,
    *,
    kind: str,
    channel: str,
    recipient: str,
    language: str,
    subject_id: str,
    organization_id: str | None,
    workspace_id: str | None,
    payload: dict[str, Any],
    now: datetime,
    charged: bool = False,
) -> int:
    """Queue one message. Every SMS counts against the SMS rate limits and the daily SMS cap here
    (:func:`admit.admin.rate_limits.charge_text`: ``RateLimited``, a ``429``, and the caller's
    transaction rolls back) unless its sender charged it already (``charged``: an invitation's
    door counts its SMS before writing anything)."""
    if channel == "sms" and not charged:
        from admit.admin import rate_limits  # it queues its own notices through this module

        rate_limits.charge_text(uow, organization_id, workspace_id, recipient, now)
    request_id = REQUEST_ID.get()
    if request_id is not None:  # the API request or page that queued it (operators trace it in logs)
        payload = {**payload, "request_id": request_id}
    return uow.outbox.add(
        organization_id=organization_id,
        workspace_id=workspace_id,
        kind=kind,
        channel=channel,
        recipient=recipient,
        language=language,
        subject_id=subject_id,
        payload=payload,
        key=uuid4().hex,
        state="queued",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


def announce_invitation(
    ctx: Context,
    uow: UnitOfWork,
    *,
    kind: str,
    workspace: Workspace,
    member: Member,
    invitation: Invitation,
    token: str,
    now: datetime,
    charged: bool = True,
) -> None:
    """One message per channel of the invitation, each carrying the sign-up link. ``charged``: its
    SMS was counted already (:func:`admit.admin.rate_limits.charge_sms`, before anything was
    written); else :func:`enqueue` counts it."""
    payload = {
        "link": ctx.link(f"/i/{token}"),
        "workspace_name": workspace.name,
        "inviter_name": invitation.inviter_name,
        "message": invitation.message,
        "first_name": member.first_name,
        "expires_at": invitation.expires_at.isoformat(),
        **email_brand(uow, workspace, ctx.base_url),  # the button's colour, the logo (a PNG) by absolute URL
    }
    for channel in invitation.channels:
        if channel == "code":  # handed over by an administrator (admin.access_codes), never sent
            continue
        recipient = member.email if channel == "email" else member.phone
        assert recipient is not None  # the outbox refuses a message without a recipient
        enqueue(
            uow,
            kind=kind,
            channel=channel,
            recipient=recipient,
            language=member.language or workspace.default_language,
            subject_id=invitation.id,
            organization_id=workspace.organization_id,
            workspace_id=workspace.id,
            payload=payload,
            now=now,
            charged=charged,
        )
