"""Objects the tests need, made through the services as an administrator would."""

from __future__ import annotations

from typing import Any

from admit.admin import invitations
from admit.admin.profiles import MemberInput
from admit.shared.context import Actor, Context


def invite(ctx: Context, actor: Actor, workspace: Any, email: str, *, message: str | None = None, **kw: Any) -> Any:
    """Invite ``email`` (with any member fields in ``kw``) to ``workspace``; returns the invitation."""
    invitation, _ = invitations.invite(ctx, actor, workspace.id, MemberInput(email=email, **kw), message=message)
    return invitation
