"""Objects the tests need, made through the services as an administrator would."""

from __future__ import annotations

from typing import Any

from admit.services import invitations
from admit.services.context import Actor, Context
from admit.services.profiles import MemberInput


def invite(ctx: Context, actor: Actor, workspace: Any, email: str, *, message: str | None = None, **kw: Any) -> Any:
    """Invite ``email`` (with any member fields in ``kw``) to ``workspace``; returns the invitation."""
    invitation, _ = invitations.invite(ctx, actor, workspace.id, MemberInput(email=email, **kw), message=message)
    return invitation
