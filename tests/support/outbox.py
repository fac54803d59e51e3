"""Reading what Admit would send, as a test (or an operator with `admit outbox list`) can."""

from __future__ import annotations

from typing import Any

from admit.shared.context import Context


def messages(ctx: Context, *, recipient: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    with ctx.uow() as uow:
        rows = [dict(r._mapping) for r in uow.outbox.list(limit=10_000)]
    rows.reverse()  # oldest first
    return [
        r for r in rows if (recipient is None or r["recipient"] == recipient) and (kind is None or r["kind"] == kind)
    ]


def token_for(ctx: Context, recipient: str) -> str:
    """The token in the newest invitation link sent to ``recipient``."""
    links = [str(m["payload"].get("link")) for m in messages(ctx, recipient=recipient)]
    return [link for link in links if "/i/" in link][-1].rsplit("/", 1)[1]


def code_for(ctx: Context, recipient: str) -> str:
    """The newest email verification code sent to ``recipient``."""
    return str(messages(ctx, recipient=recipient, kind="email_verification")[-1]["payload"]["code"])
